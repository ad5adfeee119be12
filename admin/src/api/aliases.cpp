// aliases and app passwords of one account (accounts/ADDRESS/aliases, .../app-passwords). A unit
// admin reaches only the accounts of its units; others answer "account not found".
#include <algorithm>

#include "admin/operations.hpp"
#include "admin/provisioning.hpp"
#include "api.hpp"
#include "core/asio.hpp"
#include "store/admin_audited.hpp"

namespace govmail::admin::api {

awaitable<HttpResponse> alias_list(Call& c) {
  auto acc = co_await scoped_account(c, c.params[0]);
  if (!acc) co_return account_not_found();
  c.target = acc->address;
  auto r = co_await c.admin().aliases_of(acc->id);
  if (!r) co_return store_fail(r.error(), "aliases");
  co_return ok({{"address", acc->address}, {"aliases", *r}});
}

// {"alias": "..."}: another address delivering to the account (its domain must exist).
awaitable<HttpResponse> alias_add(Call& c) {
  auto found = co_await managed_account(c, c.params[0]);
  if (!found) co_return found.error();
  auto acc = &*found;
  c.target = acc->address;
  std::string alias = normalise_address(c.body_text("alias"));
  c.detail = alias;
  auto at = alias.rfind('@');
  if (at == std::string::npos || !valid_local_part(alias.substr(0, at)))
    co_return fail(400, "expected {\"alias\": \"local@domain\"}");
  std::string domain = alias.substr(at + 1);  // named: see the GCC 12 note in docs/NOTES.md
  if (!co_await c.dir().find_domain(domain)) co_return fail(404, "domain not found");
  if (auto refused = co_await refuse_new_address(c, alias)) co_return *refused;
  auto r = co_await store::audited::add_alias(*c.s.db, alias, acc->id, c.entry());
  if (!r) co_return store_fail(r.error(), "alias " + alias);
  c.audit_written = true;
  co_return ok({{"address", acc->address}, {"alias", alias}});
}

awaitable<HttpResponse> alias_remove(Call& c) {
  auto found = co_await managed_account(c, c.params[0]);
  if (!found) co_return found.error();
  auto acc = &*found;
  c.target = acc->address;
  std::string alias = normalise_address(c.params[1]);
  c.detail = alias;
  // Only an alias of this account: the scope check above must cover what is removed.
  auto mine = co_await c.admin().aliases_of(acc->id);
  if (!mine) co_return store_fail(mine.error(), "aliases");
  if (std::find(mine->begin(), mine->end(), alias) == mine->end())
    co_return fail(404, "alias not found");
  auto r = co_await store::audited::remove_alias(*c.s.db, alias, c.entry());
  if (!r) co_return store_fail(r.error(), "alias");
  c.audit_written = true;
  co_return ok({{"address", acc->address}, {"removed", alias}});
}

// {"name": "..."}: a random password for one mail client, returned once.
awaitable<HttpResponse> app_password_add(Call& c) {
  auto found = co_await managed_account(c, c.params[0], /*own_ok=*/true);
  if (!found) co_return found.error();
  auto acc = &*found;
  c.target = acc->address;
  std::string name = c.body_text("name");
  c.detail = name;
  if (name.empty() || name.size() > 64) co_return fail(400, "expected {\"name\": \"...\"} (1-64)");
  std::string pw = core::random_password(20);
  auto hash = co_await c.s.auth.hash(pw);  // argon2id on the auth pool
  if (hash.empty()) co_return fail(503, "try again later");
  auto r =
      co_await store::audited::add_app_password(*c.s.db, acc->id, name, std::move(hash), c.entry());
  if (!r) co_return store_fail(r.error(), "app password " + name);
  c.audit_written = true;
  co_return ok({{"address", acc->address}, {"name", name}, {"password", pw}});
}

awaitable<HttpResponse> app_password_remove(Call& c) {
  auto found = co_await managed_account(c, c.params[0], /*own_ok=*/true);
  if (!found) co_return found.error();
  auto acc = &*found;
  c.target = acc->address;
  c.detail = c.params[1];
  auto r = co_await store::audited::remove_app_password(*c.s.db, acc->id, c.params[1], c.entry());
  if (!r) co_return store_fail(r.error(), "app password");
  c.audit_written = true;
  co_return ok({{"address", acc->address}, {"removed", c.params[1]}});
}

}  // namespace govmail::admin::api
