// One IMAP session as a state machine without sockets: bytes in (feed), responses out (process).
// The I/O coroutine (service.cpp) only moves bytes, runs STARTTLS when asked, and while the client
// IDLEs writes what idle_updates() returns each time wake() is called.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/awaitable_fwd.hpp"
#include "core/config.hpp"
#include "imap/proto.hpp"

namespace govmail::core {
class LineReader;
}

namespace govmail::imap {

class Backend;

struct SessionConfig {
  std::string hostname = "localhost";
  bool starttls_available = false;  // a TLS context exists and the port is not implicit TLS
  bool allow_plaintext_on_loopback = false;
  ReceiverLimits limits{};
  unsigned max_commands_before_auth = 20;
  unsigned max_bad_commands = 20;
  unsigned max_auth_failures = 3;  // per connection; AuthService locks out across connections
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(30)};  // autologout; IDLE re-arms
  std::chrono::milliseconds login_timeout{std::chrono::minutes(1)};  // before authentication
  // Across reads (zero: none): connect to login (limits.preauth_timeout), and one command from
  // its first byte to its end, literals included (limits.command_timeout).
  std::chrono::milliseconds preauth_timeout{std::chrono::minutes(1)};
  std::chrono::milliseconds command_timeout{std::chrono::minutes(10)};

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

  std::string greeting() const;  // "* OK [CAPABILITY ...] govmail ready\r\n"
  void feed(std::string_view bytes);

  struct Output {
    std::string bytes;        // responses to write
    bool need_input = false;  // everything buffered was handled: read more, then process()
    bool start_tls = false;   // write bytes, then Stream::start_tls(ctx, reader()), tls_started()
    bool close = false;       // write bytes, then close
    bool idling = false;      // the client is in IDLE: call idle_updates() after each wake
    bool start_compress = false;  // write bytes, then deflate both directions (RFC 4978)
  };
  awaitable<Output> process();

  // While idling: the untagged responses for changes since the last call (possibly none).
  awaitable<std::string> idle_updates();
  // Set by the I/O side while idling; called (from any thread) when the selected mailbox changed.
  void set_wake(std::function<void()> wake);
  // Lets a long answer (FETCH of many bodies) be written while it is produced, so that the
  // session holds about 256 KiB of output at most. Without it, output accumulates.
  void set_writer(std::function<awaitable<bool>(std::string)> writer);

  void tls_started();
  void disconnected(std::string_view why);
  core::LineReader& reader();
  bool mid_command() const;  // part of a command (a literal, say) has been read
  bool mid_line() const;     // unhandled bytes are buffered (a line not yet ended)
  bool authenticated() const;
  // Frees the input buffers kept from earlier commands (before a long wait: IDLE).
  void release_buffers();
  std::chrono::milliseconds read_timeout() const;
  std::string timeout_reply() const;  // "* BYE Autologout; idle for too long"
  // The account logged in (0 before LOGIN/AUTHENTICATE succeeded).
  std::int64_t account() const;
  // Of the credentials the login was checked against (session revocation); 0 before a login.
  std::uint64_t credentials_version() const;
  // The account's credentials changed (password, status, address): "* BYE ...".
  std::string revoked_reply() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace govmail::imap
