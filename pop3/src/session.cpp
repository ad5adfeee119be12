// The session's dispatcher: frames command lines, enforces state, counters and limits before
// any handler runs (STYLE.md 1), and keeps the maildrop lease alive.
#include <spdlog/spdlog.h>

#include "core/asio.hpp"
#include "core/auth.hpp"
#include "core/log.hpp"
#include "session_impl.hpp"

namespace govmail::pop3 {

SessionConfig SessionConfig::from(const core::Config& cfg, bool starttls_available) {
  SessionConfig c;
  c.hostname = cfg.server.hostname;
  c.starttls_available = starttls_available;
  c.allow_plaintext_on_loopback = cfg.auth.allow_plaintext_on_loopback;
  c.line_max = cfg.limits.pop3_line_max;
  c.max_commands_before_auth = cfg.limits.pop3_max_commands_before_auth;
  c.max_bad_commands = cfg.limits.max_bad_commands;
  c.idle_timeout = cfg.limits.pop3_idle_timeout;
  c.preauth_timeout = cfg.limits.preauth_timeout;
  c.command_timeout = cfg.limits.command_timeout;
  // Renewed by each command, and a session waits at most idle_timeout for one.
  c.lease_ttl = cfg.limits.pop3_idle_timeout + std::chrono::minutes(2);
  return c;
}

Session::Impl::Impl(const SessionConfig& c, Backend& b, ConnectionInfo ci)
    : cfg(c),
      backend(b),
      conn(std::move(ci)),
      reader(c.line_max),
      lease_holder(core::random_password(24)) {}

std::string store_error_text(store::StoreError e) {
  switch (e) {
    case store::StoreError::temporary:
    case store::StoreError::unavailable:
      return "[SYS/TEMP] Mail store temporarily unavailable, try again later";
    case store::StoreError::conflict:
      return "[IN-USE] The maildrop lock was lost to another session";
    case store::StoreError::not_found:
      return "No such message (removed by another session)";
    default:
      return "[SYS/PERM] Internal error";
  }
}

std::string Session::Impl::capabilities() const {
  std::string caps = "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n";
  if (state == State::authorization) {
    if (cfg.starttls_available && !conn.tls) caps += "STLS\r\n";
    if (login_allowed()) caps += "USER\r\nSASL PLAIN\r\n";
  }
  caps += "IMPLEMENTATION govmail\r\n";
  return caps;
}

void Session::Impl::bad_command(std::string_view reason) {
  err(reason);
  if (++bad_commands >= cfg.max_bad_commands) {
    spdlog::info("pop3 ip={} disconnected after {} invalid commands", conn.remote_ip, bad_commands);
    close = true;
  }
}

awaitable<void> Session::Impl::flush_if_large() {
  if (!writer || out.size() < 256 * 1024) co_return;
  std::string chunk = std::exchange(out, {});
  if (!co_await writer(std::move(chunk))) close = true;
}

awaitable<void> Session::Impl::renew_lease() {
  const auto now = std::chrono::steady_clock::now();
  if (!lease_held || now - lease_renewed < cfg.lease_renew_after) co_return;
  auto r = co_await store().lease_mailbox(account, inbox.id, lease_holder, cfg.lease_ttl);
  if (!r) co_return;  // the store is away: the lease still runs, and QUIT checks it
  if (*r) {
    lease_renewed = now;
    co_return;
  }
  lease_held = false;
  spdlog::warn("pop3 ip={} user={} maildrop lease lost", conn.remote_ip, user);
  err("[IN-USE] The maildrop lock was lost to another session; nothing was deleted");
  close = true;
}

awaitable<void> Session::Impl::release_lease() {
  if (!lease_held) co_return;
  lease_held = false;
  auto r = co_await store().release_lease(account, inbox.id, lease_holder);
  if (!r)  // it then expires on its own (lease_ttl)
    spdlog::warn("pop3 user={} maildrop lease not released: {}", user, store::to_string(r.error()));
}

awaitable<void> Session::Impl::dispatch(std::string_view line) {
  if (state == State::authorization && ++commands_before_auth > cfg.max_commands_before_auth) {
    err("Too many commands before login (limits.pop3_max_commands_before_auth)");
    close = true;
    co_return;
  }
  auto cmd = parse_command(line);
  if (!cmd) co_return bad_command(cmd.error());
  const CommandSpec* spec = find_command(cmd->keyword);
  if (!spec) co_return bad_command("Unknown command " + core::log_safe(cmd->keyword, 10));
  if (!(spec->states & static_cast<unsigned>(state)))
    co_return bad_command("Command not valid in this state");
  if (state == State::transaction) {
    co_await renew_lease();
    if (close) co_return;
  }
  try {
    co_await spec->handler(*this, *cmd);
  } catch (const std::exception& e) {
    // A bug must cost one command, not the connection; the client gets no detail.
    spdlog::error("pop3 user={} {} failed: {}", user, cmd->keyword, e.what());
    err("[SYS/PERM] Internal error");
  }
}

Session::Session(const SessionConfig& cfg, Backend& backend, ConnectionInfo conn)
    : impl_(std::make_unique<Impl>(cfg, backend, std::move(conn))) {}
Session::~Session() = default;

std::string Session::greeting() const {
  return "+OK " + impl_->cfg.hostname + " govmail POP3 ready\r\n";
}

void Session::feed(std::string_view bytes) {
  impl_->reader.feed(bytes);
}

awaitable<Session::Output> Session::process() {
  auto& s = *impl_;
  constexpr std::size_t kFlushAt = 256 * 1024;  // past this, write before the next command
  for (;;) {
    if (s.close || s.start_tls || s.out.size() > kFlushAt) break;
    auto ev = s.reader.next();
    if (ev.kind == core::LineReader::Kind::need_more) {
      Output o{.bytes = std::exchange(s.out, {}), .need_input = true};
      co_return o;
    }
    if (ev.kind == core::LineReader::Kind::too_long) {
      s.sasl_pending = false;
      s.bad_command("Line too long (limits.pop3_line_max)");
      continue;
    }
    const std::string line(ev.text);  // the reader's view dies at its next call
    if (s.sasl_pending) {
      s.sasl_pending = false;
      co_await s.sasl_response(line);
    } else {
      co_await s.dispatch(line);
    }
  }
  Output o{.bytes = std::exchange(s.out, {}), .start_tls = s.start_tls, .close = s.close};
  s.start_tls = false;
  co_return o;
}

void Session::set_writer(std::function<awaitable<bool>(std::string)> writer) {
  impl_->writer = std::move(writer);
}

awaitable<void> Session::finish(std::string_view why) {
  spdlog::debug("pop3 ip={} user={} disconnected: {}", impl_->conn.remote_ip, impl_->user, why);
  co_await impl_->release_lease();
}

void Session::tls_started() {
  impl_->conn.tls = true;
  impl_->pending_user.clear();  // nothing from before the handshake counts (RFC 2595 4)
}

core::LineReader& Session::reader() {
  return impl_->reader;
}

bool Session::mid_line() const {
  return impl_->reader.mid_line();
}

bool Session::authenticated() const {
  return impl_->state != State::authorization;
}

std::chrono::milliseconds Session::read_timeout() const {
  if (impl_->state == State::authorization)
    return std::min(impl_->cfg.login_timeout, impl_->cfg.idle_timeout);
  return impl_->cfg.idle_timeout;
}

std::string Session::timeout_reply() const {
  return "-ERR Autologout; idle for too long\r\n";
}

std::int64_t Session::account() const {
  return impl_->state == State::authorization ? 0 : impl_->account;
}

std::uint64_t Session::credentials_version() const {
  return impl_->state == State::authorization ? 0 : impl_->credentials_version;
}

std::string Session::revoked_reply() const {
  return "-ERR [AUTH] Session ended: the account's credentials or status changed\r\n";
}

}  // namespace govmail::pop3
