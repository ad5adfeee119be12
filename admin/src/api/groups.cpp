// groups: list of a domain, members of one. A unit admin sees the automatic groups of its units.
#include <algorithm>

#include "admin/operations.hpp"
#include "api.hpp"
#include "core/asio.hpp"

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

}  // namespace govmail::admin::api
