// Account lifecycle beyond one status change: rename, profile (name, unit, position), accounts
// unused for N days (list, suspend), bulk suspend/restore from a list, and the purge of accounts
// deleted longer ago than the retention. A unit admin acts only
// inside its units: other accounts answer like missing ones. Accounts of admins the caller may
// not manage are left alone (403; bulk: "refused"; unused: skipped).
#include "admin/operations.hpp"
#include "admin/provisioning.hpp"
#include "api.hpp"
#include "core/asio.hpp"
#include "core/text.hpp"
#include "store/admin_audited.hpp"

namespace govmail::admin::api {
namespace {

bool in(const std::optional<std::unordered_set<std::string>>& scope, const store::Account& a) {
  return !scope || scope->contains(a.unit_code.value_or(""));
}

// ?days=N (default admin.unused_days); nullopt when malformed.
std::optional<int> unused_days(const Call& c) {
  auto d = c.query("days");
  if (!d) return static_cast<int>(c.s.cfg.admin.unused_days);
  if (d->empty() || d->size() > 5 || d->find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoi(*d);
}

awaitable<HttpResponse> unused(Call& c, bool suspend) {
  auto domain = c.query("domain");
  auto days = unused_days(c);
  if (!domain || domain->empty() || !days) co_return fail(400, "expected ?domain=D[&days=N]");
  c.target = normalise_address(*domain);
  bool error = false;
  auto scope = co_await import_scope(c, error);
  if (error) co_return fail(503, "the database is unavailable");
  auto admins = co_await protected_accounts(c);
  if (!admins) co_return fail(503, "the database is unavailable");
  auto r = co_await c.admin().unused_accounts(c.target, *days);
  if (!r) co_return store_fail(r.error(), "unused accounts");
  json list = json::array();
  std::vector<std::string>
      addresses;  // to suspend: admins the caller may not manage are listed only
  for (const auto& a : *r)
    if (in(scope, a)) {
      list.push_back(account_json(a));
      if (!admins->contains(a.address)) addresses.push_back(a.address);
    }
  c.detail = std::to_string(list.size()) + " unused for " + std::to_string(*days) + " days";
  if (suspend && !addresses.empty()) {
    c.detail += ", " + std::to_string(addresses.size()) + " suspended";
    auto s = co_await store::audited::set_status_many(*c.s.db, addresses,
                                                      store::AccountStatus::suspended, c.entry());
    if (!s) co_return store_fail(s.error(), "suspend");
    c.audit_written = true;
  }
  co_return ok(
      {{"days", *days}, {"accounts", list}, {"suspended", suspend ? addresses.size() : 0}});
}

awaitable<HttpResponse> bulk_status(Call& c, store::AccountStatus status) {
  auto list = address_list(c);
  if (list.empty() || list.size() > 100000)
    co_return fail(400, "expected {\"addresses\": [...]} or one address a line (at most 100000)");
  bool error = false;
  auto scope = co_await import_scope(c, error);
  if (error) co_return fail(503, "the database is unavailable");
  auto admins = co_await protected_accounts(c);
  if (!admins) co_return fail(503, "the database is unavailable");
  // A unit admin's out-of-scope: "not found"; an admin the caller may not manage: "refused".
  std::vector<std::string> hidden, allowed, refused;
  for (auto& address : list) {
    if (scope) {
      auto a = co_await c.dir().find_account(address);
      if (!a || !in(scope, *a)) {
        hidden.push_back(address);
        continue;
      }
    }
    (admins->contains(address) ? refused : allowed).push_back(address);
  }
  c.target = std::to_string(list.size()) + " addresses";
  c.detail = std::to_string(allowed.size()) + " to " + status_name(status) + ", " +
             std::to_string(refused.size()) + " refused";
  auto missing = co_await store::audited::set_status_many(*c.s.db, allowed, status, c.entry());
  if (!missing) co_return store_fail(missing.error(), "bulk status change");
  c.audit_written = true;
  missing->insert(missing->end(), hidden.begin(), hidden.end());
  std::size_t changed = list.size() - missing->size() - refused.size();
  c.detail = std::to_string(changed) + " " + status_name(status) + ", " +
             std::to_string(missing->size()) + " not found, " + std::to_string(refused.size()) +
             " refused";
  co_return ok({{"changed", changed},
                {"status", status_name(status)},
                {"not_found", *missing},
                {"refused", refused}});
}

}  // namespace

// {"address": NEW, "keep_alias": bool}: NEW in an existing domain.
awaitable<HttpResponse> account_rename(Call& c) {
  auto found = co_await managed_account(c, c.params[0]);
  if (!found) co_return found.error();
  auto acc = &*found;
  c.target = acc->address;
  std::string to = normalise_address(c.body_text("address"));
  bool keep = c.body.is_object() && c.body.value("keep_alias", false);
  auto at = to.rfind('@');
  if (at == std::string::npos || !valid_local_part(to.substr(0, at)))
    co_return fail(400, "expected {\"address\": \"local@domain\", \"keep_alias\"?}");
  c.detail = "to " + to + (keep ? " (old address kept as alias)" : "");
  if (auto refused = co_await refuse_new_address(c, to)) co_return *refused;
  auto r = co_await store::audited::rename_account(*c.s.db, acc->id, to, keep, c.entry());
  if (!r) co_return store_fail(r.error(), "address " + to);
  c.audit_written = true;
  co_return ok({{"address", to}, {"old_address", acc->address}, {"keep_alias", keep}});
}

// {"name"?, "unit"? ("" = none), "position"?}: a unit admin moves accounts only between its units.
awaitable<HttpResponse> account_profile(Call& c) {
  auto found = co_await managed_account(c, c.params[0]);
  if (!found) co_return found.error();
  auto acc = &*found;
  c.target = acc->address;
  bool has_unit = c.body.is_object() && c.body.contains("unit");
  std::optional<std::string> unit = acc->unit_code;
  if (has_unit) {
    auto u = c.body_text("unit");
    unit = u.empty() ? std::nullopt : std::optional<std::string>(u);
  }
  if (has_unit && !co_await unit_in_scope(c, unit))
    co_return fail(403, "forbidden: unit outside your units");
  std::string name = c.body.is_object() && c.body.contains("name") ? core::nfc(c.body_text("name"))
                                                                   : acc->display_name;
  std::string position = c.body.is_object() && c.body.contains("position")
                             ? core::nfc(c.body_text("position"))
                             : acc->position;
  if (name.empty()) co_return fail(400, "name: must not be empty");
  c.detail = "name '" + name + "' unit " + unit.value_or("-") + " position '" + position + "'";
  auto r = co_await store::audited::set_profile(*c.s.db, acc->id, name, unit, position, c.entry());
  if (!r) co_return store_fail(r.error(), "account or unit");
  c.audit_written = true;
  auto now = co_await c.dir().get_account(acc->id);
  if (!now) co_return store_fail(now.error(), "account");
  co_return ok(account_json(*now));
}

awaitable<HttpResponse> unused_list(Call& c) {
  co_return co_await unused(c, false);
}
awaitable<HttpResponse> unused_suspend(Call& c) {
  co_return co_await unused(c, true);
}
awaitable<HttpResponse> bulk_suspend(Call& c) {
  co_return co_await bulk_status(c, store::AccountStatus::suspended);
}
awaitable<HttpResponse> bulk_restore(Call& c) {
  co_return co_await bulk_status(c, store::AccountStatus::active);
}

// ?older_than_days=N (default admin.deleted_retention_days): removes those accounts and their mail.
awaitable<HttpResponse> account_purge(Call& c) {
  int days = static_cast<int>(c.s.cfg.admin.deleted_retention_days);
  if (auto d = c.query("older_than_days")) {
    if (d->empty() || d->size() > 5 || d->find_first_not_of("0123456789") != std::string::npos)
      co_return fail(400, "older_than_days: a whole number");
    days = std::stoi(*d);
  }
  c.detail = "retention " + std::to_string(days) + " days";
  // One entry per purged account, in its transaction; with none purged, the dispatcher records
  // the run.
  auto r = co_await store::audited::purge_deleted(*c.s.db, days, c.entry());
  if (!r) co_return store_fail(r.error(), "purge");
  c.audit_written = !r->empty();
  c.detail = std::to_string(r->size()) + " purged, " + c.detail;
  co_return ok({{"purged", *r}, {"older_than_days", days}});
}

}  // namespace govmail::admin::api
