// The admin API's route table and dispatcher: it authenticates, enforces the role's access level,
// runs the handler and writes the audit entry. Handlers check the unit scope themselves.
#include <spdlog/spdlog.h>

#include "admin/api.hpp"
#include "api.hpp"
#include "core/asio.hpp"

namespace govmail::admin::api {
namespace {

constexpr std::string_view kBase = "/admin/api";

// read: every role; write: province and unit admins (scope checked by the handler);
// province: province admins only; audit: province admins and auditors.
enum class Access { read, write, province, audit };

struct Route {
  std::string_view method;
  std::string_view pattern;  // below /admin/api; ":x" captures one segment
  std::string_view action;   // the audit action, as in the CLI
  Access access;
  Handler run;
  bool audited = true;
};

constexpr Route kRoutes[] = {
    {"GET", "units", "unit.list", Access::read, units_list},
    {"POST", "units/import", "unit.import", Access::province, units_import},
    {"GET", "domains", "domain.list", Access::read, domains_list},
    {"POST", "domains", "domain.add", Access::province, domains_add},
    {"POST", "domains/merge", "domain.merge", Access::province, domains_merge},
    {"GET", "accounts", "account.list", Access::read, accounts_list},
    {"POST", "accounts", "account.add", Access::write, account_add},
    {"GET", "accounts/:address", "account.show", Access::read, account_show},
    {"DELETE", "accounts/:address", "account.delete", Access::write, account_delete},
    {"POST", "accounts/:address/suspend", "account.suspend", Access::write, account_suspend},
    {"POST", "accounts/:address/restore", "account.restore", Access::write, account_restore},
    {"POST", "accounts/:address/password", "account.password", Access::write, account_password},
    {"POST", "accounts/:address/quota", "account.quota", Access::write, account_quota},
    {"POST", "accounts/:address/rename", "account.rename", Access::write, account_rename},
    {"POST", "accounts/:address/profile", "account.set", Access::write, account_profile},
    {"GET", "accounts/:address/aliases", "alias.list", Access::read, alias_list},
    {"POST", "accounts/:address/aliases", "alias.add", Access::write, alias_add},
    {"DELETE", "accounts/:address/aliases/:alias", "alias.remove", Access::write, alias_remove},
    {"POST", "accounts/:address/app-passwords", "app-password.add", Access::write,
     app_password_add},
    {"DELETE", "accounts/:address/app-passwords/:name", "app-password.remove", Access::write,
     app_password_remove},
    {"GET", "unused", "account.unused", Access::read, unused_list},
    {"POST", "unused/suspend", "account.unused", Access::write, unused_suspend},
    {"POST", "bulk/suspend", "account.bulk-suspend", Access::write, bulk_suspend},
    {"POST", "bulk/restore", "account.bulk-restore", Access::write, bulk_restore},
    {"GET", "export", "account.export", Access::read, accounts_export},
    {"GET", "groups", "group.list", Access::read, groups_list},
    {"POST", "groups", "group.add", Access::write, group_add},
    {"DELETE", "groups/:group", "group.delete", Access::write, group_delete},
    {"GET", "groups/:group/members", "group.members", Access::read, group_members},
    {"POST", "groups/:group/members", "group.member-add", Access::write, group_member_add},
    {"DELETE", "groups/:group/members/:account", "group.member-remove", Access::write,
     group_member_remove},
    {"POST", "groups/:group/senders", "group.sender-add", Access::write, group_sender_add},
    {"POST", "groups/:group/policy", "group.policy", Access::write, group_policy},
    {"POST", "import", "import", Access::write, bulk_import},  // unit admins: their units only
    {"GET", "admins", "admins.list", Access::audit, admins_list},
    {"POST", "admins", "admins.grant", Access::province, admins_grant},
    {"DELETE", "admins/:address", "admins.revoke", Access::province, admins_revoke},
    {"POST", "admins/:address/totp", "admins.totp", Access::province, admins_totp},
    {"POST", "purge", "account.purge", Access::province, account_purge},
    {"GET", "archive/journal", "archive.search", Access::audit, journal_search},
    {"GET", "archive/journal/:id", "archive.view", Access::audit, journal_view},
    {"GET", "archive/export", "archive.export", Access::audit, journal_export},
    {"GET", "audit", "audit.list", Access::audit, audit_list, false},
    {"GET", "audit/log", "audit.list", Access::audit, audit_query, false},
    {"GET", "queue", "queue.list", Access::province, queue_list, false},
    {"GET", "queue/:id", "queue.show", Access::province, queue_show, false},
    {"POST", "queue/:id/retry", "queue.retry", Access::province, queue_retry},
    {"DELETE", "queue/:id", "queue.delete", Access::province, queue_delete},
    {"GET", "search/stats", "search.stats", Access::province, search_stats, false},
};

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    auto slash = path.find('/');
    if (slash != 0) out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

// Matches the path against the table; `path_known` tells 405 from 404.
const Route* match(std::string_view method, std::string_view path, std::vector<std::string>& params,
                   bool& path_known) {
  auto segs = split(path);
  for (const auto& r : kRoutes) {
    auto pat = split(r.pattern);
    if (pat.size() != segs.size()) continue;
    std::vector<std::string> caps;
    bool same = true;
    for (std::size_t i = 0; i < pat.size() && same; ++i) {
      if (pat[i].starts_with(':'))
        caps.push_back(percent_decode(segs[i], false));
      else
        same = pat[i] == segs[i];
    }
    if (!same) continue;
    path_known = true;
    if (r.method != method) continue;
    params = std::move(caps);
    return &r;
  }
  return nullptr;
}

bool allowed(Access a, store::AdminRole role) {
  switch (a) {
    case Access::read:
      return true;
    case Access::write:
      return role != store::AdminRole::auditor;
    case Access::province:
      return role == store::AdminRole::province;
    default:
      return role != store::AdminRole::unit;
  }
}

awaitable<HttpResponse> dispatch(Shared& s, const HttpRequest& req) {
  std::string_view path = std::string_view(req.path).substr(kBase.size());
  if (path == "/login" && req.method == "POST") co_return co_await login(s, req);
  if (path == "/logout" && req.method == "POST") co_return co_await logout(s, req);
  if (path == "/password" && req.method == "POST") co_return co_await change_password(s, req);
  std::vector<std::string> params;
  bool known = false;
  const Route* route = match(req.method, path, params, known);
  if (!route) co_return fail(known ? 405 : 404, known ? "method not allowed" : "no such resource");
  auto who = co_await authenticate(s, req);
  if (!who) {
    auto out = fail(401, "sign in first: POST /admin/api/login, then Authorization: Bearer");
    out.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"govmail admin\"");
    co_return out;
  }
  Call call{s, req, std::move(params), std::move(*who), json(), {}, {}, route->action, false};
  if (req.header("Content-Type").starts_with("application/json"))
    call.body = json::parse(req.body, nullptr, false);
  if (!call.params.empty()) call.target = call.params[0];
  HttpResponse out = fail(403, "forbidden: your role may not do this");
  if (call.who.must_change_password)
    out = fail(403, "password change required: POST /admin/api/password first");
  else if (allowed(route->access, call.who.role))
    out = co_await route->run(call);
  if (route->audited && !(call.audit_written && out.status < 400)) {
    store::AuditEntry e{
        0,           0,           call.who.address, req.remote_address, std::string(route->action),
        call.target, call.detail, out.status < 400};
    if (out.status >= 400 && e.detail.empty()) e.detail = "HTTP " + std::to_string(out.status);
    if (!co_await s.db->admin().audit(std::move(e)))
      co_return fail(503, out.status < 400 ? "the action ran but the audit log could not be written"
                                           : "refused, and the audit log could not be written");
  }
  co_return out;
}

}  // namespace
}  // namespace govmail::admin::api

namespace govmail::admin {

void register_admin_api(core::Router& router, AdminApiDeps deps) {
  // Argon2id on the AuthService worker pool, never on an io thread.
  Provisioning prov(deps.db->directory(),
                    [&auth = deps.auth](std::string pw) { return auth.hash(std::move(pw)); });
  // Braces, not make_shared's parentheses: clang 14 (the fuzz build) has no parenthesised
  // aggregate initialisation.
  std::shared_ptr<api::Shared> shared(
      new api::Shared{deps.cfg, deps.db, deps.auth, std::move(prov), {}, deps.search});
  router.add("*", std::string(api::kBase),
             [shared](const core::HttpRequest& req) { return api::dispatch(*shared, req); });
}

}  // namespace govmail::admin
