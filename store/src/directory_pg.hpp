// Directory on PostgreSQL.
#pragma once
#include <memory>

#include "pg/pg.hpp"
#include "query.hpp"
#include "store/address_book.hpp"
#include "store/directory.hpp"

namespace govmail::store {

namespace detail {
// Lower-case ASCII domain; invalid when it is not a host name (IDNA is the caller's).
Result<std::string> normalise_domain(std::string name);
// The parameters of sql::kAddAccount; invalid for a bad address, an empty hash or a control
// character in the name.
Result<Params> add_account_params(NewAccount a);
}  // namespace detail

class PgDirectory final : public Directory {
 public:
  explicit PgDirectory(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

  awaitable<Result<Domain>> add_domain(std::string name) override;
  awaitable<Result<Domain>> find_domain(std::string name) override;
  awaitable<Result<std::vector<Domain>>> list_domains() override;
  // store::address_book (store/address_book.hpp): not in Directory, which every front end
  // includes.
  awaitable<Result<std::vector<AddressBookEntry>>> address_book(std::size_t limit);
  awaitable<Result<Account>> add_account(NewAccount account) override;
  awaitable<Result<Account>> find_account(std::string address) override;
  awaitable<Result<Account>> get_account(AccountId id) override;
  awaitable<Result<std::vector<Account>>> list_accounts(std::string domain) override;
  awaitable<Result<Credentials>> credentials(std::string address) override;
  awaitable<Result<void>> set_password(AccountId id, std::string password_hash,
                                       bool must_change) override;
  awaitable<Result<void>> set_status(AccountId id, AccountStatus status) override;
  awaitable<Result<void>> set_quota(AccountId id, std::uint64_t quota_bytes) override;
  awaitable<Result<void>> add_alias(std::string alias, AccountId target) override;
  awaitable<Result<Resolution>> resolve(std::string address) override;
  // In directory_sender_pg.cpp:
  awaitable<Result<RecipientResolution>> resolve_recipient(std::string address) override;
  awaitable<Result<bool>> may_send_as(AccountId account, std::string address) override;

 private:
  std::shared_ptr<pg::Pool> pool_;
};

}  // namespace govmail::store
