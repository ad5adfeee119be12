// One POP3 session as a state machine without sockets: bytes in (feed), answers out (process).
// The I/O coroutine (service.cpp) only moves bytes, runs STLS when asked, and calls finish()
// whatever way the connection ends (the maildrop lock is given back; nothing is deleted unless
// the client said QUIT).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/awaitable_fwd.hpp"
#include "core/config.hpp"

namespace govmail::core {
class LineReader;
}

namespace govmail::pop3 {

class Backend;

struct SessionConfig {
  std::string hostname = "localhost";
  bool starttls_available = false;  // a TLS context exists and the port is not implicit TLS
  bool allow_plaintext_on_loopback = false;
  std::size_t line_max = 1024;
  unsigned max_commands_before_auth = 20;
  unsigned max_bad_commands = 20;
  unsigned max_auth_failures = 3;  // per connection; AuthService locks out across connections
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(10)};  // RFC 1939 autologout
  std::chrono::milliseconds login_timeout{std::chrono::minutes(1)};  // before authentication
  // Across reads (zero: none): connect to login, and one command line from its first byte.
  std::chrono::milliseconds preauth_timeout{std::chrono::minutes(1)};
  std::chrono::milliseconds command_timeout{std::chrono::minutes(10)};
  // The maildrop lease lasts this long past its last renewal (each command renews it once it is
  // `lease_renew_after` old): what a killed process leaves the mailbox locked for at most.
  std::chrono::seconds lease_ttl{std::chrono::minutes(12)};
  std::chrono::seconds lease_renew_after{std::chrono::seconds(30)};

  static SessionConfig from(const core::Config& cfg, bool starttls_available);
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

  std::string greeting() const;  // "+OK govmail POP3 ready\r\n"
  void feed(std::string_view bytes);

  struct Output {
    std::string bytes;        // answers to write
    bool need_input = false;  // everything buffered was handled: read more, then process()
    bool start_tls = false;   // write bytes, then Stream::start_tls(ctx, reader()), tls_started()
    bool close = false;       // write bytes, then close
  };
  awaitable<Output> process();
  // Lets a long answer (RETR of a big message) be written while it is produced, so that the
  // session holds about 256 KiB of output at most. Without it, output accumulates.
  void set_writer(std::function<awaitable<bool>(std::string)> writer);
  // The connection ends (QUIT, drop, timeout, revocation): gives the maildrop lock back.
  awaitable<void> finish(std::string_view why);

  void tls_started();
  core::LineReader& reader();
  bool mid_line() const;  // part of a command line has been read
  bool authenticated() const;
  std::chrono::milliseconds read_timeout() const;
  std::string timeout_reply() const;
  // The account logged in (0 before USER/PASS or AUTH succeeded).
  std::int64_t account() const;
  // Of the credentials the login was checked against (session revocation); 0 before a login.
  std::uint64_t credentials_version() const;
  // The account's credentials changed (password, status, address).
  std::string revoked_reply() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace govmail::pop3
