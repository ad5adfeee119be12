// One client connection, plain TCP or TLS, with per-operation deadlines. Coroutine API; errors
// come back as error codes (a peer that disconnects is not an exception). Asio stays in
// core/src: the header only needs the awaitable type.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>

#include "core/awaitable_fwd.hpp"
#include "core/result.hpp"

namespace boost::asio::ssl {
class context;
}

namespace govmail::core {

class LineReader;
using ErrorCode = boost::system::error_code;

struct IoResult {
  std::size_t bytes = 0;
  ErrorCode ec;  // asio::error::eof on orderly close, asio::error::timed_out on a deadline
  explicit operator bool() const { return !ec; }
};

class Stream {
 public:
  struct Impl;  // core/src/stream_impl.hpp; built by the Listener from an accepted socket
  explicit Stream(std::unique_ptr<Impl> impl);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // At most buf.size() bytes; 0 bytes only with an error.
  awaitable<IoResult> read_some(std::span<char> buf);
  // All bytes, or an error.
  awaitable<IoResult> write(std::string_view bytes);

  // Server-side TLS upgrade on the same socket (STARTTLS). Bytes the client pipelined after the
  // STARTTLS command sit in `reader`: they are discarded before the handshake (CVE-2011-0411),
  // and their count is returned in IoResult::bytes so the caller can log the attempt.
  awaitable<IoResult> start_tls(boost::asio::ssl::context& ctx, LineReader& reader);
  // Implicit TLS (the listener calls it before the handler runs): nothing has been read yet.
  awaitable<IoResult> handshake(boost::asio::ssl::context& ctx);

  // Client-side TLS upgrade (STARTTLS towards a remote server); bounded by the read timeout.
  // The caller must have nothing buffered that was read before it (a server that sends bytes
  // after its STARTTLS reply is injecting them). server_name is sent as SNI unless it is an IP
  // address; with verify the certificate must chain to the context's trust store and match
  // server_name (SSL_set1_host / the IP), otherwise nothing is verified (opportunistic TLS,
  // RFC 7435). Use a context from make_client_tls_context / make_client_tls_context_noverify.
  awaitable<IoResult> start_tls_client(boost::asio::ssl::context& ctx, std::string server_name,
                                       bool verify);
  // Negotiated protocol and cipher ("TLSv1.3 TLS_AES_256_GCM_SHA384"), empty without TLS.
  std::string tls_description() const;
  // Client side, after start_tls_client (also a failed one, before close): "" when the server's
  // certificate chains to the context's trust store and matches server_name, else why not.
  // Without verify this is only reported, never enforced; with a context that has no trust
  // store it always names a chain error. "no TLS" before any handshake.
  std::string tls_verify_error() const;

  // Deadlines per operation; zero disables. When one expires the operation fails with
  // asio::error::timed_out. After a read timeout writing still works (to say "421 timeout");
  // after a write timeout the socket is closed.
  void set_read_timeout(std::chrono::milliseconds t);
  void set_write_timeout(std::chrono::milliseconds t);
  std::chrono::milliseconds read_timeout() const;

  bool is_tls() const;
  bool is_open() const;
  // Peer IP without port ("192.0.2.1", "2001:db8::1"); v4-mapped v6 shown as v4.
  const std::string& remote_address() const;
  std::uint16_t remote_port() const;
  std::uint16_t local_port() const;
  // 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
  bool is_loopback() const;

  // The client has logged in: gives back its pre-authentication slot
  // (limits.max_preauth_connections_per_network). Later calls do nothing.
  void authenticated();
  // Set by the listener: what authenticated() runs.
  void set_on_authenticated(std::function<void()> hook);

  // Ends the pending read and every later one with asio::error::shut_down; writing still works.
  // Call it on the stream's executor (Server::shutdown does so).
  void interrupt_reads();
  // Closes at once; pending operations complete with operation_aborted. Call it on the stream's
  // executor (Server::stop does so).
  void close();
  // Best-effort TLS close_notify (bounded by the write timeout), then close().
  awaitable<void> shutdown();

  Executor executor() const;

 private:
  std::shared_ptr<Impl> impl_;  // shared: deadline handlers hold weak references
};

// Client side: a TCP connection to ip:port ("192.0.2.1", "2001:db8::1"), from bind_ip when it
// is not empty, within `timeout` (zero: no limit). Fails with asio::error::timed_out on the
// deadline, invalid_argument for an address that does not parse. The stream's read and write
// timeouts start at their defaults (5 minutes): set them per operation.
awaitable<Result<std::unique_ptr<Stream>, ErrorCode>> connect_tcp(Executor ex, std::string ip,
                                                                  std::uint16_t port,
                                                                  std::chrono::milliseconds timeout,
                                                                  std::string bind_ip = {});

}  // namespace govmail::core
