// The dispatcher: reads command lines, enforces the command table's flags and the error and junk
// budgets, and hands DATA lines and BDAT bytes to the message code.
#include <array>
#include <random>

#include <spdlog/spdlog.h>

#include "core/asio.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "session_impl.hpp"

namespace govmail::smtp {
namespace {

constexpr std::array<CommandSpec, 14> kCommands{{
    {Verb::helo, cmd_helo, kJunk | kLastInPipeline},
    {Verb::ehlo, cmd_ehlo, kJunk | kLastInPipeline},
    {Verb::mail, cmd_mail, kNeedHelo},
    {Verb::rcpt, cmd_rcpt, kNeedHelo},
    {Verb::data, cmd_data, kNeedHelo | kLastInPipeline},
    {Verb::bdat, cmd_bdat, kNeedHelo},
    {Verb::rset, cmd_rset, kJunk},
    {Verb::noop, cmd_noop, kJunk | kLastInPipeline},
    {Verb::quit, cmd_quit, kLastInPipeline},
    {Verb::vrfy, cmd_vrfy, kJunk | kLastInPipeline},
    {Verb::expn, cmd_expn, kJunk | kLastInPipeline},
    {Verb::help, cmd_help, kJunk | kLastInPipeline},
    {Verb::starttls, cmd_starttls, kNeedHelo | kNotInMail | kLastInPipeline},
    {Verb::auth, cmd_auth, kNeedHelo | kNotInMail | kLastInPipeline},
}};

const CommandSpec* find_spec(Verb v) {
  for (const auto& c : kCommands)
    if (c.verb == v) return &c;
  return nullptr;
}

awaitable<void> dispatch(Session::Impl& s, std::string_view line) {
  Command cmd = parse_command(line);
  const CommandSpec* spec = find_spec(cmd.verb);
  if (!spec) {
    s.bad_command({500, "5.5.2", "Command unrecognized"});
    co_return;
  }
  if ((spec->flags & kNeedHelo) && s.helo.empty()) {
    s.bad_command({503, "5.5.1", "Send HELO/EHLO first"});
    co_return;
  }
  if ((spec->flags & kNotInMail) && s.tx.active) {
    s.bad_command({503, "5.5.1", "Not allowed during a mail transaction"});
    co_return;
  }
  if ((spec->flags & kJunk) && !s.tx.active && ++s.junk_commands > s.cfg.max_commands_before_mail) {
    spdlog::info("smtp ip={} too many commands before MAIL (limits.smtp_max_commands_before_mail)",
                 s.conn.remote_ip);
    s.reply(421, "4.7.0", s.cfg.hostname + " Too many commands, closing connection");
    s.close = true;
    co_return;
  }
  co_await spec->handler(s, cmd.arg);
  if (spec->flags & kLastInPipeline) s.flush = true;
}

std::string new_queue_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string id(16, '0');
  auto v = rng();
  for (auto& c : id) {
    c = kHex[v & 15];
    v >>= 4;
  }
  return id;
}

}  // namespace

SessionConfig SessionConfig::from(const core::Config& c, Mode mode, bool starttls_available) {
  SessionConfig s;
  s.hostname = c.server.hostname;
  s.mode = mode;
  s.starttls_available = starttls_available;
  s.allow_plaintext_auth_on_loopback = c.auth.allow_plaintext_on_loopback;
  s.vrfy = c.smtp.vrfy;
  s.max_message_bytes = c.limits.max_message_bytes;
  s.max_recipients = c.limits.smtp_max_recipients;
  s.line_max = c.limits.smtp_line_max;
  s.data_line_max = c.limits.smtp_data_line_max;
  s.sender_domains_max = c.limits.smtp_sender_domains_max;
  s.vacation_resend_after = c.smtp.vacation_resend_after;
  s.max_commands_before_mail = c.limits.smtp_max_commands_before_mail;
  s.max_bad_commands = c.limits.max_bad_commands;
  s.command_timeout = c.limits.smtp_command_timeout;
  s.data_timeout = c.limits.smtp_data_timeout;
  s.command_deadline = c.limits.command_timeout;
  s.session_deadline = mode == Mode::mx ? c.limits.mx_session_timeout : c.limits.preauth_timeout;
  core::inflight_message_bytes().set_limit(c.limits.max_inflight_message_bytes);
  return s;
}

Session::Impl::Impl(const SessionConfig& c, Backend& b, ConnectionInfo ci)
    : cfg(c), backend(b), conn(std::move(ci)), reader(c.line_max) {}

void Session::Impl::bad_command(const Reply& r) {
  if (++bad_commands >= cfg.max_bad_commands) {
    spdlog::info("smtp ip={} too many bad commands (limits.max_bad_commands)", conn.remote_ip);
    reply(421, "4.7.0", cfg.hostname + " Too many errors, closing connection");
    close = true;
    return;
  }
  reply(r);
}

void Session::Impl::reset_transaction() {
  tx = Transaction{};
}

void Session::Impl::append_body(std::string_view bytes) {
  if (tx.over_budget) return;
  if (!tx.held.grow(bytes.size())) {
    spdlog::warn("smtp ip={} message bytes in flight over limits.max_inflight_message_bytes",
                 conn.remote_ip);
    tx.over_budget = true;
    std::string().swap(tx.body);  // nothing of it will be stored
    tx.held.release();
    return;
  }
  tx.body.append(bytes);
}

void Session::Impl::enter_data_mode() {
  phase = Phase::data;
  reader.set_line_ending(core::LineEnding::crlf_only);
  reader.set_max_line(cfg.data_line_max);
}

void Session::Impl::leave_data_mode() {
  phase = Phase::command;
  reader.set_line_ending(core::LineEnding::crlf_or_lf);
  reader.set_max_line(cfg.line_max);
}

bool Session::Impl::auth_allowed() const {
  return auth_offered() && (conn.tls || (conn.loopback && cfg.allow_plaintext_auth_on_loopback));
}

std::string Session::Impl::protocol_name() const {
  std::string with;
  if (tx.from.smtputf8)
    with = "UTF8SMTP";
  else if (esmtp)
    with = "ESMTP";
  else
    return "SMTP";
  if (conn.tls) with += 'S';
  if (auth) with += 'A';
  return with;
}

// Domains are compared in the directory's form (A-labels, lower case, no trailing dot), so that
// "LOCAL.gov.vn." or a U-label spelling of a local domain is still recognised as local.
awaitable<store::Result<bool>> Session::Impl::is_local_domain(std::string domain) {
  auto ascii = core::domain_to_ascii(domain);
  domain = ascii ? std::move(*ascii) : lower_ascii(domain);
  if (auto it = local_domains.find(domain); it != local_domains.end()) co_return it->second;
  auto r = co_await backend.is_local_domain(domain);
  if (r) local_domains.emplace(domain, *r);
  co_return r;
}

void Session::Impl::log_transaction(std::string_view result) const {
  std::string rcpts;
  for (std::size_t i = 0; i < tx.rcpts.size() && i < 5; ++i) {
    if (i) rcpts += ',';
    rcpts += core::log_safe(tx.rcpts[i].address, 80);
  }
  if (tx.rcpts.size() > 5) rcpts += ",...";
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  tx.started)
                .count();
  spdlog::info(
      "smtp tx id={} ip={} user={} from=<{}> rcpts={} [{}] accounts={} remote={} size={} "
      "result=\"{}\" ms={}",
      tx.queue_id, conn.remote_ip, auth ? auth->address : "-", core::log_safe(tx.from.address, 80),
      tx.rcpts.size(), rcpts, tx.accounts.size(), tx.remote.size(), tx.body.size(),
      core::log_safe(result, 120), ms);
}

Session::Session(const SessionConfig& cfg, Backend& backend, ConnectionInfo conn)
    : impl_(std::make_unique<Impl>(cfg, backend, std::move(conn))) {}

Session::~Session() = default;

std::string Session::greeting() const {
  return Reply{220, "", impl_->cfg.hostname + " ESMTP govmail"}.wire();
}

void Session::feed(std::string_view bytes) {
  impl_->reader.feed(bytes);
}

core::LineReader& Session::reader() {
  return impl_->reader;
}

bool Session::authenticated() const {
  return impl_->auth.has_value();
}

bool Session::mid_command() const {
  return impl_->phase != Phase::command || impl_->reader.mid_line();
}

std::chrono::milliseconds Session::read_timeout() const {
  auto p = impl_->phase;
  return p == Phase::data || p == Phase::bdat ? impl_->cfg.data_timeout
                                              : impl_->cfg.command_timeout;
}

std::string Session::timeout_reply() const {
  return Reply{421, "4.4.2", impl_->cfg.hostname + " Error: timeout exceeded"}.wire();
}

std::string Session::shutdown_reply() const {
  return Reply{421, "4.3.2", impl_->cfg.hostname + " Service shutting down"}.wire();
}

std::int64_t Session::account() const {
  return impl_->auth ? impl_->auth->account : 0;
}

std::uint64_t Session::credentials_version() const {
  return impl_->auth ? impl_->auth->credentials_version : 0;
}

std::string Session::revoked_reply() const {
  return Reply{421, "4.7.0",
               impl_->cfg.hostname + " Session ended: the account's credentials or status changed"}
      .wire();
}

void Session::tls_started() {
  auto& s = *impl_;
  s.conn.tls = true;
  s.start_tls = false;
  s.helo.clear();
  s.esmtp = false;
  s.auth.reset();
  s.sasl.reset();
  s.reset_transaction();
}

void Session::disconnected(std::string_view why) {
  auto& s = *impl_;
  if (s.tx.active) s.log_transaction(std::string("aborted: ") + std::string(why));
  s.reset_transaction();
}

awaitable<Session::Output> Session::process() {
  auto& s = *impl_;
  Output o;
  while (!s.close && !s.start_tls && !s.flush) {
    if (s.phase == Phase::bdat) {
      auto bytes = s.reader.take_bytes(
          static_cast<std::size_t>(std::min<std::uint64_t>(s.bdat_remaining, 1u << 20)));
      if (bytes.empty() && s.bdat_remaining > 0) {
        o.need_input = true;
        break;
      }
      if (!s.tx.too_big && s.tx.body.size() + bytes.size() > s.cfg.max_message_bytes)
        s.tx.too_big = true;
      if (!s.tx.too_big && !s.tx.bdat_error) s.append_body(bytes);
      s.bdat_remaining -= bytes.size();
      if (s.bdat_remaining == 0) co_await finish_chunk(s);
      continue;
    }
    auto ev = s.reader.next();
    if (ev.kind == core::LineReader::Kind::need_more) {
      o.need_input = true;
      break;
    }
    if (s.phase == Phase::data) {
      if (ev.kind == core::LineReader::Kind::too_long) {
        s.tx.line_too_long = true;
      } else if (data_line(s, ev.text)) {
        s.leave_data_mode();
        co_await finish_message(s);
      }
      continue;
    }
    if (ev.kind == core::LineReader::Kind::too_long) {
      s.sasl.reset();
      s.phase = Phase::command;
      s.bad_command({500, "5.5.2", "Line too long (limits.smtp_line_max)"});
      continue;
    }
    std::string line(ev.text);  // the reader's view does not survive an await
    if (s.phase == Phase::sasl)
      co_await auth_continue(s, line);
    else
      co_await dispatch(s, line);
  }
  s.flush = false;
  o.bytes = std::move(s.out);
  s.out.clear();
  o.close = s.close;
  o.start_tls = s.start_tls;
  if (o.close || o.start_tls) o.need_input = false;
  co_return o;
}

// Used by MAIL: a new transaction.
std::string make_queue_id() {
  return new_queue_id();
}

}  // namespace govmail::smtp
