// govmail admin group|unit|domain merge ...: distribution lists, administrative units, merges.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "admin/operations.hpp"
#include "admin_cli.hpp"
#include "core/asio.hpp"
#include "core/text.hpp"
#include "runtime.hpp"
#include "store/admin_audited.hpp"

namespace govmail::app {
namespace {

using admin::parse_policy;
using admin::policy_name;

awaitable<int> member_op(AdminContext& c, bool add, const char* usage) {
  if (c.args.size() != 2) co_return admin_usage_error(usage);
  std::string group = admin::normalise_address(c.args[0]);
  auto acc = co_await find_account_or_report(c, c.args[1]);
  if (!acc) co_return 1;
  auto members = co_await c.admin().group_members(group);  // also checks that the group exists
  if (!members) co_return admin_fail(store_error(members.error(), "group " + group));
  c.audit_target = group;
  c.audit_detail = acc->address;
  auto change =
      add ? store::audited::GroupChange::add_member : store::audited::GroupChange::remove_member;
  auto r = co_await store::audited::group_member(c.db, change, group, acc->address, c.entry());
  if (!r) co_return admin_fail(store_error(r.error(), "member " + acc->address));
  c.audit_written = true;
  std::printf("%s %s %s\n", acc->address.c_str(), add ? "added to" : "removed from", group.c_str());
  co_return 0;
}

}  // namespace

awaitable<int> group_add(AdminContext& c) {
  auto name = take_option(c.args, "--name");
  auto unit = take_option(c.args, "--unit");
  auto policy = take_option(c.args, "--send-policy");
  if (c.args.size() != 1)
    co_return admin_usage_error("group add ADDRESS [--name N] [--unit CODE] [--send-policy P]");
  store::Group g;
  g.address = admin::normalise_address(c.args[0]);
  auto at = g.address.rfind('@');
  if (at == std::string::npos || !admin::valid_local_part(g.address.substr(0, at)))
    co_return admin_fail("invalid group address '" + g.address + "'");
  g.display_name = core::nfc(name.value_or(""));
  g.unit_code = unit;
  if (policy && !parse_policy(*policy))
    co_return admin_usage_error("--send-policy is anyone, domain, members or senders");
  if (policy) g.send_policy = *parse_policy(*policy);
  c.audit_target = g.address;
  c.audit_detail = unit ? "automatic for unit " + *unit : "manual";
  auto r = co_await store::audited::add_group(c.db, g, c.entry());
  if (!r)
    co_return admin_fail(store_error(r.error(), "group " + g.address + " (or its domain/unit)"));
  c.audit_written = true;
  std::printf("group %s added (%zu members)\n", r->address.c_str(), r->members);
  co_return 0;
}

awaitable<int> group_list(AdminContext& c) {
  auto domain = take_option(c.args, "--domain");
  if (!domain || !c.args.empty()) co_return admin_usage_error("group list --domain DOMAIN");
  c.audit_target = admin::normalise_address(*domain);
  auto r = co_await c.admin().list_groups(c.audit_target);
  if (!r) co_return admin_fail(store_error(r.error(), "groups"));
  for (const auto& g : *r)
    std::printf("%s\t%s\t%zu\t%s\t%s\n", g.address.c_str(), g.display_name.c_str(), g.members,
                policy_name(g.send_policy),
                g.unit_code ? ("unit " + *g.unit_code).c_str() : "manual");
  co_return 0;
}

awaitable<int> group_members(AdminContext& c) {
  if (c.args.size() != 1) co_return admin_usage_error("group members GROUP");
  c.audit_target = admin::normalise_address(c.args[0]);
  auto r = co_await c.admin().group_members(c.audit_target);
  if (!r) co_return admin_fail(store_error(r.error(), "group " + c.audit_target));
  for (const auto& m : *r) std::printf("%s\n", m.c_str());
  co_return 0;
}

awaitable<int> group_member_add(AdminContext& c) {
  co_return co_await member_op(c, true, "group member-add GROUP ACCOUNT");
}
awaitable<int> group_member_remove(AdminContext& c) {
  co_return co_await member_op(c, false, "group member-remove GROUP ACCOUNT");
}

awaitable<int> group_sender_add(AdminContext& c) {
  if (c.args.size() != 2) co_return admin_usage_error("group sender-add GROUP ACCOUNT");
  std::string group = admin::normalise_address(c.args[0]);
  auto acc = co_await find_account_or_report(c, c.args[1]);
  if (!acc) co_return 1;
  c.audit_target = group;
  c.audit_detail = acc->address;
  auto r = co_await store::audited::group_member(c.db, store::audited::GroupChange::add_sender,
                                                 group, acc->address, c.entry());
  if (!r) co_return admin_fail(store_error(r.error(), "group " + group));
  c.audit_written = true;
  std::printf("%s may send to %s\n", acc->address.c_str(), group.c_str());
  co_return 0;
}

awaitable<int> group_policy(AdminContext& c) {
  if (c.args.size() != 2 || !parse_policy(c.args[1]))
    co_return admin_usage_error("group policy GROUP anyone|domain|members|senders");
  c.audit_target = admin::normalise_address(c.args[0]);
  c.audit_detail = "send_policy " + c.args[1];
  auto r = co_await store::audited::set_send_policy(c.db, c.audit_target, *parse_policy(c.args[1]),
                                                    c.entry());
  if (!r) co_return admin_fail(store_error(r.error(), "group " + c.audit_target));
  c.audit_written = true;
  std::printf("send policy of %s: %s\n", c.audit_target.c_str(), c.args[1].c_str());
  co_return 0;
}

awaitable<int> group_delete(AdminContext& c) {
  if (c.args.size() != 1) co_return admin_usage_error("group delete GROUP");
  c.audit_target = admin::normalise_address(c.args[0]);
  auto r = co_await store::audited::delete_group(c.db, c.audit_target, c.entry());
  if (!r) co_return admin_fail(store_error(r.error(), "group " + c.audit_target));
  c.audit_written = true;
  std::printf("group %s deleted\n", c.audit_target.c_str());
  co_return 0;
}

// code,name,parent_code; parents first (a unit may only name a parent already known).
awaitable<int> unit_import(AdminContext& c) {
  if (c.args.size() != 1) co_return admin_usage_error("unit import FILE (code,name,parent_code)");
  std::ifstream in(c.args[0], std::ios::binary);
  if (!in) co_return admin_fail("cannot read " + c.args[0]);
  std::stringstream text;
  text << in.rdbuf();
  c.audit_target = c.args[0];
  auto existing = co_await c.admin().list_units();
  if (!existing) co_return admin_fail(store_error(existing.error(), "units"));
  auto plan = admin::plan_unit_import(text.str(), *existing);
  for (const auto& b : plan.bad)
    std::fprintf(stderr, "%s:%zu: %s\n", c.args[0].c_str(), b.line, b.reason.c_str());
  if (!plan.bad.empty())
    co_return admin_fail(std::to_string(plan.bad.size()) + " bad row(s): nothing imported");
  auto counts = co_await store::audited::import_units(c.db, std::move(plan.units), c.entry());
  if (!counts) co_return admin_fail(store_error(counts.error(), "unit import"));
  c.audit_written = true;
  std::printf("units: %zu created, %zu updated, %zu unchanged\n", counts->created, counts->updated,
              counts->unchanged);
  co_return 0;
}

awaitable<int> unit_list(AdminContext& c) {
  auto parent = take_option(c.args, "--parent");
  if (!c.args.empty()) co_return admin_usage_error("unit list [--parent CODE]");
  auto r = co_await c.admin().list_units();
  if (!r) co_return admin_fail(store_error(r.error(), "units"));
  for (const auto& u : *r)
    if (!parent || u.parent_code == parent)
      std::printf("%s\t%s\t%s\t%s\n", u.code.c_str(), u.name.c_str(),
                  u.parent_code.value_or("").c_str(), u.kind.c_str());
  co_return 0;
}

awaitable<int> domain_merge(AdminContext& c) {
  if (c.args.size() != 2) co_return admin_usage_error("domain merge OLD NEW");
  std::string from = admin::normalise_address(c.args[0]), to = admin::normalise_address(c.args[1]);
  c.audit_target = from;
  c.audit_detail = "into " + to;
  auto r = co_await store::audited::merge_domain(c.db, from, to, c.entry());
  if (!r) co_return admin_fail(store_error(r.error(), "domain " + from + " or " + to));
  c.audit_written = r->collisions.empty();  // a refusal is recorded by the dispatcher
  if (!r->collisions.empty()) {
    for (const auto& l : r->collisions)
      std::fprintf(stderr, "collision: %s exists in both domains\n", l.c_str());
    co_return admin_fail(
        std::to_string(r->collisions.size()) +
        " local part(s) exist in both domains: rename them first; nothing changed");
  }
  std::printf(
      "domain %s merged into %s: %zu accounts, %zu aliases, %zu groups moved; "
      "mail to @%s keeps arriving\n",
      from.c_str(), to.c_str(), r->accounts, r->aliases, r->groups, from.c_str());
  co_return 0;
}

}  // namespace govmail::app
