// Administration data: org units, domain merges, account lifecycle (rename, delete with
// retention, purge), groups (manual and automatic per unit), app passwords, administrators and
// the append-only audit log, and the one-transaction bulk import. Directory keeps what the
// protocols need (lookups, credentials, resolve); this is what only administrators touch.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "store/error.hpp"
#include "store/types.hpp"

namespace govmail::store {

struct OrgUnit {
  std::string code;  // 2 digits: province, 5 digits: commune; longer: a department
  std::string name;  // NFC
  std::optional<std::string> parent_code;
  std::string kind;  // province, commune, department, other
  bool operator==(const OrgUnit&) const = default;
};

struct ImportCounts {
  std::size_t created = 0, updated = 0, unchanged = 0;
};

struct AccountFilter {
  std::string domain;               // required
  std::optional<std::string> unit;  // this unit and every unit below it
  std::optional<AccountStatus> status;
};

struct AppPassword {
  std::int64_t id = 0;
  std::string name;
  UnixTime created_at = 0;
  std::optional<UnixTime> last_used_at;
};

struct AccountDetail {
  Account account;
  UnixTime created_at = 0;
  std::optional<UnixTime> last_login_at;
  std::optional<UnixTime> deleted_at;
  std::vector<std::string> aliases;
  std::vector<std::string> groups;  // group addresses the account is a member of
  std::vector<AppPassword> app_passwords;
};

// send_policy: who may send to the group.
enum class SendPolicy { anyone = 0, same_domain = 1, members = 2, senders = 3 };

struct Group {
  std::int64_t id = 0;
  std::string address;
  std::string display_name;
  SendPolicy send_policy = SendPolicy::anyone;
  std::optional<std::string> unit_code;  // automatic: every account of this unit and below
  std::size_t members = 0;
};

struct MergeReport {
  std::vector<std::string> collisions;  // local parts taken in both domains: nothing was changed
  std::size_t accounts = 0, aliases = 0, groups = 0;
};

enum class AdminRole { province = 0, unit = 1, auditor = 2 };

struct AdminGrant {
  AccountId account_id = 0;
  std::string address;
  AdminRole role = AdminRole::auditor;
  std::vector<std::string> units;          // unit admins: the units they manage (and below)
  std::optional<std::string> totp_secret;  // base32; never logged
  // Change on a password or status change (accounts.credentials_version) and on a grant or a
  // role change (grant_serial): an admin session is valid only while both are unchanged.
  std::uint64_t credentials_version = 0;
  std::int64_t grant_serial = 0;
};

struct AuditEntry {
  std::int64_t id = 0;
  UnixTime at = 0;
  std::string actor;   // "cli:<os user>" or the administrator's address
  std::string source;  // "cli@<host>" or the client address
  std::string action;  // "account.add", "import.apply", ...
  std::string target;
  std::string detail;  // never a password
  bool ok = true;
};

struct AuditQuery {
  std::optional<std::string> target;
  std::optional<std::string> action_prefix;
  std::size_t limit = 1000;
};

// One bulk import, applied in a single transaction: all of it or nothing.
struct ImportBatch {
  std::vector<NewAccount> creates;  // password hashes already computed
  struct Update {
    AccountId id = 0;
    std::string display_name;
    std::optional<std::string> unit_code;
    std::string position;
    std::uint64_t quota_bytes = 0;
  };
  std::vector<Update> updates;
  std::vector<std::pair<std::string, std::string>> memberships;  // {account, group} addresses
  AuditEntry audit;                                              // written in the same transaction
  // When set, the hashes of creates[from, to) come from here, asked for just before that batch
  // is written (creates' password_hash is then ignored): hashing overlaps the database writes.
  // An empty hash aborts the import.
  std::function<awaitable<std::vector<std::string>>(std::size_t from, std::size_t to)> hashes;
};

class AdminStore {
 public:
  virtual ~AdminStore() = default;

  // Upserts in the given order (parents first); automatic groups are re-derived.
  virtual awaitable<Result<ImportCounts>> import_units(std::vector<OrgUnit> units) = 0;
  virtual awaitable<Result<std::vector<OrgUnit>>> list_units() = 0;

  // Moves OLD's accounts, aliases and groups to NEW and makes OLD an alias domain of NEW (mail to
  // local@OLD keeps arriving). Refuses (collisions filled, nothing changed) when a local part
  // exists in both.
  virtual awaitable<Result<MergeReport>> merge_domain(std::string old_domain,
                                                      std::string new_domain) = 0;

  virtual awaitable<Result<std::vector<Account>>> list_accounts(AccountFilter filter) = 0;
  virtual awaitable<Result<AccountDetail>> account_detail(std::string address) = 0;
  virtual awaitable<Result<void>> set_profile(AccountId id, std::string display_name,
                                              std::optional<std::string> unit_code,
                                              std::string position) = 0;
  // New address in an existing domain; keep_alias leaves the old address delivering.
  virtual awaitable<Result<void>> rename_account(AccountId id, std::string new_address,
                                                 bool keep_alias) = 0;
  // active / suspended / deleted (deleted: kept until purge_deleted after the retention).
  // Bumps credentials_version and notifies every process.
  virtual awaitable<Result<void>> set_account_status(AccountId id, AccountStatus status) = 0;
  // Several accounts in one transaction; returns the addresses not found (nothing else fails).
  virtual awaitable<Result<std::vector<std::string>>> set_status_many(
      std::vector<std::string> addresses, AccountStatus status) = 0;
  // Deleted more than retention_days ago: removed with their mail. Returns their addresses.
  virtual awaitable<Result<std::vector<std::string>>> purge_deleted(int retention_days) = 0;
  // Active accounts not logged in for `days` (never logged in: counted from creation).
  virtual awaitable<Result<std::vector<Account>>> unused_accounts(std::string domain, int days) = 0;

  virtual awaitable<Result<std::vector<std::string>>> aliases_of(AccountId id) = 0;
  virtual awaitable<Result<void>> remove_alias(std::string alias) = 0;

  virtual awaitable<Result<AppPassword>> add_app_password(AccountId id, std::string name,
                                                          std::string password_hash) = 0;
  virtual awaitable<Result<void>> remove_app_password(AccountId id, std::string name) = 0;

  virtual awaitable<Result<Group>> add_group(Group group) = 0;
  virtual awaitable<Result<std::vector<Group>>> list_groups(std::string domain) = 0;
  virtual awaitable<Result<std::vector<std::string>>> group_members(std::string group) = 0;
  virtual awaitable<Result<void>> add_member(std::string group, std::string account) = 0;
  virtual awaitable<Result<void>> remove_member(std::string group, std::string account) = 0;
  virtual awaitable<Result<void>> add_sender(std::string group, std::string account) = 0;
  virtual awaitable<Result<void>> delete_group(std::string group) = 0;
  virtual awaitable<Result<void>> set_send_policy(std::string group, SendPolicy policy) = 0;

  // Every address taken in a domain (accounts, aliases, groups), for local-part allocation.
  virtual awaitable<Result<std::vector<std::string>>> taken_addresses(std::string domain) = 0;
  // `progress` is called on the io thread with the number of creates applied so far.
  virtual awaitable<Result<void>> apply_import(ImportBatch batch,
                                               std::function<void(std::size_t)> progress) = 0;

  virtual awaitable<Result<void>> set_admin(AccountId id, AdminRole role,
                                            std::vector<std::string> units) = 0;
  virtual awaitable<Result<void>> remove_admin(AccountId id) = 0;
  virtual awaitable<Result<AdminGrant>> find_admin(AccountId id) = 0;
  virtual awaitable<Result<std::vector<AdminGrant>>> list_admins() = 0;
  virtual awaitable<Result<void>> set_totp_secret(AccountId id,
                                                  std::optional<std::string> secret) = 0;
  // Records TOTP time step `step` as used by admin `id`: false when that step or a later one was
  // used before (a replayed code), in any govmail process.
  virtual awaitable<Result<bool>> use_totp_step(AccountId id, std::int64_t step) = 0;
  // The domains holding an account (any status) of one of `units` or a unit below: the domains
  // a unit admin of those units administers.
  virtual awaitable<Result<std::vector<std::string>>> domains_of_units(
      std::vector<std::string> units) = 0;
  // Whether `unit` is one of `units` or lies below one of them.
  virtual awaitable<Result<bool>> unit_within(std::string unit, std::vector<std::string> units) = 0;

  // A successful login (admin API, SMTP AUTH, IMAP LOGIN): sets accounts.last_login_at, which
  // unused_accounts reads. At most one write a minute per account.
  virtual awaitable<Result<void>> record_login(AccountId id) = 0;

  virtual awaitable<Result<void>> audit(AuditEntry entry) = 0;
  virtual awaitable<Result<std::vector<AuditEntry>>> audit_log(AuditQuery query) = 0;
};

}  // namespace govmail::store
