// GET units, POST units/import (CSV body code,name,parent_code), and the domains.
#include "admin/operations.hpp"
#include "api.hpp"
#include "core/asio.hpp"
#include "store/admin_audited.hpp"

namespace govmail::admin::api {

awaitable<HttpResponse> units_list(Call& c) {
  auto r = co_await c.admin().list_units();
  if (!r) co_return store_fail(r.error(), "units");
  auto parent = c.query("parent");
  json out = json::array();
  for (const auto& u : *r)
    if (!parent || u.parent_code == parent)
      out.push_back({{"code", u.code},
                     {"name", u.name},
                     {"parent", u.parent_code ? json(*u.parent_code) : json(nullptr)},
                     {"kind", u.kind}});
  co_return ok(out);
}

json bad_rows_json(const std::vector<BadRow>& bad) {
  json out = json::array();
  for (const auto& b : bad) out.push_back({{"line", b.line}, {"reason", b.reason}});
  return out;
}

awaitable<HttpResponse> units_import(Call& c) {
  auto existing = co_await c.admin().list_units();
  if (!existing) co_return store_fail(existing.error(), "units");
  auto plan = plan_unit_import(c.req.body, *existing);
  c.target = "units";
  if (!plan.bad.empty()) {
    c.detail = std::to_string(plan.bad.size()) + " bad row(s): nothing imported";
    co_return HttpResponse::json(
        422, json{{"error", c.detail}, {"bad", bad_rows_json(plan.bad)}}.dump());
  }
  auto counts = co_await store::audited::import_units(*c.s.db, std::move(plan.units), c.entry());
  if (!counts) co_return store_fail(counts.error(), "unit import");
  c.audit_written = true;
  co_return ok({{"created", counts->created},
                {"updated", counts->updated},
                {"unchanged", counts->unchanged}});
}

awaitable<HttpResponse> domains_list(Call& c) {
  auto r = co_await c.dir().list_domains();
  if (!r) co_return store_fail(r.error(), "domains");
  json out = json::array();
  for (const auto& d : *r) {
    json alias_of = nullptr;
    for (const auto& t : *r)
      if (d.alias_of && t.id == *d.alias_of) alias_of = t.name;
    out.push_back({{"name", d.name}, {"alias_of", alias_of}});
  }
  co_return ok(out);
}

awaitable<HttpResponse> domains_add(Call& c) {
  std::string name = c.body_text("name");
  c.target = normalise_address(name);
  // Named: GCC 12 destroys a braced temporary in a co_await argument twice.
  Provisioning::Audit audit{*c.s.db, c.entry()};
  auto r = co_await c.s.prov.add_domain(std::move(name), std::move(audit));
  if (!r && r.error().store) co_return store_fail(*r.error().store, "domain " + c.target);
  if (!r)
    co_return fail(r.error().message.ends_with("already exists") ? 409 : 400, r.error().message);
  c.audit_written = true;
  co_return ok({{"name", r->name}});
}

awaitable<HttpResponse> domains_merge(Call& c) {
  std::string from = normalise_address(c.body_text("old")),
              to = normalise_address(c.body_text("new"));
  if (from.empty() || to.empty())
    co_return fail(400, "expected {\"old\": DOMAIN, \"new\": DOMAIN}");
  c.target = from;
  c.detail = "into " + to;
  auto r = co_await store::audited::merge_domain(*c.s.db, from, to, c.entry());
  if (!r) co_return store_fail(r.error(), "domain " + from + " or " + to);
  c.audit_written = r->collisions.empty();  // a refusal is recorded by the dispatcher
  if (!r->collisions.empty())
    co_return HttpResponse::json(
        409,
        json{{"error", "local parts exist in both domains: rename them first; nothing changed"},
             {"collisions", r->collisions}}
            .dump());
  co_return ok({{"accounts", r->accounts}, {"aliases", r->aliases}, {"groups", r->groups}});
}

}  // namespace govmail::admin::api
