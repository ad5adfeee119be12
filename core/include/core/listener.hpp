// The network front door shared by SMTP, IMAP and HTTP: listening endpoints per service, the
// accept loops, implicit TLS, connection limits shared by all services, and graceful stop.
// Every connection is one coroutine on its own strand (no thread per connection).
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "core/config.hpp"
#include "core/result.hpp"

namespace boost::asio::ssl {
class context;
}

namespace govmail::core {

class Stream;

struct Endpoint {
  std::string address;  // IP literal, without brackets
  std::uint16_t port = 0;
  bool v6 = false;
};
// "127.0.0.1:2525", "[::1]:2525", "0.0.0.0:25", "[::]:25". Host names are refused: a listener
// binds addresses, and resolving at start would make the bound set depend on DNS.
Result<Endpoint, std::string> parse_endpoint(std::string_view text);

enum class TlsMode {
  none,      // plain; the protocol may upgrade with Stream::start_tls
  implicit,  // TLS handshake (bounded by handshake_timeout) before the handler runs
};

using ConnectionHandler = std::function<awaitable<void>(Stream&)>;

struct ServiceOptions {
  // Every member has a default so designated initialisers compile under -Wextra.
  std::string name{};                 // "smtp", "imaps"...: for logs and ports()
  std::vector<std::string> listen{};  // endpoints as parse_endpoint() reads them
  TlsMode tls = TlsMode::none;
  std::shared_ptr<boost::asio::ssl::context> tls_context{};  // required with TlsMode::implicit
  ConnectionHandler handler{};  // runs once per connection; the stream closes after it
  // Over a connection limit: may write one refusal line ("421 4.7.0 Too many connections"),
  // bounded by a short write timeout; the connection is then closed. Not called on implicit
  // TLS services (a handshake is the cost an overload must not pay).
  ConnectionHandler on_reject{};
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds read_timeout{
      std::chrono::minutes(5)};  // initial; the session may change it
  std::chrono::milliseconds write_timeout{std::chrono::minutes(5)};
  // At shutdown(), reads on this service's connections end with asio::error::shut_down (writes
  // still work), so the protocol can say goodbye within the grace ("421 4.3.2 shutting down").
  bool interrupt_reads_on_shutdown = false;
  // Connections count against limits.max_preauth_connections_per_network until the protocol
  // calls Stream::authenticated() (IMAP, submission; not MX, which never logs in).
  bool preauth_limited = false;
};

// Shared by all services of one Server.
// Per-IP limits count per network (core::network_key with the two prefixes).
struct ConnectionLimits {
  std::size_t max_connections = 20000;
  std::size_t max_connections_per_ip = 100;
  unsigned ipv4_network_prefix = 32;
  unsigned ipv6_network_prefix = 64;
  std::size_t max_preauth_connections_per_network = 20;
  static ConnectionLimits from(const LimitsConfig& cfg) {
    return {cfg.max_connections, cfg.max_connections_per_ip, cfg.ipv4_network_prefix,
            cfg.ipv6_network_prefix, cfg.max_preauth_connections_per_network};
  }
};

class Server {
 public:
  Server(Executor ex, ConnectionLimits limits);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every endpoint now (a port in use fails the start with a clear message, naming the
  // service and endpoint); accepting begins with start().
  Result<void, std::string> add_service(ServiceOptions service);
  void start();

  // Stops accepting and closes every open connection.
  void stop();
  // Stops accepting, lets connections finish for up to `grace`, then closes the rest.
  awaitable<void> shutdown(std::chrono::milliseconds grace);

  std::size_t connection_count() const;
  // Connections from remote_ip's network (limits.ipv4_network_prefix / ipv6_network_prefix).
  std::size_t connection_count(std::string_view remote_ip) const;
  // Of those, the ones of preauth_limited services not yet authenticated.
  std::size_t preauth_count(std::string_view remote_ip) const;
  // Ports actually bound for a service, in listen order (port 0 picks a free port in tests).
  std::vector<std::uint16_t> ports(std::string_view service) const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;  // shared with running connections, which may outlive stop()
};

// A login protocol served twice (IMAP/IMAPS, POP3/POP3S): `plain` endpoints with STARTTLS
// offered when there is a certificate, `implicit` endpoints under TLS at once (refused without
// a certificate). Empty endpoint lists are skipped. `configure(options, starttls)` adds the
// protocol's handler, timeouts and refusal to the name, endpoints and TLS mode set here.
struct ServicePair {
  const char* plain_name;
  const std::vector<std::string>& plain;
  const char* implicit_name;
  const std::vector<std::string>& implicit;
};
Result<void, std::string> add_service_pair(
    Server& server, const ServicePair& pair, const std::shared_ptr<boost::asio::ssl::context>& tls,
    const std::function<void(ServiceOptions&, bool starttls)>& configure);

}  // namespace govmail::core
