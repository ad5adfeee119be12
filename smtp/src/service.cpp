// The I/O side of SMTP: moves bytes between a core::Stream and a Session, runs STARTTLS, applies
// the read deadline the session asks for. No protocol logic here.
#include "smtp/service.hpp"

#include <array>

#include <spdlog/spdlog.h>
#include <boost/asio/ssl.hpp>

#include "core/asio.hpp"
#include "core/limits.hpp"
#include "core/line_reader.hpp"
#include "core/session_registry.hpp"
#include "core/stream.hpp"
#include "smtp/backend.hpp"

namespace govmail::smtp {
namespace {

struct ServiceSpec {
  const char* name;
  const std::vector<std::string>& listen;
  Mode mode;
  core::TlsMode tls;
};

}  // namespace

awaitable<void> serve_connection(core::Stream& stream, const SessionConfig& cfg, Backend& backend,
                                 core::TlsContext tls, core::SessionRegistry* sessions) {
  Session session(cfg, backend, {stream.remote_address(), stream.is_loopback(), stream.is_tls()});
  if (!co_await stream.write(session.greeting())) co_return;
  core::ConnectionDeadlines deadlines(cfg.session_deadline, cfg.command_deadline);
  bool pre_auth = cfg.mode == Mode::submission;  // MX keeps its session deadline
  core::RevocableSession revocable(stream, sessions);
  std::array<char, 64 * 1024> buf;
  for (;;) {
    const auto before = revocable.now();
    auto out = co_await session.process();
    revocable.logged_in(session.account(), session.credentials_version(), before);
    // Before the login's OK goes out: a client reconnecting on seeing it finds the slot free.
    if (pre_auth && session.authenticated()) {
      pre_auth = false;
      deadlines.end_session_deadline();
      stream.authenticated();
    }
    if (!out.bytes.empty() && !co_await stream.write(out.bytes)) {
      session.disconnected("write failed");
      co_return;
    }
    if (out.close) co_return;
    if (revocable.revoked()) {
      co_await stream.write(session.revoked_reply());
      session.disconnected("credentials changed");
      co_return;
    }
    if (out.start_tls) {
      auto r = co_await stream.start_tls(*tls, session.reader());
      if (r.bytes)
        spdlog::warn("smtp ip={} sent {} bytes pipelined after STARTTLS: discarded",
                     stream.remote_address(), r.bytes);
      if (!r) {
        spdlog::info("smtp ip={} TLS handshake failed: {}", stream.remote_address(),
                     r.ec.message());
        co_return;
      }
      session.tls_started();
      continue;
    }
    if (!out.need_input) continue;
    deadlines.command_state(session.mid_command());
    stream.set_read_timeout(deadlines.read_timeout(session.read_timeout()));
    // A deadline already passed ends the connection even if the client keeps sending.
    core::IoResult r{0, boost::asio::error::timed_out};
    if (!deadlines.expired()) r = co_await stream.read_some(buf);
    if (!r) {
      if (revocable.revoked()) {
        // Between commands or within DATA/BDAT: nothing unfinished was acknowledged.
        co_await stream.write(session.revoked_reply());
        session.disconnected("credentials changed");
      } else if (r.ec == boost::asio::error::timed_out) {
        co_await stream.write(session.timeout_reply());
        session.disconnected("timeout");
      } else if (r.ec == boost::asio::error::shut_down) {
        // Between commands, or in DATA/BDAT before the end: nothing unfinished was acknowledged.
        co_await stream.write(session.shutdown_reply());
        session.disconnected("server shutting down");
      } else {
        session.disconnected(r.ec == boost::asio::error::eof ? "client closed" : r.ec.message());
      }
      co_return;
    }
    session.feed(std::string_view(buf.data(), r.bytes));
  }
}

Result<void, std::string> add_services(core::Server& server, const core::Config& cfg,
                                       std::shared_ptr<Backend> backend, core::TlsContext tls,
                                       std::shared_ptr<const InboundAuth> inbound_auth,
                                       std::shared_ptr<core::SessionRegistry> sessions) {
  const ServiceSpec specs[] = {
      {"smtp", cfg.listen.smtp, Mode::mx, core::TlsMode::none},
      {"submission", cfg.listen.submission, Mode::submission, core::TlsMode::none},
      {"submissions", cfg.listen.submissions, Mode::submission, core::TlsMode::implicit},
  };
  for (const auto& spec : specs) {
    if (spec.listen.empty()) continue;
    if (spec.tls == core::TlsMode::implicit && !tls)
      return unexpected(std::string(spec.name) + ": implicit TLS needs a TLS certificate");
    const bool starttls = tls && spec.tls == core::TlsMode::none;
    auto with_checks = SessionConfig::from(cfg, spec.mode, starttls);
    if (spec.mode == Mode::mx) with_checks.inbound_auth = inbound_auth;
    auto session_cfg = std::make_shared<const SessionConfig>(std::move(with_checks));
    core::ServiceOptions opts;
    opts.name = spec.name;
    opts.listen = spec.listen;
    opts.tls = spec.tls;
    opts.tls_context = tls;
    opts.read_timeout = session_cfg->command_timeout;
    opts.interrupt_reads_on_shutdown = true;
    opts.preauth_limited = spec.mode == Mode::submission;
    opts.handler = [session_cfg, backend, tls, sessions](core::Stream& stream) {
      return serve_connection(stream, *session_cfg, *backend, tls, sessions.get());
    };
    opts.on_reject = [host = cfg.server.hostname](core::Stream& stream) -> awaitable<void> {
      co_await stream.write("421 4.7.0 " + host + " Too many connections, try again later\r\n");
    };
    if (auto r = server.add_service(std::move(opts)); !r) return r;
  }
  return {};
}

}  // namespace govmail::smtp
