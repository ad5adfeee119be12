#include "auth/web_auth.hpp"

#include <atomic>
#include <chrono>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "auth/credentials.hpp"
#include "core/auth.hpp"
#include "core/config.hpp"
#include "core/hex.hpp"
#include "store/database.hpp"
#include "store/jmap_store.hpp"
#include "store/login_audit.hpp"

namespace govmail::webmail::auth {

using core::HttpRequest;
using core::HttpResponse;
using Json = nlohmann::json;

namespace {

constexpr std::int64_t kSweepEverySeconds = 60;

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A browser's fetch() must not raise the Basic login dialog: the challenge goes to other clients
// (browsers send Sec-Fetch-Mode with every fetch; navigation is "navigate").
HttpResponse unauthorized(const HttpRequest& request, std::string_view message) {
  HttpResponse r = HttpResponse::error(401, message);
  auto mode = request.header("Sec-Fetch-Mode");
  if (mode.empty() || mode == "navigate")
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"govmail\", charset=\"UTF-8\"");
  return r;
}

HttpResponse locked_out(std::chrono::seconds retry_after) {
  HttpResponse r = HttpResponse::error(429, "too many failed logins; try later");
  r.headers.emplace_back("Retry-After", std::to_string(std::max<long>(1, retry_after.count())));
  return r;
}

bool origin_refused(const HttpRequest& request) {
  auto origin = request.header("Origin");
  if (origin.empty()) return false;  // not a browser's cross-origin request (or same-origin GET)
  return !same_origin(origin, request.header("Host"), client_used_tls(request));
}

}  // namespace

bool client_used_tls(const HttpRequest& request) {
  return request.tls || (request.loopback && request.header("X-Forwarded-Proto") == "https");
}

WebAuth::WebAuth(const core::Config& cfg, std::shared_ptr<store::Database> db,
                 core::AuthService& auth)
    : cfg_(cfg),
      db_(std::move(db)),
      auth_(auth),
      last_sweep_(std::make_shared<std::atomic<std::int64_t>>(0)) {}

bool WebAuth::password_transport_ok(const HttpRequest& request) const {
  return client_used_tls(request) || (request.loopback && cfg_.auth.allow_plaintext_on_loopback);
}

awaitable<void> WebAuth::maybe_sweep() {
  std::int64_t now = now_seconds();
  std::int64_t last = last_sweep_->load();
  if (now - last < kSweepEverySeconds || !last_sweep_->compare_exchange_strong(last, now))
    co_return;
  auto swept = co_await db_->jmap().sweep();
  if (!swept) spdlog::warn("jmap: sweeping expired sessions and uploads failed");
}

awaitable<std::variant<Principal, HttpResponse>> WebAuth::authenticate(const HttpRequest& request,
                                                                       bool state_changing) {
  if (state_changing && origin_refused(request))
    co_return HttpResponse::error(403, "cross-origin request refused");
  auto authorization = request.header("Authorization");
  if (auto basic = parse_basic(authorization)) {
    if (!password_transport_ok(request))
      co_return HttpResponse::error(403, "passwords are accepted over TLS only");
    core::AuthResult r = co_await auth_.verify(basic->username, std::move(basic->password),
                                               request.remote_address, core::Freshness::recent);
    // Basic sends the password with every request: a verification the cache answered is the
    // same client again, not a new login (failures are always audited).
    if (!r.from_cache || r.outcome != core::AuthOutcome::ok)
      r = store::audited_login(*db_, "jmap", basic->username, request.remote_address, std::move(r));
    switch (r.outcome) {
      case core::AuthOutcome::ok:
        co_return Principal{
            r.account_id, r.address, Principal::Via::basic, {}, r.credentials_version};
      case core::AuthOutcome::locked_out:
        co_return locked_out(r.retry_after);
      case core::AuthOutcome::temporary:
        co_return HttpResponse::error(503, "temporarily unavailable; try later");
      case core::AuthOutcome::bad_credentials:
        break;
    }
    co_return unauthorized(request, "invalid credentials");
  }
  Principal::Via via = Principal::Via::bearer;
  std::optional<std::string> token = parse_bearer(authorization);
  if (!token && authorization.empty()) {
    token = cookie_value(request.header("Cookie"), kSessionCookie);
    via = Principal::Via::cookie;
  }
  if (!token || token->empty()) co_return unauthorized(request, "authentication required");
  std::string token_hash = sha256(*token);
  auto session = co_await db_->jmap().find_session(
      token_hash, static_cast<std::int64_t>(cfg_.jmap.session_idle_timeout.count()));
  if (!session) {
    if (session.error() == store::StoreError::not_found)
      co_return unauthorized(request, "session expired or unknown; log in again");
    co_return HttpResponse::error(503, "temporarily unavailable; try later");
  }
  if (via == Principal::Via::cookie && state_changing) {
    // The cookie goes with any request the browser makes; the CSRF token only with ours.
    auto csrf = request.header(kCsrfHeader);
    if (csrf.empty() || !equal_secret(core::to_hex(sha256(csrf)), session->csrf_sha256_hex))
      co_return HttpResponse::error(403, "missing or wrong X-CSRF-Token");
  }
  co_return Principal{session->account_id, std::move(session->address), via, std::move(token_hash),
                      session->credentials_version};
}

awaitable<HttpResponse> WebAuth::login(const HttpRequest& request) {
  if (origin_refused(request)) co_return HttpResponse::error(403, "cross-origin request refused");
  if (!password_transport_ok(request))
    co_return HttpResponse::error(403, "passwords are accepted over TLS only");
  Json body = Json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("username") || !body["username"].is_string() ||
      !body.contains("password") || !body["password"].is_string()) {
    co_return HttpResponse::error(400, "expected {\"username\": ..., \"password\": ...}");
  }
  std::string username = body["username"].get<std::string>();
  std::string password = body["password"].get<std::string>();
  body = Json();  // the password leaves memory with `password` below
  core::AuthResult r = co_await auth_.verify(username, std::move(password), request.remote_address);
  r = store::audited_login(*db_, "jmap", username, request.remote_address, std::move(r));
  switch (r.outcome) {
    case core::AuthOutcome::ok:
      break;
    case core::AuthOutcome::locked_out:
      co_return locked_out(r.retry_after);
    case core::AuthOutcome::temporary:
      co_return HttpResponse::error(503, "temporarily unavailable; try later");
    case core::AuthOutcome::bad_credentials:
      co_return HttpResponse::error(401, "invalid credentials");
  }
  co_await maybe_sweep();
  std::string token = random_token();
  std::string csrf = random_token();
  const auto lifetime = static_cast<long>(cfg_.jmap.session_lifetime.count());
  auto created =
      co_await db_->jmap().create_session(r.account_id, sha256(token), sha256(csrf), lifetime);
  if (!created) {
    if (created.error() == store::StoreError::not_found)
      co_return HttpResponse::error(401, "invalid credentials");
    co_return HttpResponse::error(503, "temporarily unavailable; try later");
  }
  spdlog::info("jmap: login {} from {}", r.address, request.remote_address);
  Json out{{"accountId", "a" + std::to_string(r.account_id)},
           {"username", r.address},
           {"accessToken", token},
           {"csrfToken", csrf},
           {"expiresIn", lifetime}};
  HttpResponse res = HttpResponse::json(200, out.dump());
  res.headers.emplace_back("Set-Cookie", session_cookie(token, lifetime, client_used_tls(request)));
  co_return res;
}

awaitable<HttpResponse> WebAuth::logout(const HttpRequest& request) {
  auto who = co_await authenticate(request, /*state_changing=*/true);
  if (auto* refusal = std::get_if<HttpResponse>(&who)) co_return std::move(*refusal);
  const Principal& p = std::get<Principal>(who);
  if (!p.token_sha256.empty()) {
    auto gone = co_await db_->jmap().delete_session(p.token_sha256);
    if (!gone) co_return HttpResponse::error(503, "temporarily unavailable; try later");
  }
  HttpResponse res;
  res.status = 204;
  res.content_type = "text/plain";
  res.headers.emplace_back("Set-Cookie", clear_session_cookie(client_used_tls(request)));
  co_return res;
}

}  // namespace govmail::webmail::auth
