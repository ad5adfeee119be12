// One SMTP session as a state machine without sockets: bytes in (feed), replies out (process).
// The I/O coroutine (service.cpp) only moves bytes, runs the TLS handshake when asked and applies
// the read timeout the session names; tests push bytes straight in (STYLE.md 18).
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/awaitable_fwd.hpp"
#include "core/config.hpp"

namespace govmail::core {
class LineReader;
}

namespace govmail::smtp {

class Backend;
class InboundAuth;

enum class Mode {
  mx,          // other servers deliver to local domains; no AUTH, no relay
  submission,  // users submit: AUTH required (after TLS unless loopback is allowed)
};

struct SessionConfig {
  std::string hostname = "localhost";
  Mode mode = Mode::mx;
  bool starttls_available = false;  // a TLS context exists and the port is not implicit TLS
  bool allow_plaintext_auth_on_loopback = false;
  bool vrfy = false;  // smtp.vrfy: answer VRFY for local addresses (submission, after AUTH)
  std::uint64_t max_message_bytes = 50ull << 20;
  std::size_t max_recipients = 1000;
  std::size_t line_max = 4096;
  std::size_t data_line_max = 65536;
  std::size_t sender_domains_max = 32;  // limits.smtp_sender_domains_max
  std::chrono::seconds vacation_resend_after{std::chrono::hours(7 * 24)};  // smtp.vacation_...
  unsigned max_commands_before_mail = 50;
  unsigned max_bad_commands = 20;
  std::chrono::milliseconds command_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds data_timeout{std::chrono::minutes(10)};
  // Across reads: one command line or whole DATA/BDAT chunk (limits.command_timeout), and the
  // session before AUTH succeeds (submission: limits.preauth_timeout) or whole (MX:
  // limits.mx_session_timeout). Zero: none.
  std::chrono::milliseconds command_deadline{std::chrono::minutes(10)};
  std::chrono::milliseconds session_deadline{std::chrono::minutes(1)};
  // MX: SPF/DKIM/DMARC checks and Authentication-Results (null: not checked).
  std::shared_ptr<const InboundAuth> inbound_auth;

  static SessionConfig from(const core::Config& cfg, Mode mode, bool starttls_available);
};

struct ConnectionInfo {
  std::string remote_ip;
  bool loopback = false;
  bool tls = false;  // implicit TLS: already encrypted when the session starts
};

class Session {
 public:
  Session(const SessionConfig& cfg, Backend& backend, ConnectionInfo conn);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  std::string greeting() const;  // "220 host ESMTP govmail\r\n"

  // Buffers bytes read from the client.
  void feed(std::string_view bytes);

  struct Output {
    std::string bytes;        // replies to write (possibly several: PIPELINING)
    bool need_input = false;  // every complete command was handled: read more, then process()
    bool start_tls = false;   // write bytes, then Stream::start_tls(ctx, reader()), tls_started()
    bool close = false;       // write bytes, then close
  };
  // Handles buffered commands and data until more input is needed, a TLS upgrade is due or the
  // session ends. Store and auth calls are awaited here.
  awaitable<Output> process();

  void tls_started();  // the handshake after STARTTLS succeeded: a fresh session (RFC 3207)
  // The client went away or timed out: logs an unfinished transaction.
  void disconnected(std::string_view why);

  core::LineReader& reader();  // for Stream::start_tls (drops pipelined bytes)
  bool authenticated() const;  // AUTH succeeded (and STARTTLS has not reset it since)
  bool mid_command() const;    // part of a command, SASL exchange or DATA/BDAT has been read
  // The read deadline for the current state (command or DATA/BDAT, RFC 5321 4.5.3.2).
  std::chrono::milliseconds read_timeout() const;
  std::string timeout_reply() const;   // "421 4.4.2 ... timeout"
  std::string shutdown_reply() const;  // "421 4.3.2 ... Service shutting down"
  // The account authenticated with AUTH (0 before that).
  std::int64_t account() const;
  // Of the credentials the login was checked against (session revocation); 0 before a login.
  std::uint64_t credentials_version() const;
  // Its credentials changed (password, status, address): "421 4.7.0 ...".
  std::string revoked_reply() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace govmail::smtp
