// Shared by the `govmail admin` command files: the context every handler gets and the small
// helpers they use to report errors. The command table is in cmd_admin.cpp.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

#include "admin/provisioning.hpp"
#include "core/awaitable_fwd.hpp"
#include "core/config.hpp"
#include "store/admin_store.hpp"
#include "store/database.hpp"
#include "store/directory.hpp"

namespace govmail::app {

struct AdminContext {
  store::Database& db;
  admin::Provisioning& prov;
  const core::Config& cfg;
  std::vector<std::string> args;  // after "<object> <verb>"
  std::string actor, source;      // for the audit log
  // Set by handlers for the audit entry the dispatcher writes after the command.
  std::string audit_target;
  std::string audit_detail;
  std::string action;  // "account.suspend", ...
  // Set when the change wrote its entry in its own transaction (store/admin_audited.hpp): the
  // dispatcher then writes none.
  bool audit_written = false;
  store::AdminStore& admin() { return db.admin(); }
  store::AuditEntry entry() const {
    return {0, 0, actor, source, action, audit_target, audit_detail, true};
  }
};

using AdminHandler = awaitable<int> (*)(AdminContext&);

int admin_usage_error(const std::string& what);
int admin_fail(const std::string& what);
std::string store_error(store::StoreError e, const std::string& what);

// Finds an account by address or prints "account X not found" and returns nullopt.
awaitable<std::optional<store::Account>> find_account_or_report(AdminContext& c,
                                                                const std::string& address);
std::optional<std::string> read_secret_stdin();
std::optional<std::uint64_t> parse_count(const std::string& s);

// Handlers, by file.
awaitable<int> account_show(AdminContext& c);
awaitable<int> mail_import(AdminContext& c);
awaitable<int> account_filter_list(AdminContext& c);
awaitable<int> account_rename(AdminContext& c);
awaitable<int> account_suspend(AdminContext& c);
awaitable<int> account_restore(AdminContext& c);
awaitable<int> account_delete(AdminContext& c);
awaitable<int> account_purge(AdminContext& c);
awaitable<int> account_password(AdminContext& c);
awaitable<int> account_quota(AdminContext& c);
awaitable<int> account_set(AdminContext& c);
awaitable<int> account_unused(AdminContext& c);
awaitable<int> account_export(AdminContext& c);
awaitable<int> account_bulk_suspend(AdminContext& c);
awaitable<int> account_bulk_restore(AdminContext& c);
awaitable<int> alias_add(AdminContext& c);
awaitable<int> alias_remove(AdminContext& c);
awaitable<int> alias_list(AdminContext& c);
awaitable<int> app_password_add(AdminContext& c);
awaitable<int> app_password_remove(AdminContext& c);
awaitable<int> group_add(AdminContext& c);
awaitable<int> group_list(AdminContext& c);
awaitable<int> group_members(AdminContext& c);
awaitable<int> group_member_add(AdminContext& c);
awaitable<int> group_member_remove(AdminContext& c);
awaitable<int> group_sender_add(AdminContext& c);
awaitable<int> group_delete(AdminContext& c);
awaitable<int> group_policy(AdminContext& c);
awaitable<int> unit_import(AdminContext& c);
awaitable<int> unit_list(AdminContext& c);
awaitable<int> domain_merge(AdminContext& c);
awaitable<int> bulk_import(AdminContext& c);
awaitable<int> admins_grant(AdminContext& c);
awaitable<int> admins_revoke(AdminContext& c);
awaitable<int> admins_list(AdminContext& c);
awaitable<int> admins_totp(AdminContext& c);
awaitable<int> audit_list(AdminContext& c);
awaitable<int> queue_list(AdminContext& c);
awaitable<int> search_stats(AdminContext& c);
awaitable<int> search_reindex(AdminContext& c);
awaitable<int> search_query(AdminContext& c);
awaitable<int> queue_show(AdminContext& c);
awaitable<int> queue_retry(AdminContext& c);
awaitable<int> queue_delete(AdminContext& c);
awaitable<int> dkim_generate(AdminContext& c);
awaitable<int> dkim_list(AdminContext& c);

}  // namespace govmail::app
