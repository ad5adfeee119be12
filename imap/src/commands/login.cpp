// LOGIN, and the password check it shares with AUTHENTICATE.
#include <spdlog/spdlog.h>

#include "core/log.hpp"
#include "session_impl.hpp"

namespace govmail::imap {

awaitable<Reply> Session::Impl::authenticate(std::string name, std::string password) {
  if (!login_allowed()) co_return no("[PRIVACYREQUIRED] Use TLS (STARTTLS) before logging in");
  auto r = co_await backend.authenticate(name, std::move(password), conn.remote_ip);
  switch (r.outcome) {
    case core::AuthOutcome::ok:
      account = r.account_id;
      credentials_version = r.credentials_version;
      user = r.address;
      state = State::authenticated;
      rx.authenticated();
      // "cached": no argon2id hash was paid (bench/imap/run.sh counts these).
      spdlog::info("imap ip={} user={} logged in{}", conn.remote_ip, user,
                   r.from_cache ? " (cached)" : "");
      co_return ok("[CAPABILITY " + capabilities() + "] Logged in");
    case core::AuthOutcome::temporary:
      co_return no("[UNAVAILABLE] Authentication temporarily unavailable");
    case core::AuthOutcome::locked_out:
    case core::AuthOutcome::bad_credentials:
      break;
  }
  spdlog::info("imap ip={} user={} authentication failed", conn.remote_ip,
               core::log_safe(name, 64));
  if (++auth_failures >= cfg.max_auth_failures) {
    untagged("BYE Too many authentication failures");
    close = true;
  }
  // Locked out or wrong: the same words, so that a guesser learns nothing (STYLE.md 12).
  co_return no("[AUTHENTICATIONFAILED] Authentication failed");
}

GOVMAIL_IMAP_HANDLER(cmd_login) {
  if (cmd.args.size() != 2 || !cmd.args[0].is_string() || !cmd.args[1].is_string())
    co_return bad("LOGIN needs a user name and a password");
  co_return co_await s.authenticate(cmd.args[0].value, cmd.args[1].value);
}

}  // namespace govmail::imap
