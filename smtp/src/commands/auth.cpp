// AUTH PLAIN and LOGIN (RFC 4954, RFC 4616): only where auth_allowed() (TLS, or loopback when the
// config allows plaintext). Lock-out and failure counting are AuthService's; one log line per
// attempt, never the password.
#include <spdlog/spdlog.h>

#include "../session_impl.hpp"
#include "core/asio.hpp"
#include "core/log.hpp"

namespace govmail::smtp {
namespace {

std::optional<std::string> base64_decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = in[i + k];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else if (pad || (v[k] = value(c)) < 0) {
        return std::nullopt;
      }
    }
    unsigned n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>(n >> 16);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

awaitable<void> verify(Session::Impl& s, std::string_view mech, std::string user,
                       std::string password) {
  s.phase = Phase::command;
  s.sasl.reset();
  auto r = co_await s.backend.authenticate(user, std::move(password), s.conn.remote_ip);
  static constexpr const char* kNames[] = {"ok", "bad_credentials", "locked_out", "temporary"};
  spdlog::info("smtp auth ip={} user={} mech={} tls={} result={}", s.conn.remote_ip,
               core::log_safe(user, 80), mech, s.conn.tls, kNames[static_cast<int>(r.outcome)]);
  switch (r.outcome) {
    case core::AuthOutcome::ok:
      s.auth = AuthUser{r.account_id, r.address, r.credentials_version};
      s.reply(235, "2.7.0", "Authentication successful");
      break;
    case core::AuthOutcome::bad_credentials:
      s.bad_command({535, "5.7.8", "Authentication credentials invalid"});
      break;
    case core::AuthOutcome::locked_out:
      s.reply(421, "4.7.0",
              "Too many authentication failures, try again in " +
                  std::to_string(r.retry_after.count()) + " seconds");
      s.close = true;
      break;
    case core::AuthOutcome::temporary:
      s.reply(454, "4.7.0", "Temporary authentication failure");
      break;
  }
}

// RFC 4616: [authzid] NUL authcid NUL passwd; an authzid other than the user is refused.
awaitable<void> plain(Session::Impl& s, std::string_view decoded) {
  auto n1 = decoded.find('\0');
  auto n2 = n1 == std::string_view::npos ? n1 : decoded.find('\0', n1 + 1);
  if (n2 == std::string_view::npos) {
    s.phase = Phase::command;
    s.sasl.reset();
    s.bad_command({501, "5.5.2", "Malformed PLAIN response"});
    co_return;
  }
  auto authzid = decoded.substr(0, n1);
  auto user = decoded.substr(n1 + 1, n2 - n1 - 1);
  if (!authzid.empty() && lower_ascii(authzid) != lower_ascii(user)) {
    s.phase = Phase::command;
    s.sasl.reset();
    s.bad_command({535, "5.7.8", "Authorization identity not allowed"});
    co_return;
  }
  co_await verify(s, "PLAIN", std::string(user), std::string(decoded.substr(n2 + 1)));
}

}  // namespace

awaitable<void> cmd_auth(Session::Impl& s, std::string_view arg) {
  if (!s.auth_offered()) {
    s.bad_command({502, "5.5.1", "AUTH not available on this port"});
    co_return;
  }
  if (s.auth) {
    s.bad_command({503, "5.5.1", "Already authenticated"});
    co_return;
  }
  if (!s.auth_allowed()) {
    s.bad_command({538, "5.7.11", "Encryption required for requested authentication mechanism"});
    co_return;
  }
  auto sp = arg.find(' ');
  std::string mech = lower_ascii(arg.substr(0, sp));
  std::string_view initial = sp == std::string_view::npos ? "" : arg.substr(sp + 1);
  if (mech != "plain" && mech != "login") {
    s.bad_command({504, "5.5.4", "Unrecognized authentication type"});
    co_return;
  }
  s.sasl = SaslState{mech == "plain" ? "PLAIN" : "LOGIN", 0, {}};
  s.phase = Phase::sasl;
  if (initial.empty()) {
    s.out += mech == "plain" ? "334 \r\n" : "334 VXNlcm5hbWU6\r\n";  // "Username:"
    co_return;
  }
  co_await auth_continue(s, initial == "=" ? std::string_view{} : initial);
}

awaitable<void> auth_continue(Session::Impl& s, std::string_view line) {
  if (line == "*") {
    s.phase = Phase::command;
    s.sasl.reset();
    s.bad_command({501, "5.0.0", "Authentication cancelled"});
    co_return;
  }
  auto decoded = base64_decode(line);
  if (!decoded) {
    s.phase = Phase::command;
    s.sasl.reset();
    s.bad_command({501, "5.5.2", "Invalid base64 data"});
    co_return;
  }
  if (s.sasl->mech == "PLAIN") {
    co_await plain(s, *decoded);
  } else if (s.sasl->step == 0) {
    s.sasl->user = std::move(*decoded);
    s.sasl->step = 1;
    s.out += "334 UGFzc3dvcmQ6\r\n";  // "Password:"
  } else {
    co_await verify(s, "LOGIN", s.sasl->user, std::move(*decoded));
  }
}

}  // namespace govmail::smtp
