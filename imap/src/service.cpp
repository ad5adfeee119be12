// The I/O side of IMAP: moves bytes between a core::Stream and a Session, runs STARTTLS, and
// while the client IDLEs runs a watcher that writes the session's updates whenever the selected
// mailbox changes (woken by the store's notification), alongside the pending read.
#include "imap/service.hpp"

#include <array>
#include <span>

#include <spdlog/spdlog.h>
#include <boost/asio/ssl.hpp>

#include "core/asio.hpp"
#include "core/limits.hpp"
#include "core/line_reader.hpp"
#include "core/session_registry.hpp"
#include "core/stream.hpp"
#include "deflate.hpp"
#include "idle_watch.hpp"
#include "imap/backend.hpp"
#include "message_cache.hpp"

namespace govmail::imap {
namespace {

// Inflated bytes handed to the session at once (after COMPRESS): a bomb stays this small.
constexpr std::size_t kInflateChunk = 64 * 1024;

// The stream, deflated after COMPRESS (RFC 4978).
struct Wire {
  core::Stream& stream;
  std::unique_ptr<Deflate> z;

  awaitable<bool> write(std::string_view bytes) {
    if (!z) co_return static_cast<bool>(co_await stream.write(bytes));
    const std::string packed = z->compress(bytes);
    co_return static_cast<bool>(co_await stream.write(packed));
  }
};

std::shared_ptr<IdleWatch> start_idle(Session& session, Wire& wire) {
  auto w = std::make_shared<IdleWatch>(
      wire.stream.executor(), [&session] { return session.idle_updates(); },
      [&wire](std::string bytes) -> awaitable<bool> {
        co_return co_await wire.write(bytes);  // a coroutine: `bytes` lives until written
      },
      [&stream = wire.stream] { stream.interrupt_reads(); });
  // A weak_ptr only: the closures fit in std::function without an allocation of their own.
  session.set_wake([weak = std::weak_ptr<IdleWatch>(w)] {
    if (auto w = weak.lock())
      asio::post(w->executor(), [weak] {
        if (auto w = weak.lock()) w->changed();
      });
  });
  return w;
}

// Stops the updates (no wake runs once set_wake returns) and waits for a writer still running.
awaitable<void> stop_idle(Session& session, const std::shared_ptr<IdleWatch>& w) {
  session.set_wake(nullptr);
  co_await w->stop();
}

}  // namespace

awaitable<void> serve_connection(core::Stream& stream, const SessionConfig& cfg, Backend& backend,
                                 core::TlsContext tls, core::SessionRegistry* sessions) {
  Session session(cfg, backend, {stream.remote_address(), stream.is_loopback(), stream.is_tls()});
  if (!co_await stream.write(session.greeting())) co_return;
  core::RevocableSession revocable(stream, sessions);
  // 4 KiB between commands, 64 KiB while a literal streams in; while the client IDLEs (tens of
  // thousands of sessions) the read goes to a few bytes in the frame and `buf` is released.
  std::vector<char> buf;
  std::array<char, 64> idle_buf;
  std::shared_ptr<IdleWatch> idle;
  Wire wire{stream, nullptr};
  session.set_writer([&wire](std::string bytes) -> awaitable<bool> {
    co_return co_await wire.write(bytes);  // a coroutine: `bytes` lives until written
  });
  std::string inflated;
  core::ConnectionDeadlines deadlines(cfg.preauth_timeout, cfg.command_timeout);
  bool pre_auth = true;
  // Feeds the session the next bounded piece of the compressed input; false when corrupt.
  auto inflate_next = [&]() {
    inflated.clear();
    if (!wire.z->inflate_some(inflated, kInflateChunk)) return false;
    session.feed(inflated);
    return true;
  };
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
    if (!out.bytes.empty() && !co_await wire.write(out.bytes)) {
      session.disconnected("write failed");
      break;
    }
    if (out.close) break;
    if (revocable.revoked()) {
      co_await wire.write(session.revoked_reply());
      session.disconnected("credentials changed");
      break;
    }
    if (out.start_compress) {
      wire.z = std::make_unique<Deflate>();
      continue;
    }
    if (out.start_tls) {
      auto r = co_await stream.start_tls(*tls, session.reader());
      if (r.bytes)
        spdlog::warn("imap ip={} sent {} bytes pipelined after STARTTLS: discarded",
                     stream.remote_address(), r.bytes);
      if (!r) {
        spdlog::info("imap ip={} TLS handshake failed: {}", stream.remote_address(),
                     r.ec.message());
        break;
      }
      session.tls_started();
      continue;
    }
    if (!out.need_input) continue;
    if (wire.z && wire.z->has_input()) {
      if (!inflate_next()) {
        session.disconnected("corrupt DEFLATE stream");
        break;
      }
      continue;
    }
    out.bytes.clear();
    out.bytes.shrink_to_fit();  // an answer may be long: not kept for the whole read
    if (out.idling && !idle) idle = start_idle(session, wire);
    deadlines.command_state(session.mid_command() || session.mid_line());
    stream.set_read_timeout(deadlines.read_timeout(session.read_timeout()));
    if (out.idling && !session.mid_command()) {
      std::vector<char>().swap(buf);  // `= {}` would keep the capacity
      session.release_buffers();
    } else {
      buf.resize(session.mid_command() ? 64 * 1024 : 4096);
      buf.shrink_to_fit();
    }
    std::span<char> into = buf.empty() ? std::span<char>(idle_buf) : std::span<char>(buf);
    // A deadline already passed ends the connection even if the client keeps sending.
    core::IoResult r{0, boost::asio::error::timed_out};
    if (!deadlines.expired()) r = co_await stream.read_some(into);
    bool idle_failed = false;  // the writer threw, possibly while stop_idle waited for it
    if (idle) {
      co_await stop_idle(session, idle);
      idle_failed = idle->failed();
      idle.reset();
    }
    if (idle_failed) {
      co_await wire.write("* BYE [SERVERBUG] Internal error, please reconnect\r\n");
      session.disconnected("IDLE updates failed");
      break;
    }
    if (!r) {
      if (revocable.revoked()) {
        co_await wire.write(session.revoked_reply());
        session.disconnected("credentials changed");
      } else if (r.ec == boost::asio::error::timed_out) {
        co_await wire.write(session.timeout_reply());
        session.disconnected("timeout");
      } else {
        session.disconnected(r.ec == boost::asio::error::eof ? "client closed" : r.ec.message());
      }
      break;
    }
    if (!wire.z) {
      session.feed(std::string_view(into.data(), r.bytes));
      continue;
    }
    wire.z->push(std::string_view(into.data(), r.bytes));
    if (!inflate_next()) {
      session.disconnected("corrupt DEFLATE stream");
      break;
    }
  }
  if (idle) co_await stop_idle(session, idle);
}

Result<void, std::string> add_services(core::Server& server, const core::Config& cfg,
                                       std::shared_ptr<Backend> backend, core::TlsContext tls,
                                       std::shared_ptr<core::SessionRegistry> sessions) {
  const core::ServicePair pair{"imap", cfg.listen.imap, "imaps", cfg.listen.imaps};
  backend->message_cache().set_max_bytes(cfg.limits.imap_message_cache_bytes);
  return core::add_service_pair(server, pair, tls, [&](core::ServiceOptions& opts, bool starttls) {
    auto session_cfg = std::make_shared<const SessionConfig>(SessionConfig::from(cfg, starttls));
    opts.read_timeout = session_cfg->login_timeout;
    opts.preauth_limited = true;
    opts.handler = [session_cfg, backend, tls, sessions](core::Stream& stream) {
      return serve_connection(stream, *session_cfg, *backend, tls, sessions.get());
    };
    opts.on_reject = [](core::Stream& stream) -> awaitable<void> {
      co_await stream.write("* BYE Too many connections, try again later\r\n");
    };
  });
}

}  // namespace govmail::imap
