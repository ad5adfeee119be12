// groups: list of a domain, members of one, add, delete, members add/remove, senders, send
// policy. A unit admin sees and changes only the automatic groups of its units (other groups
// answer "group not found") and adds or removes only accounts of its units; no admin adds or
// removes an account holding a role it may not manage (itself excepted).
#include <algorithm>

#include "admin/operations.hpp"
#include "admin/provisioning.hpp"
#include "api.hpp"
#include "core/asio.hpp"
#include "core/text.hpp"
#include "store/admin_audited.hpp"

namespace govmail::admin::api {
namespace {

json group_json(const store::Group& g) {
  return {{"address", g.address},
          {"name", g.display_name},
          {"send_policy", policy_name(g.send_policy)},
          {"unit", g.unit_code ? json(*g.unit_code) : json(nullptr)},
          {"members", g.members}};
}

awaitable<std::vector<store::Group>> visible_groups(Call& c, const std::vector<store::Group>& all) {
  std::vector<store::Group> out;
  for (const auto& g : all)
    if (co_await unit_in_scope(c, g.unit_code)) out.push_back(g);
  co_return out;
}

// The group named by the first path parameter if the caller may see it.
awaitable<std::optional<store::Group>> scoped_group(Call& c) {
  std::string group = normalise_address(c.params[0]);
  c.target = group;
  auto at = group.rfind('@');
  if (at == std::string::npos) co_return std::nullopt;
  std::string domain = group.substr(at + 1);
  auto all = co_await c.admin().list_groups(domain);
  if (!all) co_return std::nullopt;
  for (const auto& g : *all)
    if (g.address == group && co_await unit_in_scope(c, g.unit_code)) co_return g;
  co_return std::nullopt;
}

// member add/remove and sender add: {"account": ADDRESS}, the account within the caller's scope.
enum class MemberOp { add, remove, sender };

awaitable<HttpResponse> member_op(Call& c, MemberOp op, std::string account) {
  auto g = co_await scoped_group(c);
  if (!g) co_return fail(404, "group not found");
  // One's own membership is no take-over: an admin may list itself.
  auto found = co_await managed_account(c, std::move(account), /*own_ok=*/true);
  if (!found) co_return found.error();
  auto acc = &*found;
  c.target = g->address;
  c.detail = acc->address;
  static constexpr store::audited::GroupChange kChange[] = {
      store::audited::GroupChange::add_member, store::audited::GroupChange::remove_member,
      store::audited::GroupChange::add_sender};
  auto r = co_await store::audited::group_member(*c.s.db, kChange[static_cast<int>(op)], g->address,
                                                 acc->address, c.entry());
  if (!r) co_return store_fail(r.error(), "member " + acc->address);
  c.audit_written = true;
  static constexpr const char* kDone[] = {"added", "removed", "may send"};
  co_return ok(
      {{"group", g->address}, {"account", acc->address}, {kDone[static_cast<int>(op)], true}});
}

}  // namespace

awaitable<HttpResponse> groups_list(Call& c) {
  auto domain = c.query("domain");
  if (!domain || domain->empty()) co_return fail(400, "the domain parameter is required");
  c.target = normalise_address(*domain);
  auto r = co_await c.admin().list_groups(c.target);
  if (!r) co_return store_fail(r.error(), "groups");
  json out = json::array();
  auto visible = co_await visible_groups(c, *r);
  for (const auto& g : visible) out.push_back(group_json(g));
  co_return ok(out);
}

awaitable<HttpResponse> group_members(Call& c) {
  std::string group = normalise_address(c.params[0]);
  c.target = group;
  auto at = group.rfind('@');
  if (at == std::string::npos) co_return fail(404, "group not found");
  auto all = co_await c.admin().list_groups(group.substr(at + 1));
  if (!all) co_return fail(404, "group not found");
  auto visible = co_await visible_groups(c, *all);
  if (std::none_of(visible.begin(), visible.end(),
                   [&](const auto& g) { return g.address == group; }))
    co_return fail(404, "group not found");
  auto r = co_await c.admin().group_members(group);
  if (!r) co_return store_fail(r.error(), "group");
  co_return ok({{"group", group}, {"members", *r}});
}

// {"address","name"?,"unit"?,"send_policy"?}: with a unit it is kept up to date automatically.
awaitable<HttpResponse> group_add(Call& c) {
  store::Group g;
  g.address = normalise_address(c.body_text("address"));
  g.display_name = core::nfc(c.body_text("name"));
  if (auto u = c.body_text("unit"); !u.empty()) g.unit_code = u;
  c.target = g.address;
  auto at = g.address.rfind('@');
  if (at == std::string::npos || !valid_local_part(g.address.substr(0, at)))
    co_return fail(400, "expected {\"address\": \"local@domain\", ...}");
  if (auto p = c.body_text("send_policy"); !p.empty()) {
    auto parsed = parse_policy(p);
    if (!parsed) co_return fail(400, "send_policy is anyone, domain, members or senders");
    g.send_policy = *parsed;
  }
  if (!co_await unit_in_scope(c, g.unit_code))
    co_return fail(403, "forbidden: unit outside your units");
  if (auto refused = co_await refuse_new_address(c, g.address)) co_return *refused;
  c.detail = g.unit_code ? "automatic for unit " + *g.unit_code : "manual";
  auto r = co_await store::audited::add_group(*c.s.db, g, c.entry());
  if (!r) co_return store_fail(r.error(), "group " + g.address + " (or its domain/unit)");
  c.audit_written = true;
  co_return ok(group_json(*r));
}

awaitable<HttpResponse> group_delete(Call& c) {
  auto g = co_await scoped_group(c);
  if (!g) co_return fail(404, "group not found");
  c.target = g->address;
  auto r = co_await store::audited::delete_group(*c.s.db, g->address, c.entry());
  if (!r) co_return store_fail(r.error(), "group");
  c.audit_written = true;
  co_return ok({{"deleted", g->address}});
}

// The account is named before the co_await: see the GCC 12 note in docs/NOTES.md.
awaitable<HttpResponse> group_member_add(Call& c) {
  auto account = c.body_text("account");
  co_return co_await member_op(c, MemberOp::add, std::move(account));
}
awaitable<HttpResponse> group_member_remove(Call& c) {
  auto account = c.params[1];
  co_return co_await member_op(c, MemberOp::remove, std::move(account));
}
awaitable<HttpResponse> group_sender_add(Call& c) {
  auto account = c.body_text("account");
  co_return co_await member_op(c, MemberOp::sender, std::move(account));
}

// {"send_policy": "anyone|domain|members|senders"}
awaitable<HttpResponse> group_policy(Call& c) {
  auto policy = parse_policy(c.body_text("send_policy"));
  if (!policy) co_return fail(400, "send_policy is anyone, domain, members or senders");
  auto g = co_await scoped_group(c);
  if (!g) co_return fail(404, "group not found");
  c.target = g->address;
  c.detail = std::string("send_policy ") + policy_name(*policy);
  auto r = co_await store::audited::set_send_policy(*c.s.db, g->address, *policy, c.entry());
  if (!r) co_return store_fail(r.error(), "group");
  c.audit_written = true;
  co_return ok({{"group", g->address}, {"send_policy", policy_name(*policy)}});
}

}  // namespace govmail::admin::api
