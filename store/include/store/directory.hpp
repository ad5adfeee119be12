// Domains, accounts, aliases, groups and org units: who exists and how to reach them.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "store/admin_store.hpp"  // SendPolicy
#include "store/error.hpp"
#include "store/types.hpp"

namespace govmail::store {

// What an address resolves to for delivery: accounts (aliases and groups expanded once).
struct Resolution {
  std::vector<AccountId> accounts;  // unique, sorted
  bool is_group = false;
};

// What SMTP needs at RCPT time: the accounts an address reaches with their quota, in one query
// (a group of thousands is expanded once, not queried per member).
struct RecipientAccount {
  AccountId id = 0;
  std::uint64_t quota_bytes = 0;  // 0 = unlimited
  std::uint64_t used_bytes = 0;
  std::string address;  // the account's own address (a bounce names the member left out)
};
struct RecipientResolution {
  std::vector<RecipientAccount> accounts;  // unique, sorted by id
  bool is_group = false;
  SendPolicy send_policy = SendPolicy::anyone;  // a group's: who may send to it
  std::string domain;  // the address's canonical domain (an alias domain resolved to its target)
};

class Directory {
 public:
  virtual ~Directory() = default;

  virtual awaitable<Result<Domain>> add_domain(std::string name) = 0;
  virtual awaitable<Result<Domain>> find_domain(std::string name) = 0;
  virtual awaitable<Result<std::vector<Domain>>> list_domains() = 0;

  // Creates the account with INBOX, Sent, Drafts, Trash, Junk and Archive.
  virtual awaitable<Result<Account>> add_account(NewAccount account) = 0;
  virtual awaitable<Result<Account>> find_account(std::string address) = 0;
  virtual awaitable<Result<Account>> get_account(AccountId id) = 0;
  virtual awaitable<Result<std::vector<Account>>> list_accounts(std::string domain) = 0;
  virtual awaitable<Result<Credentials>> credentials(std::string address) = 0;
  // Both bump credentials_version and notify every process (auth caches flush).
  virtual awaitable<Result<void>> set_password(AccountId id, std::string password_hash,
                                               bool must_change) = 0;
  virtual awaitable<Result<void>> set_status(AccountId id, AccountStatus status) = 0;
  virtual awaitable<Result<void>> set_quota(AccountId id, std::uint64_t quota_bytes) = 0;

  virtual awaitable<Result<void>> add_alias(std::string alias, AccountId target) = 0;

  // Resolves an address (account, alias, group, alias domain) to accounts; not_found if none.
  virtual awaitable<Result<Resolution>> resolve(std::string address) = 0;

  // resolve() with each account's quota and usage (SMTP RCPT); not_found if none.
  virtual awaitable<Result<RecipientResolution>> resolve_recipient(std::string address) = 0;
  // Whether the account may use `address` as sender (envelope and From:): its own address, one
  // of its aliases (also through an alias domain), or a group that lists it in group_senders.
  virtual awaitable<Result<bool>> may_send_as(AccountId account, std::string address) = 0;
};

}  // namespace govmail::store
