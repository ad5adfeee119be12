// govmail admin admins ... (roles and TOTP of administrators) and audit list.
#include <ctime>

#include "admin/operations.hpp"
#include "admin/totp.hpp"
#include "admin_cli.hpp"
#include "core/asio.hpp"
#include "runtime.hpp"
#include "store/admin_audited.hpp"

namespace govmail::app {
namespace {

using admin::role_name;

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at <= s.size();) {
    auto end = std::min(s.find(',', at), s.size());
    if (end > at) out.push_back(s.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

}  // namespace

awaitable<int> admins_grant(AdminContext& c) {
  auto role = take_option(c.args, "--role");
  auto units = take_option(c.args, "--units");
  if (c.args.size() != 1 || !role)
    co_return admin_usage_error(
        "admins grant ADDRESS --role province|unit|auditor [--units C1,C2]");
  auto parsed = admin::parse_role(*role);
  if (!parsed) co_return admin_usage_error("--role is province, unit or auditor");
  store::AdminRole r = *parsed;
  auto list = split_commas(units.value_or(""));
  if (r == store::AdminRole::unit && list.empty())
    co_return admin_usage_error("a unit admin needs --units CODE[,CODE...]");
  auto acc = co_await find_account_or_report(c, c.args[0]);
  if (!acc) co_return 1;
  c.audit_target = acc->address;
  c.audit_detail = std::string("role ") + role_name(r) + (units ? " units " + *units : "");
  auto res = co_await store::audited::set_admin(c.db, acc->id, r, list, c.entry());
  if (!res) co_return admin_fail(store_error(res.error(), "admin"));
  c.audit_written = true;
  std::printf("%s is now a %s admin\n", acc->address.c_str(), role_name(r));
  if (c.cfg.admin.require_totp)
    std::printf(
        "admin.require_totp is on: enrol a second factor with `govmail admin admins totp %s`\n",
        acc->address.c_str());
  co_return 0;
}

awaitable<int> admins_revoke(AdminContext& c) {
  if (c.args.size() != 1) co_return admin_usage_error("admins revoke ADDRESS");
  auto acc = co_await find_account_or_report(c, c.args[0]);
  if (!acc) co_return 1;
  c.audit_target = acc->address;
  auto r = co_await store::audited::remove_admin(c.db, acc->id, c.entry());
  if (!r) co_return admin_fail(store_error(r.error(), "admin " + acc->address));
  c.audit_written = true;
  std::printf("%s is no longer an admin\n", acc->address.c_str());
  co_return 0;
}

awaitable<int> admins_list(AdminContext& c) {
  auto r = co_await c.admin().list_admins();
  if (!r) co_return admin_fail(store_error(r.error(), "admins"));
  for (const auto& a : *r) {
    std::string units;
    for (const auto& u : a.units) units += (units.empty() ? "" : ",") + u;
    std::printf("%s\t%s\t%s\t%s\n", a.address.c_str(), role_name(a.role), units.c_str(),
                a.totp_secret ? "totp" : "no-totp");
  }
  co_return 0;
}

// Creates (or replaces) the TOTP secret and prints it once with its otpauth:// URI.
awaitable<int> admins_totp(AdminContext& c) {
  if (c.args.size() != 1) co_return admin_usage_error("admins totp ADDRESS");
  auto acc = co_await find_account_or_report(c, c.args[0]);
  if (!acc) co_return 1;
  c.audit_target = acc->address;
  c.audit_detail = "new TOTP secret";
  std::string secret = admin::new_totp_secret();
  auto r = co_await store::audited::set_totp_secret(c.db, acc->id, secret, c.entry());
  if (!r)
    co_return admin_fail(store_error(r.error(), "admin " + acc->address + " (grant a role first)"));
  c.audit_written = true;
  std::printf("secret: %s\nuri: %s\n", secret.c_str(),
              admin::otpauth_uri(c.cfg.admin.totp_issuer, acc->address, secret).c_str());
  co_return 0;
}

awaitable<int> audit_list(AdminContext& c) {
  auto target = take_option(c.args, "--target");
  auto action = take_option(c.args, "--action");
  auto limit = take_option(c.args, "--limit");
  if (!c.args.empty())
    co_return admin_usage_error("audit list [--target T] [--action PREFIX] [--limit N]");
  store::AuditQuery q{target, action, 1000};
  if (limit) {
    auto n = parse_count(*limit);
    if (!n) co_return admin_usage_error("--limit N");
    q.limit = *n;
  }
  auto r = co_await c.admin().audit_log(q);
  if (!r) co_return admin_fail(store_error(r.error(), "audit log"));
  for (const auto& e : *r) {
    char at[32];
    std::time_t t = e.at;
    std::strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    std::printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", at, e.actor.c_str(), e.source.c_str(),
                e.action.c_str(), e.target.c_str(), e.ok ? "ok" : "failed", e.detail.c_str());
  }
  co_return 0;
}

}  // namespace govmail::app
