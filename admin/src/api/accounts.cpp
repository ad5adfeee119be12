// accounts: list (domain, unit, status), export (CSV), show, add, suspend, restore, delete,
// password reset, quota. Every account outside a unit admin's units answers "account not found";
// an account holding an admin role the caller may not manage (may_manage) is never changed (403).
#include "admin/operations.hpp"
#include "api.hpp"
#include "core/asio.hpp"
#include "store/admin_audited.hpp"

namespace govmail::admin::api {
namespace {

// The change and its audit entry commit together (store/admin_audited.hpp).
awaitable<HttpResponse> change_status(Call& c, store::AccountStatus status) {
  auto found = co_await managed_account(c, c.params[0]);
  if (!found) co_return found.error();
  auto acc = &*found;
  c.target = acc->address;
  if (status == store::AccountStatus::deleted)
    c.detail = "kept " + std::to_string(c.s.cfg.admin.deleted_retention_days) + " days";
  auto r = co_await store::audited::set_account_status(*c.s.db, acc->id, status, c.entry());
  if (!r) co_return store_fail(r.error(), "account");
  c.audit_written = true;
  co_return ok({{"address", acc->address}, {"status", status_name(status)}});
}

std::optional<std::uint64_t> body_count(const json& body, const char* key) {
  if (!body.is_object() || !body.contains(key) || !body[key].is_number_unsigned()) return {};
  return body[key].get<std::uint64_t>();
}

}  // namespace

awaitable<HttpResponse> accounts_list(Call& c) {
  auto r = co_await scoped_accounts(c);
  if (!r) co_return r.error();
  json out = json::array();
  for (const auto& a : *r) out.push_back(account_json(a));
  c.detail = std::to_string(r->size()) + " accounts";
  co_return ok(out);
}

awaitable<HttpResponse> accounts_export(Call& c) {
  auto r = co_await scoped_accounts(c);
  if (!r) co_return r.error();
  HttpResponse out;
  out.content_type = "text/csv; charset=utf-8";
  out.body = export_csv(*r);
  c.detail = std::to_string(r->size()) + " accounts";
  co_return out;
}

awaitable<HttpResponse> account_show(Call& c) {
  auto acc = co_await scoped_account(c, c.params[0]);
  if (!acc) co_return account_not_found();
  c.target = acc->address;
  auto d = co_await c.admin().account_detail(acc->address);
  if (!d) co_return store_fail(d.error(), "account");
  json out = account_json(d->account);
  out["created_at"] = d->created_at;
  out["last_login_at"] = d->last_login_at ? json(*d->last_login_at) : json(nullptr);
  out["deleted_at"] = d->deleted_at ? json(*d->deleted_at) : json(nullptr);
  out["aliases"] = d->aliases;
  out["groups"] = d->groups;
  json apps = json::array();
  for (const auto& p : d->app_passwords) apps.push_back(p.name);
  out["app_passwords"] = apps;
  co_return ok(out);
}

// {"address","name","password"?,"quota_mb"?,"unit"?,"position"?,"must_change"?}; without a
// password a random one is made and returned once (must change at first login).
awaitable<HttpResponse> account_add(Call& c) {
  Provisioning::NewAccountRequest req;
  req.address = c.body_text("address");
  req.display_name = c.body_text("name");
  req.password = c.body_text("password");
  req.position = c.body_text("position");
  if (auto u = c.body_text("unit"); !u.empty()) req.unit_code = u;
  c.target = normalise_address(req.address);
  if (c.body.is_object() && c.body.contains("quota_mb")) {
    auto mb = body_count(c.body, "quota_mb");
    if (!mb || *mb > (1u << 20)) co_return fail(400, "quota_mb: a whole number of MB");
    req.quota_bytes = *mb << 20;
  }
  // A unit admin creates accounts only in its units (and the unit must be given), in the
  // domains it administers, and no role address.
  if (!co_await unit_in_scope(c, req.unit_code))
    co_return fail(403, "forbidden: unit outside your units");
  if (auto refused = co_await refuse_new_address(c, c.target)) co_return *refused;
  bool random = req.password.empty();
  if (random) req.password = core::random_password();
  req.must_change_password = random || (c.body.is_object() && c.body.value("must_change", false));
  std::string shown = random ? req.password : "";
  c.detail = req.unit_code ? "unit " + *req.unit_code : "";
  // Named: GCC 12 destroys a braced temporary in a co_await argument twice.
  Provisioning::Audit audit{*c.s.db, c.entry()};
  auto r = co_await c.s.prov.add_account(std::move(req), std::move(audit));
  if (!r && r.error().store) co_return store_fail(*r.error().store, "account " + c.target);
  if (!r)
    co_return fail(r.error().message.ends_with("already exists") ? 409
                   : r.error().message.ends_with("not found")    ? 404
                                                                 : 400,
                   r.error().message);
  c.audit_written = true;
  json out = account_json(*r);
  if (!shown.empty()) out["password"] = shown;
  co_return ok(out);
}

awaitable<HttpResponse> account_suspend(Call& c) {
  co_return co_await change_status(c, store::AccountStatus::suspended);
}
awaitable<HttpResponse> account_restore(Call& c) {
  co_return co_await change_status(c, store::AccountStatus::active);
}
awaitable<HttpResponse> account_delete(Call& c) {
  co_return co_await change_status(c, store::AccountStatus::deleted);
}

// {"password"?, "must_change"? (default true)}: without a password a random one is returned.
awaitable<HttpResponse> account_password(Call& c) {
  auto found = co_await managed_account(c, c.params[0]);
  if (!found) co_return found.error();
  auto acc = &*found;
  c.target = acc->address;
  std::string pw = c.body_text("password");
  bool random = pw.empty();
  if (random) pw = core::random_password();
  bool must_change = !c.body.is_object() || c.body.value("must_change", true);
  std::string shown = random ? pw : "";
  c.detail = must_change ? "password reset, must change at next login" : "password reset";
  // Named: GCC 12 destroys a braced temporary in a co_await argument twice.
  Provisioning::Audit audit{*c.s.db, c.entry()};
  auto r = co_await c.s.prov.reset_password(acc->id, std::move(pw), must_change, std::move(audit));
  if (!r && r.error().store) co_return store_fail(*r.error().store, "account " + acc->address);
  if (!r) co_return fail(400, r.error().message);
  c.audit_written = true;
  json out{{"address", acc->address}, {"must_change_password", must_change}};
  if (!shown.empty()) out["password"] = shown;
  co_return ok(out);
}

// {"quota_mb": N} (0 = unlimited)
awaitable<HttpResponse> account_quota(Call& c) {
  auto mb = body_count(c.body, "quota_mb");
  if (!mb || *mb > (1u << 20)) co_return fail(400, "expected {\"quota_mb\": N}");
  auto found = co_await managed_account(c, c.params[0]);
  if (!found) co_return found.error();
  auto acc = &*found;
  c.target = acc->address;
  c.detail = "quota_mb " + std::to_string(*mb);
  auto r = co_await store::audited::set_quota(*c.s.db, acc->id, *mb << 20, c.entry());
  if (!r) co_return store_fail(r.error(), "account");
  c.audit_written = true;
  co_return ok({{"address", acc->address}, {"quota_mb", *mb}});
}

}  // namespace govmail::admin::api
