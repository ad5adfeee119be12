// admins: list (province, auditor), grant, revoke and TOTP enrolment (province only; the router
// enforces it).
#include "admin/operations.hpp"
#include "admin/provisioning.hpp"
#include "admin/totp.hpp"
#include "api.hpp"
#include "core/asio.hpp"
#include "store/admin_audited.hpp"

namespace govmail::admin::api {
namespace {

json grant_json(const store::AdminGrant& g) {
  return {{"address", g.address},
          {"role", role_name(g.role)},
          {"units", g.units},
          {"totp", g.totp_secret.has_value()}};  // enrolled or not; the secret never leaves
}

// An answer when `id` holds a role the caller may not manage (another province admin, the
// caller itself): its grant and second factor are changed from the CLI only.
awaitable<std::optional<HttpResponse>> refuse_grant_change(Call& c, store::AccountId id) {
  auto g = co_await c.admin().find_admin(id);
  if (!g && g.error() != store::StoreError::not_found) co_return store_fail(g.error(), "admin");
  if (g && !may_manage(c.who.role, g->role))
    co_return fail(403, "forbidden: the account holds an admin role you may not manage");
  co_return std::nullopt;
}

}  // namespace

awaitable<HttpResponse> admins_list(Call& c) {
  auto r = co_await c.admin().list_admins();
  if (!r) co_return store_fail(r.error(), "admins");
  json out = json::array();
  for (const auto& g : *r) out.push_back(grant_json(g));
  co_return ok(out);
}

// {"address","role": "province|unit|auditor","units"?: [codes]} (a unit admin needs units).
awaitable<HttpResponse> admins_grant(Call& c) {
  auto role = parse_role(c.body_text("role"));
  std::vector<std::string> units;
  if (c.body.is_object() && c.body.contains("units") && c.body["units"].is_array())
    for (const auto& u : c.body["units"])
      if (u.is_string() && !u.get<std::string>().empty()) units.push_back(u.get<std::string>());
  if (!role) co_return fail(400, "role is province, unit or auditor");
  if (*role == store::AdminRole::unit && units.empty())
    co_return fail(400, "a unit admin needs \"units\": [CODE, ...]");
  auto address = normalise_address(c.body_text("address"));  // named: GCC 12, docs/NOTES.md
  auto acc = co_await c.dir().find_account(address);
  if (!acc) co_return account_not_found();
  c.target = acc->address;
  if (auto refused = co_await refuse_grant_change(c, acc->id)) co_return *refused;
  c.detail = std::string("role ") + role_name(*role);
  for (const auto& u : units) c.detail += " " + u;
  auto r = co_await store::audited::set_admin(*c.s.db, acc->id, *role, units, c.entry());
  if (!r) co_return store_fail(r.error(), "admin");
  c.audit_written = true;
  auto g = co_await c.admin().find_admin(acc->id);
  if (!g) co_return store_fail(g.error(), "admin");
  co_return ok(grant_json(*g));
}

awaitable<HttpResponse> admins_revoke(Call& c) {
  auto address = normalise_address(c.params[0]);
  c.target = address;
  auto acc = co_await c.dir().find_account(address);
  if (!acc) co_return account_not_found();
  if (acc->id == c.who.id) co_return fail(409, "you cannot revoke your own role");
  if (auto refused = co_await refuse_grant_change(c, acc->id)) co_return *refused;
  auto r = co_await store::audited::remove_admin(*c.s.db, acc->id, c.entry());
  if (!r) co_return store_fail(r.error(), "admin " + acc->address);
  c.audit_written = true;
  co_return ok({{"revoked", acc->address}});
}

// A new TOTP secret for an admin (replacing any), returned once with its otpauth:// URI.
awaitable<HttpResponse> admins_totp(Call& c) {
  auto address = normalise_address(c.params[0]);
  c.target = address;
  auto acc = co_await c.dir().find_account(address);
  if (!acc) co_return account_not_found();
  // A first enrolment is how a new admin gets its factor; replacing the factor of an admin the
  // caller may not manage would hand the caller that admin's second factor.
  auto g = co_await c.admin().find_admin(acc->id);
  if (g && g->totp_secret)
    if (auto refused = co_await refuse_grant_change(c, acc->id)) co_return *refused;
  std::string secret = new_totp_secret();
  std::optional<std::string> stored = secret;
  c.detail = "new TOTP secret";
  auto r = co_await store::audited::set_totp_secret(*c.s.db, acc->id, stored, c.entry());
  if (!r) co_return store_fail(r.error(), "admin " + acc->address + " (grant a role first)");
  c.audit_written = true;
  co_return ok({{"address", acc->address},
                {"secret", secret},
                {"uri", otpauth_uri(c.s.cfg.admin.totp_issuer, acc->address, secret)}});
}

}  // namespace govmail::admin::api
