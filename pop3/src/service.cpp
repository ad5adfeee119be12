// The I/O side of POP3: moves bytes between a core::Stream and a Session, runs STLS, and ends
// every connection through Session::finish (the maildrop lock is given back, nothing deleted
// unless the client said QUIT).
#include "pop3/service.hpp"

#include <array>
#include <span>

#include <spdlog/spdlog.h>
#include <boost/asio/ssl.hpp>

#include "core/asio.hpp"
#include "core/limits.hpp"
#include "core/line_reader.hpp"
#include "core/session_registry.hpp"
#include "core/stream.hpp"
#include "pop3/backend.hpp"

namespace govmail::pop3 {
namespace {

// Runs the session until the connection should close; returns why, for finish().
awaitable<std::string> run(core::Stream& stream, Session& session, const SessionConfig& cfg,
                           core::TlsContext tls, core::RevocableSession& revocable) {
  std::array<char, 4096> buf;
  core::ConnectionDeadlines deadlines(cfg.preauth_timeout, cfg.command_timeout);
  bool pre_auth = true;
  for (;;) {
    const auto before = revocable.now();
    auto out = co_await session.process();
    revocable.logged_in(session.account(), session.credentials_version(), before);
    // Before the login's +OK goes out: a client reconnecting on seeing it finds the slot free.
    if (pre_auth && session.authenticated()) {
      pre_auth = false;
      deadlines.end_session_deadline();
      stream.authenticated();
    }
    if (!out.bytes.empty() && !co_await stream.write(out.bytes)) co_return "write failed";
    if (out.close) co_return "closed";
    if (revocable.revoked()) {
      co_await stream.write(session.revoked_reply());
      co_return "credentials changed";
    }
    if (out.start_tls) {
      auto r = co_await stream.start_tls(*tls, session.reader());
      if (r.bytes)
        spdlog::warn("pop3 ip={} sent {} bytes pipelined after STLS: discarded",
                     stream.remote_address(), r.bytes);
      if (!r) {
        spdlog::info("pop3 ip={} TLS handshake failed: {}", stream.remote_address(),
                     r.ec.message());
        co_return "TLS handshake failed";
      }
      session.tls_started();
      continue;
    }
    if (!out.need_input) continue;
    deadlines.command_state(session.mid_line());
    stream.set_read_timeout(deadlines.read_timeout(session.read_timeout()));
    // A deadline already passed ends the connection even if the client keeps sending.
    core::IoResult r{0, boost::asio::error::timed_out};
    if (!deadlines.expired()) r = co_await stream.read_some(buf);
    if (!r) {
      if (revocable.revoked()) {
        co_await stream.write(session.revoked_reply());
        co_return "credentials changed";
      }
      if (r.ec == boost::asio::error::timed_out) {
        co_await stream.write(session.timeout_reply());
        co_return "timeout";
      }
      co_return r.ec == boost::asio::error::eof ? "client closed" : r.ec.message();
    }
    session.feed(std::string_view(buf.data(), r.bytes));
  }
}

}  // namespace

awaitable<void> serve_connection(core::Stream& stream, const SessionConfig& cfg, Backend& backend,
                                 core::TlsContext tls, core::SessionRegistry* sessions) {
  Session session(cfg, backend, {stream.remote_address(), stream.is_loopback(), stream.is_tls()});
  if (!co_await stream.write(session.greeting())) co_return;
  core::RevocableSession revocable(stream, sessions);
  session.set_writer([&stream](std::string bytes) -> awaitable<bool> {
    co_return static_cast<bool>(co_await stream.write(bytes));  // `bytes` lives until written
  });
  const std::string why = co_await run(stream, session, cfg, tls, revocable);
  co_await session.finish(why);
}

Result<void, std::string> add_services(core::Server& server, const core::Config& cfg,
                                       std::shared_ptr<Backend> backend, core::TlsContext tls,
                                       std::shared_ptr<core::SessionRegistry> sessions) {
  const core::ServicePair pair{"pop3", cfg.listen.pop3, "pop3s", cfg.listen.pop3s};
  return core::add_service_pair(server, pair, tls, [&](core::ServiceOptions& opts, bool starttls) {
    auto session_cfg = std::make_shared<const SessionConfig>(SessionConfig::from(cfg, starttls));
    opts.read_timeout = session_cfg->login_timeout;
    opts.preauth_limited = true;
    opts.handler = [session_cfg, backend, tls, sessions](core::Stream& stream) {
      return serve_connection(stream, *session_cfg, *backend, tls, sessions.get());
    };
    opts.on_reject = [](core::Stream& stream) -> awaitable<void> {
      co_await stream.write("-ERR [SYS/TEMP] Too many connections, try again later\r\n");
    };
  });
}

}  // namespace govmail::pop3
