// Provisioning operations shared by the admin CLI and (later) the admin HTTP API: validate the
// input, hash passwords off the io threads, and call the store's Directory.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/awaitable_fwd.hpp"
#include "core/result.hpp"
#include "store/admin_store.hpp"
#include "store/database.hpp"
#include "store/directory.hpp"

namespace govmail::admin {

struct AdminError {
  std::string message;  // for the operator: names what was wrong
  // The store's error when the store refused (the audited calls): a failed audit write is a
  // server error, not bad input.
  std::optional<store::StoreError> store;
  AdminError() = default;
  AdminError(std::string m, std::optional<store::StoreError> e = std::nullopt)
      : message(std::move(m)), store(e) {}
};
template <class T>
using AdminResult = govmail::Result<T, AdminError>;

// Lower-case LDH labels, at least two, each 1..63, total <= 253.
bool valid_domain_name(std::string_view name);
// ASCII local part: letters, digits, '.', '-', '_', '+'; no leading/trailing/double dot; <= 64.
bool valid_local_part(std::string_view local);
// A role address of a domain (RFC 2142 and the like: postmaster, abuse, hostmaster, webmaster,
// ...): only province admins give it out. Compared before any "+tag", ignoring '.', '-' and '_',
// so that "post.master+x" counts too.
bool reserved_local_part(std::string_view local);
std::string normalise_address(std::string_view address);  // trim + lower-case

using PasswordHasher = std::function<awaitable<std::string>(std::string password)>;

class Provisioning {
 public:
  Provisioning(store::Directory& dir, PasswordHasher hasher)
      : dir_(dir), hash_(std::move(hasher)) {}

  awaitable<AdminResult<store::Domain>> add_domain(std::string name);
  struct NewAccountRequest {
    std::string address;
    std::string display_name;
    std::string password;
    std::uint64_t quota_bytes = 0;
    bool must_change_password = false;
    std::optional<std::string> unit_code;  // must exist
    std::string position;
  };
  awaitable<AdminResult<store::Account>> add_account(NewAccountRequest req);
  // At least 8 characters; hashed with the hasher; flushes every auth cache (credentials_version).
  awaitable<AdminResult<void>> reset_password(store::AccountId id, std::string password,
                                              bool must_change);

  // The same with the change's audit entry in its transaction (store/admin_audited.hpp): what
  // an administrator does; the ones above are for the demo seed and a user's own password.
  struct Audit {
    store::Database& db;
    store::AuditEntry entry;
  };
  awaitable<AdminResult<store::Domain>> add_domain(std::string name, Audit audit);
  awaitable<AdminResult<void>> reset_password(store::AccountId id, std::string password,
                                              bool must_change, Audit audit);
  awaitable<AdminResult<store::Account>> add_account(NewAccountRequest req, Audit audit);

 private:
  AdminResult<std::string> checked_domain(std::string name) const;
  // Validated, in an existing domain, the password hashed.
  awaitable<AdminResult<store::NewAccount>> checked_account(NewAccountRequest req);
  store::Directory& dir_;
  PasswordHasher hash_;
};

}  // namespace govmail::admin
