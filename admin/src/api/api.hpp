// Private to the admin HTTP API: the state shared by every handler, one call's context, the
// role checks and the JSON answers. Handlers live one file per resource group.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "admin/import.hpp"
#include "admin/provisioning.hpp"
#include "core/auth.hpp"
#include "core/awaitable_fwd.hpp"
#include "core/config.hpp"
#include "core/http_server.hpp"
#include "search/index.hpp"
#include "store/admin_store.hpp"
#include "store/database.hpp"

namespace govmail::admin::api {

using json = nlohmann::json;
using core::HttpRequest;
using core::HttpResponse;

// Who is calling, re-read from the store at every request.
struct Principal {
  store::AccountId id = 0;
  std::string address;
  store::AdminRole role = store::AdminRole::auditor;
  std::vector<std::string> units;     // unit admins: the units they manage (and below)
  bool must_change_password = false;  // only the password change is allowed until it is done
};

// Bearer tokens in memory: token -> account id, idle and absolute expiry, bounded in number.
// Each token keeps the account's stamp read at sign-in; the caller compares it with the store's
// at every request, so a password, status or role change anywhere ends the token.
class Sessions {
 public:
  struct Stamp {
    std::uint64_t credentials_version = 0;
    std::int64_t grant_serial = 0;
    bool operator==(const Stamp&) const = default;
  };
  struct Found {
    store::AccountId id = 0;
    Stamp stamp;
  };
  static constexpr std::chrono::minutes kIdle{15};
  static constexpr std::chrono::hours kAbsolute{8};
  static constexpr std::size_t kMax = 10000;
  using Clock = std::chrono::steady_clock;

  std::optional<std::string> create(store::AccountId id, Stamp stamp);  // nullopt: table full
  std::optional<Found> find(const std::string& token);                  // refreshes the idle timer
  void erase(const std::string& token);
  // A token of account `id` still valid at `before` takes `after` (its own password change
  // keeps it signed in).
  void restamp(const std::string& token, store::AccountId id, Stamp before, Stamp after);

  // Failed second factors per account: more than kTotpFailures in kTotpWindow locks TOTP out.
  static constexpr int kTotpFailures = 5;
  static constexpr std::chrono::minutes kTotpWindow{5};
  bool totp_locked(store::AccountId id);
  void totp_failed(store::AccountId id);

 private:
  struct Entry {
    store::AccountId id;
    Stamp stamp;
    Clock::time_point created, used;
  };
  struct Failures {
    int count = 0;
    Clock::time_point first;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Entry> tokens_;
  std::unordered_map<store::AccountId, Failures> totp_failures_;
};

struct Shared {
  core::Config cfg;
  std::shared_ptr<store::Database> db;
  core::AuthService& auth;
  Provisioning prov;
  Sessions sessions;
  std::shared_ptr<search::Index> search;  // may be null (no shard figures then)
};

struct Call {
  Shared& s;
  const HttpRequest& req;
  std::vector<std::string> params;  // the :captures of the route, percent-decoded
  Principal who;
  json body;                   // the JSON body (null when none or not JSON)
  std::string target, detail;  // for the audit entry the dispatcher writes
  std::string_view action;     // the route's audit action
  // Set when the handler's change wrote its entry in its own transaction (store/
  // admin_audited.hpp): the dispatcher writes none after a success.
  bool audit_written = false;

  // The entry for a change made with store::audited (ok; target and detail as set so far).
  store::AuditEntry entry() const {
    return {0, 0, who.address, req.remote_address, std::string(action), target, detail, true};
  }

  store::AdminStore& admin() { return s.db->admin(); }
  store::Directory& dir() { return s.db->directory(); }
  std::optional<std::string> query(std::string_view key) const;
  std::string body_text(std::string_view key) const;  // "" when absent or not a string
};

using Handler = awaitable<HttpResponse> (*)(Call&);

// Answers. Not-permitted and not-found answer the same for accounts: "account not found".
HttpResponse ok(const json& j);
HttpResponse fail(int status, std::string_view message);
HttpResponse store_fail(store::StoreError e, std::string_view what);
HttpResponse account_not_found();
std::string percent_decode(std::string_view s, bool plus_is_space);

json account_json(const store::Account& a);
json bad_rows_json(const std::vector<BadRow>& bad);  // [{line, reason}]

// Scope of a unit admin: `unit` is one of their units or below one. Province and auditor: true.
awaitable<bool> unit_in_scope(Call& c, std::optional<std::string> unit);
// The account if it exists and the caller may see it; nullopt otherwise (answer not found).
awaitable<std::optional<store::Account>> scoped_account(Call& c, std::string address);
// The account if the caller may change it: within scope (else "account not found") and not
// holding an admin role the caller may not manage (may_manage; else 403). own_ok lets an admin
// act on its own account (its app passwords).
awaitable<Result<store::Account, HttpResponse>> managed_account(Call& c, std::string address,
                                                                bool own_ok = false);
// Addresses of the accounts holding an admin role the caller may not manage (bulk changes and
// imports skip them); nullopt on a store error.
awaitable<std::optional<std::unordered_set<std::string>>> protected_accounts(Call& c);
// Whether the caller administers `domain`: a unit admin, the domains holding accounts of its
// units; a province admin, every domain.
awaitable<bool> domain_in_scope(Call& c, std::string domain);
// A new address (account, alias, group, rename target) the caller may give out: an error answer
// for a role address (postmaster@...) unless province admin, or a domain outside its scope.
awaitable<std::optional<HttpResponse>> refuse_new_address(Call& c, std::string address);
// Accounts of a domain a caller may see, by unit and status (query parameters domain, unit,
// status); an error answer when the parameters are bad or the unit is out of scope.
awaitable<Result<std::vector<store::Account>, HttpResponse>> scoped_accounts(Call& c);
// The units a unit admin may import into (theirs and every unit below); nullopt for the other
// roles (no limit) and on a store error (`error` set).
awaitable<std::optional<std::unordered_set<std::string>>> import_scope(Call& c, bool& error);
// Addresses from a body: JSON {"addresses": [...]} or text, one a line (CSV: the first field).
std::vector<std::string> address_list(const Call& c);

// Handlers, by file.
awaitable<HttpResponse> queue_list(Call& c);
awaitable<HttpResponse> queue_show(Call& c);
awaitable<HttpResponse> queue_retry(Call& c);
awaitable<HttpResponse> queue_delete(Call& c);
awaitable<HttpResponse> search_stats(Call& c);
awaitable<HttpResponse> units_list(Call& c);
awaitable<HttpResponse> units_import(Call& c);
awaitable<HttpResponse> domains_list(Call& c);
awaitable<HttpResponse> domains_add(Call& c);
awaitable<HttpResponse> domains_merge(Call& c);
awaitable<HttpResponse> accounts_list(Call& c);
awaitable<HttpResponse> accounts_export(Call& c);
awaitable<HttpResponse> account_show(Call& c);
awaitable<HttpResponse> account_add(Call& c);
awaitable<HttpResponse> account_suspend(Call& c);
awaitable<HttpResponse> account_restore(Call& c);
awaitable<HttpResponse> account_delete(Call& c);
awaitable<HttpResponse> account_password(Call& c);
awaitable<HttpResponse> account_quota(Call& c);
awaitable<HttpResponse> groups_list(Call& c);
awaitable<HttpResponse> group_members(Call& c);
awaitable<HttpResponse> bulk_import(Call& c);
awaitable<HttpResponse> audit_list(Call& c);
awaitable<HttpResponse> account_rename(Call& c);
awaitable<HttpResponse> account_profile(Call& c);
awaitable<HttpResponse> alias_list(Call& c);
awaitable<HttpResponse> alias_add(Call& c);
awaitable<HttpResponse> alias_remove(Call& c);
awaitable<HttpResponse> app_password_add(Call& c);
awaitable<HttpResponse> app_password_remove(Call& c);
awaitable<HttpResponse> unused_list(Call& c);
awaitable<HttpResponse> unused_suspend(Call& c);
awaitable<HttpResponse> bulk_suspend(Call& c);
awaitable<HttpResponse> bulk_restore(Call& c);
awaitable<HttpResponse> group_add(Call& c);
awaitable<HttpResponse> group_delete(Call& c);
awaitable<HttpResponse> group_member_add(Call& c);
awaitable<HttpResponse> group_member_remove(Call& c);
awaitable<HttpResponse> group_sender_add(Call& c);
awaitable<HttpResponse> group_policy(Call& c);
awaitable<HttpResponse> admins_list(Call& c);
awaitable<HttpResponse> admins_grant(Call& c);
awaitable<HttpResponse> admins_revoke(Call& c);
awaitable<HttpResponse> admins_totp(Call& c);
awaitable<HttpResponse> account_purge(Call& c);
awaitable<HttpResponse> journal_search(Call& c);  // the archive journal (docs/ARCHIVE.md)
awaitable<HttpResponse> journal_view(Call& c);
awaitable<HttpResponse> journal_export(Call& c);  // signed, as `archive export --format mbox`
awaitable<HttpResponse> audit_query(Call& c);

// Sign-in and out (not in the route table: no principal yet).
awaitable<HttpResponse> login(Shared& s, const HttpRequest& req);
awaitable<HttpResponse> logout(Shared& s, const HttpRequest& req);
// Self-service: {"address","password","new_password"} for any active account (no token); clears
// the must-change flag.
awaitable<HttpResponse> change_password(Shared& s, const HttpRequest& req);
// The principal behind "Authorization: Bearer TOKEN", or nullopt (answer 401).
awaitable<std::optional<Principal>> authenticate(Shared& s, const HttpRequest& req);

}  // namespace govmail::admin::api
