// SMTP client for outbound delivery (RFC 5321): one connection to one remote host that carries
// several transactions. The queue worker picks the host (DNS), retries, writes DSNs; this file
// speaks the protocol. Every failure comes back as an SMTP reply: the remote's own, or a local
// one (Outcome::local) for network and protocol trouble, always 4xx so that the caller defers,
// or 5xx when the message itself can never go to this host (SMTPUTF8, 8BITMIME, SIZE, lines).
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "core/result.hpp"
#include "core/tls.hpp"
#include "smtp/reply.hpp"
#include "smtp/reply_parser.hpp"

namespace govmail::smtp::client {

enum class TlsMode {
  none,               // never STARTTLS
  opportunistic,      // STARTTLS when offered, certificate not checked (RFC 7435)
  required,           // STARTTLS must succeed, certificate not checked
  required_verified,  // STARTTLS must succeed and the certificate verify for the host name
  // As opportunistic, but the certificate is checked against tls_ctx_verify's trust store and
  // the host name, and the result only reported (tls_verify_error): MTA-STS testing mode.
  opportunistic_checked,
};

struct Options {
  std::string helo_name;  // our host name, for EHLO/HELO
  TlsMode tls = TlsMode::opportunistic;
  core::TlsContext tls_ctx_noverify;  // core::make_client_tls_context_noverify()
  core::TlsContext tls_ctx_verify;    // core::make_client_tls_context() (required_verified)
  // Smarthost AUTH PLAIN; only ever sent over TLS (never in clear).
  std::string auth_user, auth_password;
  std::string bind_ip;  // local address to connect from; empty: any
  // RFC 5321 4.5.3.2 timeouts (each bounds one read of a reply, or one write).
  std::chrono::milliseconds connect{30000}, greeting{300000}, ehlo{300000}, mail{300000},
      rcpt{300000}, data_init{120000}, data_block{180000}, data_end{600000};
  std::chrono::milliseconds quit{10000};
  std::size_t max_reply_line = 4096;
  std::size_t max_reply_lines = 100;
};

struct Recipient {
  std::string address;
  std::string notify;  // RFC 3461 NOTIFY value as given at submission ("SUCCESS,FAILURE"), or empty
  std::string orcpt;   // RFC 3461 ORCPT value as given ("rfc822;a+2Bb@x"), or empty
};

struct Envelope {
  std::string from;   // reverse path without <>; empty for the null sender (bounces)
  std::string ret;    // "FULL" / "HDRS", or empty
  std::string envid;  // xtext as given, or empty
  std::vector<Recipient> rcpts;
};

struct Outcome {
  enum class Stage { connect, greeting, ehlo, starttls, auth, mail, rcpt, data, done };
  Stage stage = Stage::connect;
  // The reply that decided for the message as a whole: the final DATA/BDAT reply on success.
  Reply reply;
  // send(): one per recipient, same order as Envelope::rcpts. The RCPT reply when RCPT was
  // answered; otherwise the reply that stopped the transaction first (MAIL failure, a local
  // check, the recipients-per-transaction hint).
  std::vector<Reply> rcpt_replies;
  bool connection_usable = false;  // may the connection carry another transaction
  bool local = false;              // `reply` was made here (timeouts, drops, garbage, checks)

  bool ok() const { return reply.code >= 200 && reply.code < 300; }
  // What happened to recipient i: its RCPT refusal, or else the reply for the message.
  const Reply& for_recipient(std::size_t i) const;
};

const char* to_string(Outcome::Stage stage);

class Connection {
 public:
  // Connect, greeting, EHLO (HELO when EHLO gets 5xx), STARTTLS when offered or required and
  // EHLO again, AUTH PLAIN when configured. host_name is for SNI, verification and logs.
  static awaitable<Result<std::unique_ptr<Connection>, Outcome>> open(Executor ex, std::string ip,
                                                                      std::uint16_t port,
                                                                      std::string host_name,
                                                                      Options opts);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One transaction. MAIL FROM with SIZE=, BODY=8BITMIME, SMTPUTF8, RET/ENVID as the peer allows;
  // RCPT TO per recipient with NOTIFY/ORCPT when DSN is offered; DATA (dot-stuffed, bare LF sent
  // as CRLF) or BDAT when CHUNKING is offered; PIPELINING when offered (RFC 2920). RSET after a
  // transaction that was opened but not completed. With max_rcpts_per_transaction_hint > 0 only
  // that many recipients are tried; the rest get a local 452 4.5.3 to send in a next transaction.
  // `message` must stay alive until the coroutine completes.
  awaitable<Outcome> send(const Envelope& env, std::string_view message,
                          std::size_t max_rcpts_per_transaction_hint = 0);
  // QUIT, then close; bounded by Options::quit. Safe to call on a connection that is not usable.
  awaitable<void> quit();

  const Capabilities& capabilities() const;
  bool tls_active() const;
  // "" when the connection is under TLS with a certificate valid for the host name (verified,
  // or checked by opportunistic_checked); otherwise why not ("no TLS", "hostname mismatch").
  std::string tls_verify_error() const;
  bool usable() const;
  std::size_t transactions() const;  // transactions completed with a final DATA/BDAT reply
  const std::string& host_name() const;

  struct Impl;

 private:
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace govmail::smtp::client
