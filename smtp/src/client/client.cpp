#include "smtp/client.hpp"

#include <openssl/evp.h>

#include <boost/asio/ssl/context.hpp>

#include "client/message.hpp"
#include "core/asio.hpp"
#include "core/log.hpp"
#include "core/stream.hpp"

namespace govmail::smtp::client {

using Stage = Outcome::Stage;
using ms = std::chrono::milliseconds;

namespace {

constexpr std::size_t kReadSize = 4096;
constexpr std::size_t kWriteBlock = 64 * 1024;  // one data_block timeout covers one block

bool positive(const Reply& r) {
  return r.code >= 200 && r.code < 300;
}
bool negative(const Reply& r) {
  return r.code >= 400 && r.code < 600;
}

Reply local(int code, std::string enhanced, std::string text) {
  return Reply{code, std::move(enhanced), std::move(text)};
}

std::string io_reason(const core::ErrorCode& ec, std::string_view during) {
  std::string what;
  if (ec == asio::error::timed_out)
    what = "timed out";
  else if (ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe)
    what = "connection closed by the remote";
  else
    what = "connection error (" + ec.message() + ")";
  return what + " " + std::string(during);
}

// Control characters, angle brackets or a space outside quotes would let an address inject
// commands or parameters.
bool safe_address(std::string_view a) {
  bool quoted = false;
  for (char ch : a) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f || c == '<' || c == '>') return false;
    if (c == '"') quoted = !quoted;
    if (c == ' ' && !quoted) return false;
  }
  return true;
}

// xtext and keyword values (RFC 3461): printable ASCII, no space, no '='.
bool safe_param(std::string_view v) {
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '=') return false;
  }
  return !v.empty();
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace

const char* to_string(Stage stage) {
  switch (stage) {
    case Stage::connect:
      return "connect";
    case Stage::greeting:
      return "greeting";
    case Stage::ehlo:
      return "ehlo";
    case Stage::starttls:
      return "starttls";
    case Stage::auth:
      return "auth";
    case Stage::mail:
      return "mail";
    case Stage::rcpt:
      return "rcpt";
    case Stage::data:
      return "data";
    case Stage::done:
      return "done";
  }
  return "?";
}

const Reply& Outcome::for_recipient(std::size_t i) const {
  if (i < rcpt_replies.size() && !positive(rcpt_replies[i])) return rcpt_replies[i];
  return reply;
}

struct Got {
  bool ok = false;  // false: the connection failed; reply is local and the connection closed
  Reply reply;
};

struct Connection::Impl {
  Impl(std::string ip_, std::uint16_t port_, std::string host_, Options o)
      : opts(std::move(o)),
        ip(std::move(ip_)),
        host(std::move(host_)),
        port(port_),
        parser(ReplyParser::Limits{opts.max_reply_line, opts.max_reply_lines}),
        buf(kReadSize, '\0') {
    peer = host + "[" + ip + "]:" + std::to_string(port);
  }

  Options opts;
  std::string ip, host, peer;
  std::uint16_t port;
  std::unique_ptr<core::Stream> stream;
  ReplyParser parser;
  std::string buf;
  Capabilities caps;
  bool usable = false;
  bool in_transaction = false;  // MAIL accepted, no final reply yet: RSET before the next one
  std::size_t transactions = 0;

  void broken() {
    usable = false;
    in_transaction = false;
    if (stream) stream->close();
  }

  Outcome outcome(Stage stage, Reply reply, bool is_local) const {
    Outcome o;
    o.stage = stage;
    o.reply = std::move(reply);
    o.local = is_local;
    o.connection_usable = usable;
    return o;
  }

  // A reply outside what the command allows: the dialogue is out of step for good.
  Got protocol_error(std::string_view command, const Reply& r) {
    spdlog::debug("smtp client {}: unexpected reply {} to {}", peer, r.code, command);
    broken();
    return Got{false, local(421, "4.5.0",
                            "protocol error: remote answered " + std::string(command) + " with " +
                                std::to_string(r.code))};
  }

  awaitable<Got> read_reply(ms timeout, std::string_view during) {
    for (;;) {
      const ReplyParser::Status st = parser.next();
      if (st == ReplyParser::Status::complete) {
        Reply r = parser.reply();
        spdlog::debug("smtp client {}: < {} {} {}", peer, r.code, r.enhanced,
                      core::log_safe(r.text));
        if (r.code == 421) broken();  // the server closes: nothing more goes over this one
        co_return Got{true, std::move(r)};
      }
      if (st == ReplyParser::Status::error) {
        spdlog::debug("smtp client {}: {} {}", peer, parser.error_text(), during);
        broken();
        co_return Got{false, local(421, "4.4.2",
                                   std::string(parser.error_text()) + " " + std::string(during))};
      }
      if (!stream || !stream->is_open()) {
        usable = false;
        co_return Got{false,
                      local(421, "4.4.2", "connection already closed " + std::string(during))};
      }
      stream->set_read_timeout(timeout);
      const core::IoResult r = co_await stream->read_some(std::span<char>(buf.data(), buf.size()));
      if (!r) {
        spdlog::debug("smtp client {}: read failed {}: {}", peer, during, r.ec.message());
        broken();
        co_return Got{false, local(421, "4.4.2", io_reason(r.ec, during))};
      }
      parser.feed(std::string_view(buf.data(), r.bytes));
    }
  }

  // Empty optional: written. Otherwise the local failure reply (connection closed).
  awaitable<std::optional<Reply>> write(std::string_view bytes, ms timeout,
                                        std::string_view during) {
    if (!stream || !stream->is_open()) {
      usable = false;
      co_return local(421, "4.4.2", "connection already closed " + std::string(during));
    }
    stream->set_write_timeout(timeout);
    const core::IoResult r = co_await stream->write(bytes);
    if (r) co_return std::nullopt;
    spdlog::debug("smtp client {}: write failed {}: {}", peer, during, r.ec.message());
    broken();
    co_return local(421, "4.4.2", io_reason(r.ec, during));
  }

  awaitable<std::optional<Reply>> write_command(const std::string& line, ms timeout,
                                                std::string_view during) {
    spdlog::debug("smtp client {}: > {}", peer, core::log_safe(line, 200));
    co_return co_await write(line + "\r\n", timeout, during);
  }

  awaitable<Got> command(const std::string& line, ms timeout, std::string_view name) {
    const std::string during = "after " + std::string(name);
    if (auto failed = co_await write_command(line, timeout, "sending " + std::string(name)))
      co_return Got{false, std::move(*failed)};
    co_return co_await read_reply(timeout, during);
  }

  // EHLO, or HELO when EHLO gets a 5xx (RFC 5321 3.2). Empty optional: done.
  awaitable<std::optional<Outcome>> hello() {
    Got e = co_await command("EHLO " + opts.helo_name, opts.ehlo, "EHLO");
    if (!e.ok) co_return outcome(Stage::ehlo, std::move(e.reply), true);
    if (positive(e.reply)) {
      caps = parse_ehlo(e.reply);
      co_return std::nullopt;
    }
    if (!negative(e.reply))
      co_return outcome(Stage::ehlo, protocol_error("EHLO", e.reply).reply, true);
    if (e.reply.code < 500) co_return outcome(Stage::ehlo, std::move(e.reply), false);
    Got h = co_await command("HELO " + opts.helo_name, opts.ehlo, "HELO");
    if (!h.ok) co_return outcome(Stage::ehlo, std::move(h.reply), true);
    if (positive(h.reply)) {
      caps = Capabilities{};
      co_return std::nullopt;
    }
    if (!negative(h.reply))
      co_return outcome(Stage::ehlo, protocol_error("HELO", h.reply).reply, true);
    co_return outcome(Stage::ehlo, std::move(h.reply), false);
  }

  awaitable<std::optional<Outcome>> starttls() {
    const bool required = opts.tls == TlsMode::required || opts.tls == TlsMode::required_verified;
    const bool verify = opts.tls == TlsMode::required_verified;
    if (opts.tls == TlsMode::none) co_return std::nullopt;
    if (!caps.starttls) {
      if (!required) co_return std::nullopt;
      co_return outcome(
          Stage::starttls,
          local(421, "4.7.4", "TLS is required but " + host + " does not offer STARTTLS"), true);
    }
    boost::asio::ssl::context* ctx = nullptr;
    if (verify || opts.tls == TlsMode::opportunistic_checked)
      ctx = opts.tls_ctx_verify.get();
    else
      ctx = opts.tls_ctx_noverify ? opts.tls_ctx_noverify.get() : opts.tls_ctx_verify.get();
    if (!ctx) {
      if (!required) co_return std::nullopt;
      co_return outcome(Stage::starttls,
                        local(421, "4.7.0", "TLS is required but no TLS context is configured"),
                        true);
    }
    Got r = co_await command("STARTTLS", opts.ehlo, "STARTTLS");
    if (!r.ok) co_return outcome(Stage::starttls, std::move(r.reply), true);
    if (!positive(r.reply)) {
      if (!negative(r.reply))
        co_return outcome(Stage::starttls, protocol_error("STARTTLS", r.reply).reply, true);
      if (r.reply.code == 421) co_return outcome(Stage::starttls, std::move(r.reply), false);
      if (!required) {
        spdlog::debug("smtp client {}: STARTTLS refused, continuing without TLS", peer);
        co_return std::nullopt;
      }
      co_return outcome(Stage::starttls,
                        local(421, "4.7.4",
                              "TLS is required but " + host + " refused STARTTLS: " +
                                  std::to_string(r.reply.code) + " " + r.reply.text.substr(0, 200)),
                        true);
    }
    // Bytes after the 220 were not sent under TLS: reading them as if they were would let a
    // man in the middle inject replies (the client side of CVE-2011-0411).
    if (parser.buffered() > 0) {
      broken();
      co_return outcome(Stage::starttls,
                        local(421, "4.7.0", "remote sent data after its STARTTLS reply"), true);
    }
    stream->set_read_timeout(opts.ehlo);
    stream->set_write_timeout(opts.ehlo);
    const core::IoResult hs = co_await stream->start_tls_client(*ctx, host, verify);
    if (!hs) {
      broken();
      std::string why = hs.ec == asio::error::timed_out ? "timed out" : hs.ec.message();
      if (verify)
        if (const std::string v = stream->tls_verify_error(); !v.empty() && v != "no certificate")
          why += " (" + v + ")";
      co_return outcome(Stage::starttls,
                        local(421, "4.7.5", "TLS handshake with " + host + " failed: " + why),
                        true);
    }
    spdlog::debug("smtp client {}: TLS {} ({})", peer, stream->tls_description(),
                  verify ? "verified" : "not verified");
    caps = Capabilities{};  // what was said in clear is forgotten (RFC 3207 4.2)
    co_return co_await hello();
  }

  awaitable<std::optional<Outcome>> auth() {
    if (opts.auth_user.empty()) co_return std::nullopt;
    if (!stream->is_tls())
      co_return outcome(Stage::auth,
                        local(421, "4.7.0",
                              "AUTH is configured but the connection to " + host +
                                  " is not encrypted: credentials not sent"),
                        true);
    if (!caps.has_auth("PLAIN"))
      co_return outcome(Stage::auth, local(421, "4.7.4", host + " does not offer AUTH PLAIN"),
                        true);
    std::string secret;
    secret += '\0';
    secret += opts.auth_user;
    secret += '\0';
    secret += opts.auth_password;
    spdlog::debug("smtp client {}: > AUTH PLAIN (credentials for {} hidden)", peer,
                  core::log_safe(opts.auth_user));
    if (auto failed =
            co_await write("AUTH PLAIN " + base64(secret) + "\r\n", opts.ehlo, "sending AUTH"))
      co_return outcome(Stage::auth, std::move(*failed), true);
    Got r = co_await read_reply(opts.ehlo, "after AUTH");
    if (!r.ok) co_return outcome(Stage::auth, std::move(r.reply), true);
    if (positive(r.reply)) co_return std::nullopt;
    if (r.reply.code == 334) {  // it wants the response on its own line: cancel (RFC 4954 4)
      if (auto failed = co_await write("*\r\n", opts.ehlo, "cancelling AUTH"))
        co_return outcome(Stage::auth, std::move(*failed), true);
      Got c = co_await read_reply(opts.ehlo, "after cancelling AUTH");
      if (!c.ok) co_return outcome(Stage::auth, std::move(c.reply), true);
      co_return outcome(Stage::auth,
                        local(421, "4.7.0", host + " did not take the AUTH PLAIN initial response"),
                        true);
    }
    if (!negative(r.reply))
      co_return outcome(Stage::auth, protocol_error("AUTH", r.reply).reply, true);
    co_return outcome(Stage::auth, std::move(r.reply), false);
  }

  // Best effort, bounded: QUIT, its reply, close.
  awaitable<void> quit() {
    if (stream && stream->is_open()) {
      if (usable) {
        Got r = co_await command("QUIT", opts.quit, "QUIT");
        (void)r;
      }
      if (stream->is_open()) co_await stream->shutdown();
    }
    usable = false;
  }

  awaitable<Outcome> transaction(const Envelope& env, const WireMessage& msg, bool needs_utf8,
                                 std::size_t hint);
  awaitable<Outcome> transaction_checked(const Envelope& env, std::string_view message,
                                         std::size_t hint);
};

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() {
  if (impl_->stream) impl_->stream->close();
}

awaitable<Result<std::unique_ptr<Connection>, Outcome>> Connection::open(
    Executor ex, std::string ip, std::uint16_t port, std::string host_name, Options opts) {
  auto impl = std::make_unique<Impl>(std::move(ip), port, std::move(host_name), std::move(opts));
  Impl& s = *impl;
  spdlog::debug("smtp client {}: connecting", s.peer);
  auto connected = co_await core::connect_tcp(ex, s.ip, port, s.opts.connect, s.opts.bind_ip);
  if (!connected) {
    const core::ErrorCode ec = connected.error();
    const std::string why = ec == asio::error::timed_out ? "timed out" : ec.message();
    co_return unexpected(s.outcome(
        Stage::connect, local(421, "4.4.1", "cannot connect to " + s.peer + ": " + why), true));
  }
  s.stream = std::move(*connected);
  s.usable = true;

  auto fail = [&s](Outcome o) -> awaitable<Result<std::unique_ptr<Connection>, Outcome>> {
    co_await s.quit();
    o.connection_usable = false;
    co_return unexpected(std::move(o));
  };

  Got g = co_await s.read_reply(s.opts.greeting, "waiting for the greeting");
  if (!g.ok) co_return co_await fail(s.outcome(Stage::greeting, std::move(g.reply), true));
  if (!positive(g.reply)) {
    if (!negative(g.reply))
      co_return co_await fail(
          s.outcome(Stage::greeting, s.protocol_error("the connection", g.reply).reply, true));
    co_return co_await fail(s.outcome(Stage::greeting, std::move(g.reply), false));
  }
  if (auto o = co_await s.hello()) co_return co_await fail(std::move(*o));
  if (auto o = co_await s.starttls()) co_return co_await fail(std::move(*o));
  if (auto o = co_await s.auth()) co_return co_await fail(std::move(*o));
  spdlog::debug("smtp client {}: ready ({}{})", s.peer, s.caps.esmtp ? "ESMTP" : "SMTP",
                s.stream->is_tls() ? ", TLS" : "");
  co_return std::unique_ptr<Connection>(new Connection(std::move(impl)));
}

awaitable<Outcome> Connection::send(const Envelope& env, std::string_view message,
                                    std::size_t max_rcpts_per_transaction_hint) {
  Impl& s = *impl_;
  Outcome out = co_await s.transaction_checked(env, message, max_rcpts_per_transaction_hint);
  if (s.in_transaction && s.usable) {
    // MAIL was accepted but no message went: end the transaction so the next one starts clean.
    Got r = co_await s.command("RSET", s.opts.mail, "RSET");
    if (r.ok && !positive(r.reply)) s.broken();
    s.in_transaction = false;
  }
  out.connection_usable = s.usable;
  co_return out;
}

awaitable<Outcome> Connection::Impl::transaction_checked(const Envelope& env,
                                                         std::string_view message,
                                                         std::size_t hint) {
  const std::size_t n = env.rcpts.size();
  auto early = [&](Stage stage, Reply r, bool is_local) {
    Outcome o = outcome(stage, std::move(r), is_local);
    o.rcpt_replies.assign(n, o.reply);
    return o;
  };
  if (!usable)
    co_return early(Stage::mail, local(421, "4.4.2", "connection to " + host + " is not usable"),
                    true);
  if (n == 0) co_return early(Stage::mail, local(554, "5.5.1", "no recipients"), true);
  if (!safe_address(env.from))
    co_return early(Stage::mail, local(553, "5.1.7", "invalid sender address"), true);
  bool needs_utf8 = has_non_ascii(env.from);
  for (const Recipient& r : env.rcpts) needs_utf8 = needs_utf8 || has_non_ascii(r.address);
  const bool chunking = caps.chunking;
  WireMessage msg = prepare_message(message, !chunking);
  needs_utf8 = needs_utf8 || msg.header_non_ascii;
  if (needs_utf8 && !caps.smtputf8)
    co_return early(Stage::mail,
                    local(550, "5.6.7",
                          "the message needs SMTPUTF8 (non-ASCII addresses or headers) and " +
                              host + " does not support SMTPUTF8"),
                    true);
  if (msg.long_line)
    co_return early(Stage::mail,
                    local(554, "5.6.0",
                          "message line " + std::to_string(msg.long_line) +
                              " is longer than 998 octets (RFC 5322 2.1.1)"),
                    true);
  if (msg.eight_bit && !caps.eightbitmime)
    co_return early(Stage::mail,
                    local(554, "5.6.3",
                          "the message has 8-bit content and " + host +
                              " does not support 8BITMIME (no downgrade to 7 bit)"),
                    true);
  if (caps.size && caps.size_limit > 0 && msg.size > caps.size_limit)
    co_return early(Stage::mail,
                    local(552, "5.3.4",
                          "message size " + std::to_string(msg.size) + " exceeds the limit of " +
                              host + " (" + std::to_string(caps.size_limit) + ")"),
                    true);
  co_return co_await transaction(env, msg, needs_utf8, hint);
}

awaitable<Outcome> Connection::Impl::transaction(const Envelope& env, const WireMessage& msg,
                                                 bool needs_utf8, std::size_t hint) {
  const std::size_t n = env.rcpts.size();
  Outcome out;
  out.rcpt_replies.assign(n, Reply{0, {}, {}});
  // Ends the transaction: recipients without an RCPT reply of their own get the deciding one.
  auto decide = [&](Stage stage, Reply r, bool is_local) {
    out.stage = stage;
    out.reply = std::move(r);
    out.local = is_local;
    for (Reply& rr : out.rcpt_replies)
      if (rr.code == 0) rr = out.reply;
    out.connection_usable = usable;
    return out;
  };

  // Which recipients go in this transaction.
  std::vector<std::size_t> tried;
  for (std::size_t i = 0; i < n; ++i) {
    const Recipient& r = env.rcpts[i];
    if (r.address.empty() || !safe_address(r.address)) {
      out.rcpt_replies[i] = local(553, "5.1.3", "invalid recipient address");
    } else if (hint > 0 && tried.size() >= hint) {
      out.rcpt_replies[i] =
          local(452, "4.5.3", "not tried: too many recipients for one transaction, send again");
    } else {
      tried.push_back(i);
    }
  }
  if (tried.empty()) co_return decide(Stage::rcpt, out.rcpt_replies[0], true);

  std::string mail = "MAIL FROM:<" + env.from + ">";
  if (caps.size) mail += " SIZE=" + std::to_string(msg.size);
  if (msg.eight_bit) mail += " BODY=8BITMIME";
  if (needs_utf8) mail += " SMTPUTF8";
  if (caps.dsn && safe_param(env.ret)) mail += " RET=" + env.ret;
  if (caps.dsn && safe_param(env.envid)) mail += " ENVID=" + env.envid;
  std::vector<std::string> rcpt_lines;
  for (std::size_t i : tried) {
    const Recipient& r = env.rcpts[i];
    std::string line = "RCPT TO:<" + r.address + ">";
    if (caps.dsn && safe_param(r.notify)) line += " NOTIFY=" + r.notify;
    if (caps.dsn && safe_param(r.orcpt)) line += " ORCPT=" + r.orcpt;
    rcpt_lines.push_back(std::move(line));
  }

  // RFC 2920: MAIL, every RCPT and DATA in one write, replies read in order. BDAT waits for the
  // RCPT replies: the message goes only when a recipient was accepted.
  const bool pipelined = caps.pipelining;
  const bool chunking = caps.chunking;
  if (pipelined) {
    std::string batch = mail + "\r\n";
    for (const std::string& l : rcpt_lines) batch += l + "\r\n";
    if (!chunking) batch += "DATA\r\n";
    spdlog::debug("smtp client {}: > {} (pipelined with {} RCPT{})", peer,
                  core::log_safe(mail, 200), rcpt_lines.size(), chunking ? "" : " and DATA");
    if (auto failed = co_await write(batch, opts.mail, "sending MAIL FROM"))
      co_return decide(Stage::mail, std::move(*failed), true);
  } else if (auto failed = co_await write_command(mail, opts.mail, "sending MAIL FROM")) {
    co_return decide(Stage::mail, std::move(*failed), true);
  }
  Got m = co_await read_reply(opts.mail, "after MAIL FROM");
  if (!m.ok) co_return decide(Stage::mail, std::move(m.reply), true);
  if (!positive(m.reply) && !negative(m.reply))
    co_return decide(Stage::mail, protocol_error("MAIL FROM", m.reply).reply, true);
  const bool mail_ok = positive(m.reply);
  in_transaction = mail_ok;
  if (!mail_ok && (!pipelined || !usable)) co_return decide(Stage::mail, std::move(m.reply), false);

  std::size_t accepted = 0;
  std::optional<Reply> last_refusal;
  for (std::size_t k = 0; k < tried.size(); ++k) {
    if (!pipelined) {
      if (auto failed = co_await write_command(rcpt_lines[k], opts.rcpt, "sending RCPT TO"))
        co_return decide(Stage::rcpt, std::move(*failed), true);
    }
    Got r = co_await read_reply(opts.rcpt, "after RCPT TO");
    if (!r.ok) co_return decide(Stage::rcpt, std::move(r.reply), true);
    if (!positive(r.reply) && !negative(r.reply))
      co_return decide(Stage::rcpt, protocol_error("RCPT TO", r.reply).reply, true);
    if (!mail_ok) continue;  // pipelined after a refused MAIL: those replies say nothing new
    if (positive(r.reply))
      ++accepted;
    else
      last_refusal = r.reply;
    out.rcpt_replies[tried[k]] = r.reply;
    if (r.reply.code == 421) co_return decide(Stage::rcpt, std::move(r.reply), false);
  }
  if (!mail_ok && !(pipelined && !chunking))
    co_return decide(Stage::mail, std::move(m.reply), false);

  // DATA, or BDAT. With nothing to send: the deciding reply is MAIL's or the last refusal.
  auto nothing_sent = [&]() {
    if (!mail_ok) return decide(Stage::mail, m.reply, false);
    return decide(Stage::rcpt, last_refusal.value_or(out.rcpt_replies[tried[0]]), false);
  };
  std::string_view payload = msg.wire;
  if (!chunking) {
    if (!pipelined) {
      if (accepted == 0) co_return nothing_sent();
      if (auto failed = co_await write_command("DATA", opts.data_init, "sending DATA"))
        co_return decide(Stage::data, std::move(*failed), true);
    }
    Got d = co_await read_reply(opts.data_init, "after DATA");
    if (!d.ok) co_return decide(Stage::data, std::move(d.reply), true);
    if (d.reply.code != 354) {
      if (!negative(d.reply))
        co_return decide(Stage::data, protocol_error("DATA", d.reply).reply, true);
      if (accepted == 0) co_return nothing_sent();  // the refusal the pipelined DATA expected
      co_return decide(Stage::data, std::move(d.reply), false);
    }
    if (accepted == 0) {
      // RFC 2920 3.1: a server that accepts DATA with no valid recipient gets an empty message
      // it must refuse: the lone dot ends the transaction.
      payload = ".\r\n";
    }
  } else {
    if (accepted == 0) co_return nothing_sent();
    const std::string bdat = "BDAT " + std::to_string(payload.size()) + " LAST";
    if (auto failed = co_await write_command(bdat, opts.data_block, "sending BDAT"))
      co_return decide(Stage::data, std::move(*failed), true);
  }

  for (std::size_t off = 0; off < payload.size(); off += kWriteBlock) {
    const std::string_view block = payload.substr(off, kWriteBlock);
    if (auto failed = co_await write(block, opts.data_block, "during DATA"))
      co_return decide(Stage::data, std::move(*failed), true);
  }
  spdlog::debug("smtp client {}: > ({} bytes of message{})", peer, payload.size(),
                chunking ? " in BDAT" : "");
  Got f = co_await read_reply(opts.data_end,
                              "after the end of the message (it may have been delivered)");
  in_transaction = false;
  if (!f.ok) co_return decide(Stage::data, std::move(f.reply), true);
  if (!positive(f.reply) && !negative(f.reply))
    co_return decide(Stage::data, protocol_error("the end of data", f.reply).reply, true);
  if (accepted == 0) co_return nothing_sent();
  if (!positive(f.reply)) co_return decide(Stage::data, std::move(f.reply), false);
  ++transactions;
  co_return decide(Stage::done, std::move(f.reply), false);
}

awaitable<void> Connection::quit() {
  co_await impl_->quit();
}

const Capabilities& Connection::capabilities() const {
  return impl_->caps;
}
bool Connection::tls_active() const {
  return impl_->stream && impl_->stream->is_tls();
}
std::string Connection::tls_verify_error() const {
  if (!tls_active()) return "no TLS";
  if (impl_->opts.tls != TlsMode::required_verified &&
      impl_->opts.tls != TlsMode::opportunistic_checked)
    return "certificate not checked";
  return impl_->stream->tls_verify_error();
}
bool Connection::usable() const {
  return impl_->usable;
}
std::size_t Connection::transactions() const {
  return impl_->transactions;
}
const std::string& Connection::host_name() const {
  return impl_->host;
}

}  // namespace govmail::smtp::client
