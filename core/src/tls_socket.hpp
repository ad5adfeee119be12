// Private to core: TLS straight on a connection's socket, for core::Stream.
// Why not asio::ssl::stream: its engine keeps two 17 KiB buffers and a 2 x 17 KiB BIO pair for
// every connection, busy or idle (about 78 KiB per idle IMAPS session, 800 MB for 10,000 IMAP
// IDLE clients). Here OpenSSL reads and writes the socket itself through a small BIO, and an
// idle connection holds only its SSL object: the record buffers are released when empty
// (SSL_MODE_RELEASE_BUFFERS).
#pragma once
#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>

#include "core/asio.hpp"
#include "core/stream.hpp"

namespace govmail::core {

class TlsSocket {
 public:
  using tcp = asio::ip::tcp;
  enum class Role { server, client };
  // The socket's descriptor must stay open while OpenSSL uses it. A client must call
  // set_client_peer() before the handshake.
  TlsSocket(tcp::socket sock, asio::ssl::context& ctx, Role role = Role::server);
  ~TlsSocket();
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  // Client side: SNI (skipped for an IP address) and, with verify, peer verification against
  // the name (or IP). Without verify nothing is checked (opportunistic TLS). False on failure.
  bool set_client_peer(const std::string& server_name, bool verify);
  std::string description() const;  // "TLSv1.3 TLS_AES_256_GCM_SHA384"
  // After a handshake (or a failed one): "" when the peer's chain verified against the
  // context's trust store and matched the name given to set_client_peer, else OpenSSL's reason
  // ("unable to get local issuer certificate", "hostname mismatch", "no certificate").
  std::string verify_error() const;

  tcp::socket& next_layer() { return sock_; }
  const tcp::socket& next_layer() const { return sock_; }

  // Each completes with asio::error::eof when the peer closed, with or without close_notify.
  awaitable<IoResult> handshake();
  awaitable<IoResult> read_some(char* data, std::size_t size);
  awaitable<IoResult> write(const char* data, std::size_t size);  // all bytes, or an error
  awaitable<IoResult> shutdown();  // sends close_notify; does not wait for the peer's

  struct Io;  // the BIO's view of the socket (descriptor, last errno)

 private:
  enum class Op { handshake, read, write, shutdown };
  // Repeats the operation, waiting for the socket whenever OpenSSL asks to, until it is done.
  awaitable<IoResult> drive(Op op, char* data, std::size_t size);
  int call(Op op, char* data, std::size_t size, std::size_t& done);
  ErrorCode error_of(int ssl_error) const;

  tcp::socket sock_;
  std::unique_ptr<Io> io_;
  SSL* ssl_ = nullptr;
};

}  // namespace govmail::core
