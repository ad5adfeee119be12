// POST /admin/api/login, POST /admin/api/logout, and the bearer-token check of every other call.
#include <ctime>

#include "admin/operations.hpp"
#include "admin/totp.hpp"
#include "api.hpp"
#include "core/asio.hpp"

namespace govmail::admin::api {
namespace {

HttpResponse bad_credentials() {
  return fail(401, "invalid credentials");
}

// detail is a view: GCC 12 may destroy a temporary std::string argument of a co_await twice.
// False when the audit log could not be written: the caller then refuses (503) rather than act
// or answer without its entry (docs/ARCHIVE.md).
awaitable<bool> audit_event(Shared& s, const std::string& who, const std::string& ip,
                            std::string_view action, bool ok, std::string_view detail) {
  store::AuditEntry e{0, 0, who, ip, std::string(action), who, std::string(detail), ok};
  auto written = co_await s.db->admin().audit(std::move(e));
  co_return static_cast<bool>(written);
}

awaitable<bool> audit_login(Shared& s, const std::string& who, const std::string& ip, bool ok,
                            std::string_view detail) {
  co_return co_await audit_event(s, who, ip, "admin.login", ok, detail);
}

HttpResponse audit_unavailable() {
  return fail(503, "the audit log could not be written: try again later");
}

std::string bearer(const HttpRequest& req) {
  auto h = req.header("Authorization");
  constexpr std::string_view kPrefix = "Bearer ";
  if (h.size() <= kPrefix.size() || h.substr(0, kPrefix.size()) != kPrefix) return {};
  return std::string(h.substr(kPrefix.size()));
}

constexpr std::string_view kTryLater = "try again later";

// The answer to a refused second factor: 401, or 503 when the store could not record the step.
HttpResponse totp_refused(std::string_view why) {
  return fail(why == kTryLater ? 503 : 401, why);
}

// The password is right: the second factor, when required or enrolled. Empty: passed. A code
// is good once: its time step is claimed in the store, so a code seen on the wire (or in a
// second process) cannot be replayed within its window.
awaitable<std::string> check_totp(Shared& s, const store::AdminGrant& g, const std::string& code) {
  if (!s.cfg.admin.require_totp && !g.totp_secret) co_return std::string();
  if (!g.totp_secret)
    co_return "a second factor is required: enrol with `govmail admin admins totp`";
  if (s.sessions.totp_locked(g.account_id)) co_return "too many wrong codes: try later";
  if (code.empty()) co_return "TOTP code required";
  auto step = totp_match(*g.totp_secret, code, std::time(nullptr));
  if (!step) {
    s.sessions.totp_failed(g.account_id);
    co_return "invalid TOTP code";
  }
  auto fresh = co_await s.db->admin().use_totp_step(g.account_id, *step);
  if (!fresh) co_return std::string(kTryLater);
  if (!*fresh) {
    s.sessions.totp_failed(g.account_id);
    co_return "TOTP code already used: wait for the next one";
  }
  co_return std::string();
}

// A string member of a JSON object; "" when absent or not a string.
std::string field(const json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The answer when the password check said neither yes nor no: locked out (429 with Retry-After)
// or the store or hash pool unavailable (503).
std::optional<HttpResponse> undecided(const core::AuthResult& r) {
  if (r.outcome == core::AuthOutcome::temporary) return fail(503, "try again later");
  if (r.outcome != core::AuthOutcome::locked_out) return std::nullopt;
  auto out = fail(429, "too many failures: try later");
  out.headers.emplace_back("Retry-After", std::to_string(r.retry_after.count()));
  return out;
}

Sessions::Stamp stamp_of(const store::AdminGrant& g) {
  return {g.credentials_version, g.grant_serial};
}

}  // namespace

awaitable<HttpResponse> login(Shared& s, const HttpRequest& req) {
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object()) co_return fail(400, "expected a JSON object");
  std::string address = normalise_address(field(body, "address"));
  std::string password = field(body, "password"), code = field(body, "totp");
  auto r = co_await s.auth.verify(address, std::move(password), req.remote_address);
  if (auto out = undecided(r)) co_return *out;
  store::Result<store::AdminGrant> grant = unexpected(store::StoreError::not_found);
  // An app password is for mail clients: an admin session needs the account's own password.
  if (r.outcome == core::AuthOutcome::ok && !r.app_password)
    grant = co_await s.db->admin().find_admin(r.account_id);
  if (!grant) {
    if (!co_await audit_login(
            s, address, req.remote_address, false,
            r.app_password ? "app password refused" : "bad credentials or not an admin"))
      co_return audit_unavailable();
    co_return bad_credentials();
  }
  if (auto why = co_await check_totp(s, *grant, code); !why.empty()) {
    if (!co_await audit_login(s, r.address, req.remote_address, false, why))
      co_return audit_unavailable();
    co_return totp_refused(why);
  }
  // The entry before the token: no session without its login in the audit log.
  if (!co_await audit_login(s, r.address, req.remote_address, true, role_name(grant->role)))
    co_return audit_unavailable();
  auto token = s.sessions.create(r.account_id, stamp_of(*grant));
  if (!token) co_return fail(503, "too many sessions: try later");
  (void)co_await s.db->admin().record_login(r.account_id);
  auto account = co_await s.db->directory().get_account(r.account_id);
  bool must_change = account && account->must_change_password;
  co_return ok({{"token", *token},
                {"token_type", "Bearer"},
                {"expires_in", std::chrono::seconds(Sessions::kIdle).count()},
                {"address", r.address},
                {"role", role_name(grant->role)},
                {"units", grant->units},
                {"must_change_password", must_change}});
}

// Self-service for any account (officials too, no admin role needed): the current password
// through AuthService (lock-out counters apply; an app password is not enough), then the new
// one, must-change cleared. An admin also gives a TOTP code ("totp") when it has or needs one:
// a stolen password alone must not take over an admin account. The change ends every session
// of the account (its credentials_version moves).
awaitable<HttpResponse> change_password(Shared& s, const HttpRequest& req) {
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object()) co_return fail(400, "expected a JSON object");
  std::string address = normalise_address(field(body, "address"));
  std::string password = field(body, "password"), fresh = field(body, "new_password");
  if (fresh.size() < 12 || fresh.size() > 1024)
    co_return fail(400, "new_password: 12 to 1024 characters");
  if (fresh == password) co_return fail(400, "new_password must differ from the current one");
  auto r = co_await s.auth.verify(address, std::move(password), req.remote_address);
  if (auto out = undecided(r)) co_return *out;
  if (r.outcome != core::AuthOutcome::ok || r.app_password) {
    if (!co_await audit_event(s, address, req.remote_address, "account.password.self", false,
                              r.app_password ? "app password refused" : "bad credentials"))
      co_return audit_unavailable();
    co_return bad_credentials();
  }
  auto grant = co_await s.db->admin().find_admin(r.account_id);
  if (!grant && grant.error() != store::StoreError::not_found)
    co_return fail(503, "try again later");
  if (grant) {
    std::string code = field(body, "totp");
    if (auto why = co_await check_totp(s, *grant, code); !why.empty()) {
      if (!co_await audit_event(s, r.address, req.remote_address, "account.password.self", false,
                                why))
        co_return audit_unavailable();
      co_return totp_refused(why);
    }
  }
  auto changed = co_await s.prov.reset_password(r.account_id, std::move(fresh), false);
  bool ok_ = changed.ok();
  const bool audited =
      co_await audit_event(s, r.address, req.remote_address, "account.password.self", ok_,
                           ok_ ? "changed by the account holder" : "store error");
  if (!ok_) co_return fail(503, "try again later");
  if (!audited) co_return fail(503, "password changed, but the audit log could not be written");
  // Every other session of the account ends (its credentials_version moved); the one making the
  // change, when it sent its token, carries on.
  if (grant) {
    auto now = co_await s.db->admin().find_admin(r.account_id);
    if (now) s.sessions.restamp(bearer(req), r.account_id, stamp_of(*grant), stamp_of(*now));
  }
  co_return ok({{"address", r.address}, {"must_change_password", false}});
}

awaitable<HttpResponse> logout(Shared& s, const HttpRequest& req) {
  s.sessions.erase(bearer(req));
  co_return ok({{"ok", true}});
}

awaitable<std::optional<Principal>> authenticate(Shared& s, const HttpRequest& req) {
  auto token = bearer(req);
  if (token.empty()) co_return std::nullopt;
  auto session = s.sessions.find(token);
  if (!session) co_return std::nullopt;
  store::AccountId id = session->id;
  // Re-read in every process: a revoked or changed role, a suspended account or a new password
  // ends the session at once.
  auto account = co_await s.db->directory().get_account(id);
  auto grant = co_await s.db->admin().find_admin(id);
  if (!account || account->status != store::AccountStatus::active || !grant ||
      stamp_of(*grant) != session->stamp) {
    s.sessions.erase(token);
    co_return std::nullopt;
  }
  co_return Principal{id, account->address, grant->role, grant->units,
                      account->must_change_password};
}

std::optional<std::string> Sessions::create(store::AccountId id, Stamp stamp) {
  std::lock_guard lock(mu_);
  auto now = Clock::now();
  if (tokens_.size() >= kMax)
    std::erase_if(tokens_, [&](const auto& kv) {
      return now - kv.second.used > kIdle || now - kv.second.created > kAbsolute;
    });
  if (tokens_.size() >= kMax) return std::nullopt;
  auto token = core::random_password(40);  // ~230 random bits
  tokens_[token] = {id, stamp, now, now};
  return token;
}

std::optional<Sessions::Found> Sessions::find(const std::string& token) {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return std::nullopt;
  auto now = Clock::now();
  if (now - it->second.used > kIdle || now - it->second.created > kAbsolute) {
    tokens_.erase(it);
    return std::nullopt;
  }
  it->second.used = now;
  return Found{it->second.id, it->second.stamp};
}

void Sessions::restamp(const std::string& token, store::AccountId id, Stamp before, Stamp after) {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(token);
  if (it != tokens_.end() && it->second.id == id && it->second.stamp == before)
    it->second.stamp = after;
}

void Sessions::erase(const std::string& token) {
  std::lock_guard lock(mu_);
  tokens_.erase(token);
}

bool Sessions::totp_locked(store::AccountId id) {
  std::lock_guard lock(mu_);
  auto it = totp_failures_.find(id);
  if (it == totp_failures_.end()) return false;
  if (Clock::now() - it->second.first > kTotpWindow) {
    totp_failures_.erase(it);
    return false;
  }
  return it->second.count >= kTotpFailures;
}

void Sessions::totp_failed(store::AccountId id) {
  std::lock_guard lock(mu_);
  auto& f = totp_failures_[id];
  if (f.count == 0 || Clock::now() - f.first > kTotpWindow) f = {0, Clock::now()};
  ++f.count;
}

}  // namespace govmail::admin::api
