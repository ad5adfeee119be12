// AdminStore on PostgreSQL.
#pragma once
#include <memory>

#include "pg/pg.hpp"
#include "store/admin_store.hpp"

namespace govmail::store {

namespace detail {
// A row of GOVMAIL_GROUP_COLUMNS (sql/admin_sql.hpp).
Group parse_group(const pg::Rows& r, int i);
// The row of sql::kMergeDomain.
MergeReport parse_merge(const pg::Rows& rows);
// Upserts the units (parents first) and re-derives the automatic groups, on `c`'s transaction.
awaitable<pg::PgResultOr<ImportCounts>> upsert_units(pg::Connection& c,
                                                     const std::vector<OrgUnit>& units);
}  // namespace detail

class LoginAuditWriter;

class PgAdminStore final : public AdminStore {
 public:
  explicit PgAdminStore(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}
  // The Database's pool, for the archive store (store::archive_of).
  const std::shared_ptr<pg::Pool>& pool() const { return pool_; }
  // The Database's protocol-login writer (store/login_audit.hpp); null on a temporary store.
  void set_login_audit(std::shared_ptr<LoginAuditWriter> w) { login_audit_ = std::move(w); }
  LoginAuditWriter* login_audit() const { return login_audit_.get(); }

  awaitable<Result<ImportCounts>> import_units(std::vector<OrgUnit> units) override;
  awaitable<Result<std::vector<OrgUnit>>> list_units() override;
  awaitable<Result<MergeReport>> merge_domain(std::string old_domain,
                                              std::string new_domain) override;
  awaitable<Result<std::vector<Account>>> list_accounts(AccountFilter filter) override;
  awaitable<Result<AccountDetail>> account_detail(std::string address) override;
  awaitable<Result<void>> set_profile(AccountId id, std::string display_name,
                                      std::optional<std::string> unit_code,
                                      std::string position) override;
  awaitable<Result<void>> rename_account(AccountId id, std::string new_address,
                                         bool keep_alias) override;
  awaitable<Result<void>> set_account_status(AccountId id, AccountStatus status) override;
  awaitable<Result<std::vector<std::string>>> set_status_many(std::vector<std::string> addresses,
                                                              AccountStatus status) override;
  awaitable<Result<std::vector<std::string>>> purge_deleted(int retention_days) override;
  awaitable<Result<std::vector<Account>>> unused_accounts(std::string domain, int days) override;
  awaitable<Result<std::vector<std::string>>> aliases_of(AccountId id) override;
  awaitable<Result<void>> remove_alias(std::string alias) override;
  awaitable<Result<AppPassword>> add_app_password(AccountId id, std::string name,
                                                  std::string password_hash) override;
  awaitable<Result<void>> remove_app_password(AccountId id, std::string name) override;
  awaitable<Result<Group>> add_group(Group group) override;
  awaitable<Result<std::vector<Group>>> list_groups(std::string domain) override;
  awaitable<Result<std::vector<std::string>>> group_members(std::string group) override;
  awaitable<Result<void>> add_member(std::string group, std::string account) override;
  awaitable<Result<void>> remove_member(std::string group, std::string account) override;
  awaitable<Result<void>> add_sender(std::string group, std::string account) override;
  awaitable<Result<void>> set_send_policy(std::string group, SendPolicy policy) override;
  awaitable<Result<void>> delete_group(std::string group) override;
  awaitable<Result<std::vector<std::string>>> taken_addresses(std::string domain) override;
  awaitable<Result<void>> apply_import(ImportBatch batch,
                                       std::function<void(std::size_t)> progress) override;
  awaitable<Result<void>> set_admin(AccountId id, AdminRole role,
                                    std::vector<std::string> units) override;
  awaitable<Result<void>> remove_admin(AccountId id) override;
  awaitable<Result<AdminGrant>> find_admin(AccountId id) override;
  awaitable<Result<std::vector<AdminGrant>>> list_admins() override;
  awaitable<Result<void>> set_totp_secret(AccountId id, std::optional<std::string> secret) override;
  awaitable<Result<bool>> use_totp_step(AccountId id, std::int64_t step) override;
  awaitable<Result<bool>> unit_within(std::string unit, std::vector<std::string> units) override;
  awaitable<Result<std::vector<std::string>>> domains_of_units(
      std::vector<std::string> units) override;
  awaitable<Result<void>> record_login(AccountId id) override;  // admin_login_pg.cpp
  awaitable<Result<void>> audit(AuditEntry entry) override;
  awaitable<Result<std::vector<AuditEntry>>> audit_log(AuditQuery query) override;

 private:
  std::shared_ptr<pg::Pool> pool_;
  std::shared_ptr<LoginAuditWriter> login_audit_;
};

}  // namespace govmail::store
