// Answers, query parameters and the role scope shared by the admin API handlers.
#include <algorithm>
#include <cctype>
#include <set>
#include <unordered_map>

#include "admin/operations.hpp"
#include "admin/provisioning.hpp"
#include "api.hpp"
#include "core/asio.hpp"

namespace govmail::admin::api {

HttpResponse ok(const json& j) {
  return HttpResponse::json(200, j.dump());
}

HttpResponse fail(int status, std::string_view message) {
  return HttpResponse::error(status, message);
}

HttpResponse account_not_found() {
  return fail(404, "account not found");
}

HttpResponse store_fail(store::StoreError e, std::string_view what) {
  switch (e) {
    case store::StoreError::not_found:
      return fail(404, std::string(what) + " not found");
    case store::StoreError::exists:
      return fail(409, std::string(what) + " already exists");
    case store::StoreError::invalid:
      return fail(400, std::string(what) + ": invalid");
    case store::StoreError::unavailable:
      return fail(503, "the database is unavailable");
    case store::StoreError::temporary:  // a lock or statement timeout, a conflict, a full pool
      return fail(503, "temporary failure, try again");
    default:
      return fail(500, std::string(what) + ": " + std::string(store::to_string(e)));
  }
}

std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += plus_is_space && s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

std::optional<std::string> Call::query(std::string_view key) const {
  std::string_view q = req.query;
  while (!q.empty()) {
    auto amp = q.find('&');
    auto pair = q.substr(0, amp);
    auto eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq), true) == key)
      return eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), true);
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::string Call::body_text(std::string_view key) const {
  if (!body.is_object()) return {};
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json account_json(const store::Account& a) {
  return {{"address", a.address},
          {"name", a.display_name},
          {"status", status_name(a.status)},
          {"unit", a.unit_code ? json(*a.unit_code) : json(nullptr)},
          {"position", a.position},
          {"quota_mb", a.quota_bytes >> 20},
          {"used_bytes", a.used_bytes},
          {"messages", a.used_messages},
          {"must_change_password", a.must_change_password}};
}

awaitable<bool> unit_in_scope(Call& c, std::optional<std::string> unit) {
  if (c.who.role != store::AdminRole::unit) co_return true;
  if (!unit) co_return false;
  auto r = co_await c.admin().unit_within(std::move(*unit), c.who.units);
  co_return r&&* r;
}

awaitable<std::optional<store::Account>> scoped_account(Call& c, std::string address) {
  auto a = co_await c.dir().find_account(normalise_address(address));
  if (!a || !co_await unit_in_scope(c, a->unit_code)) co_return std::nullopt;
  co_return *a;
}

awaitable<Result<store::Account, HttpResponse>> managed_account(Call& c, std::string address,
                                                                bool own_ok) {
  auto a = co_await scoped_account(c, std::move(address));
  if (!a) co_return unexpected(account_not_found());
  if (own_ok && a->id == c.who.id) co_return *a;
  auto grant = co_await c.admin().find_admin(a->id);
  if (!grant && grant.error() != store::StoreError::not_found)
    co_return unexpected(store_fail(grant.error(), "admin"));
  if (grant && !may_manage(c.who.role, grant->role))
    co_return unexpected(
        fail(403, "forbidden: the account holds an admin role you may not manage"));
  co_return *a;
}

awaitable<std::optional<std::unordered_set<std::string>>> protected_accounts(Call& c) {
  auto admins = co_await c.admin().list_admins();
  if (!admins) co_return std::nullopt;
  std::unordered_set<std::string> out;
  for (const auto& g : *admins)
    if (!may_manage(c.who.role, g.role)) out.insert(g.address);
  co_return out;
}

awaitable<bool> domain_in_scope(Call& c, std::string domain) {
  if (c.who.role == store::AdminRole::province) co_return true;
  if (c.who.role != store::AdminRole::unit) co_return false;
  auto mine = co_await c.admin().domains_of_units(c.who.units);
  if (!mine) co_return false;
  co_return std::find(mine->begin(), mine->end(), domain) != mine->end();
}

awaitable<std::optional<HttpResponse>> refuse_new_address(Call& c, std::string address) {
  auto at = address.rfind('@');
  if (at == std::string::npos) co_return std::nullopt;  // the caller's own check answers 400
  std::string local = address.substr(0, at), domain = address.substr(at + 1);
  if (c.who.role != store::AdminRole::province && reserved_local_part(local))
    co_return fail(403, "forbidden: " + local + "@ is a role address for province admins");
  // named, not a temporary in the co_await: see the GCC 12 note in docs/NOTES.md
  std::string scope_domain = domain;
  if (!co_await domain_in_scope(c, std::move(scope_domain)))
    co_return fail(403, "forbidden: domain " + domain + " is outside your units");
  co_return std::nullopt;
}

awaitable<Result<std::vector<store::Account>, HttpResponse>> scoped_accounts(Call& c) {
  auto domain = c.query("domain");
  if (!domain || domain->empty())
    co_return unexpected(fail(400, "the domain parameter is required"));
  store::AccountFilter f{normalise_address(*domain), c.query("unit"), std::nullopt};
  if (auto st = c.query("status"); st && !(f.status = parse_status(*st)))
    co_return unexpected(fail(400, "status is active, suspended or deleted"));
  c.target = f.domain;
  // A unit admin without a unit filter lists each of their units (each includes those below).
  std::vector<std::optional<std::string>> units{f.unit};
  if (c.who.role == store::AdminRole::unit && !f.unit)
    units.assign(c.who.units.begin(), c.who.units.end());
  else if (!co_await unit_in_scope(c, f.unit))
    co_return unexpected(fail(403, "forbidden: unit outside your units"));
  std::vector<store::Account> out;
  std::set<store::AccountId> seen;
  for (auto& u : units) {
    f.unit = u;
    auto filter = f;  // named: see the GCC 12 note in cmd_admin.cpp
    auto r = co_await c.admin().list_accounts(std::move(filter));
    if (!r) co_return unexpected(store_fail(r.error(), "account list"));
    for (auto& a : *r)
      if (seen.insert(a.id).second) out.push_back(std::move(a));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.address < b.address; });
  co_return out;
}

awaitable<std::optional<std::unordered_set<std::string>>> import_scope(Call& c, bool& error) {
  error = false;
  if (c.who.role != store::AdminRole::unit) co_return std::nullopt;
  auto units = co_await c.admin().list_units();
  if (!units) {
    error = true;
    co_return std::nullopt;
  }
  std::unordered_map<std::string, std::optional<std::string>> parent;
  for (const auto& u : *units) parent[u.code] = u.parent_code;
  std::set<std::string> mine(c.who.units.begin(), c.who.units.end());
  std::unordered_set<std::string> out;
  for (const auto& u : *units) {
    std::optional<std::string> at = u.code;
    for (int depth = 0; at && depth < 8; ++depth) {  // units nest a few levels at most
      if (mine.contains(*at)) {
        out.insert(u.code);
        break;
      }
      auto it = parent.find(*at);
      at = it == parent.end() ? std::nullopt : it->second;
    }
  }
  co_return out;
}

std::vector<std::string> address_list(const Call& c) {
  if (!c.body.is_object()) return parse_address_list(c.req.body);
  std::vector<std::string> out;
  if (c.body.contains("addresses") && c.body["addresses"].is_array()) {
    for (const auto& a : c.body["addresses"])
      if (a.is_string()) out.push_back(normalise_address(a.get<std::string>()));
    return out;
  }
  return out;
}

}  // namespace govmail::admin::api
