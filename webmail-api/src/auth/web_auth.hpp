// Who is asking, for every JMAP and webmail request: HTTP Basic through the shared
// core::AuthService (credentials cache, lock-outs, app passwords), a bearer token or the session
// cookie from POST /jmap/login (stored hashed in the database: any govmail process accepts it),
// and the CSRF and Origin checks of state-changing requests.
#pragma once
#include <memory>
#include <string>
#include <variant>

#include "core/awaitable_fwd.hpp"
#include "core/http_server.hpp"
#include "store/types.hpp"

namespace govmail::core {
class AuthService;
struct Config;
}  // namespace govmail::core
namespace govmail::store {
class Database;
}

namespace govmail::webmail::auth {

struct Principal {
  enum class Via { basic, bearer, cookie };
  store::AccountId account_id = 0;
  std::string address;
  Via via = Via::basic;
  std::string token_sha256;               // bearer and cookie: the session's token hash (logout)
  std::uint64_t credentials_version = 0;  // the account's when it was checked (push revocation)
};

// Whether the client reached us over TLS: directly, or through a reverse proxy on loopback that
// says so (X-Forwarded-Proto: https; only a local process can connect from loopback).
bool client_used_tls(const core::HttpRequest& request);

class WebAuth {
 public:
  WebAuth(const core::Config& cfg, std::shared_ptr<store::Database> db, core::AuthService& auth);

  // The principal, or the answer that refuses the request (401, 403, 429, 503).
  // `state_changing`: a request that may change data (POST): cookies then need the CSRF token,
  // and a foreign Origin is refused whatever the credentials.
  awaitable<std::variant<Principal, core::HttpResponse>> authenticate(
      const core::HttpRequest& request, bool state_changing);

  // POST /jmap/login {"username","password"} -> token, CSRF token, cookie.
  awaitable<core::HttpResponse> login(const core::HttpRequest& request);
  // POST /jmap/logout: ends the session of the token or cookie used.
  awaitable<core::HttpResponse> logout(const core::HttpRequest& request);

  // Whether passwords may cross this connection (TLS, or loopback when the config allows).
  bool password_transport_ok(const core::HttpRequest& request) const;

 private:
  awaitable<void> maybe_sweep();

  const core::Config& cfg_;
  std::shared_ptr<store::Database> db_;
  core::AuthService& auth_;
  std::shared_ptr<std::atomic<std::int64_t>> last_sweep_;
};

}  // namespace govmail::webmail::auth
