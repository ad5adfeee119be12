#include "tls_socket.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/ssl/error.hpp>
#include <cerrno>
#include <climits>
#include <stdexcept>

namespace govmail::core {

struct TlsSocket::Io {
  int fd = -1;
  int last_errno = 0;  // of the last failed send/recv; 0 after end of stream
};

namespace {

TlsSocket::Io& io_of(BIO* b) {
  return *static_cast<TlsSocket::Io*>(BIO_get_data(b));
}

bool would_block(int e) {
  return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

// send() with MSG_NOSIGNAL: a peer that reset the connection must not raise SIGPIPE.
int bio_write(BIO* b, const char* data, int len) {
  auto& io = io_of(b);
  BIO_clear_retry_flags(b);
  const ssize_t n = ::send(io.fd, data, static_cast<std::size_t>(len), MSG_NOSIGNAL);
  if (n >= 0) return static_cast<int>(n);
  io.last_errno = errno;
  if (would_block(io.last_errno)) BIO_set_retry_write(b);
  return -1;
}

int bio_read(BIO* b, char* data, int len) {
  auto& io = io_of(b);
  BIO_clear_retry_flags(b);
  const ssize_t n = ::recv(io.fd, data, static_cast<std::size_t>(len), 0);
  if (n > 0) return static_cast<int>(n);
  io.last_errno = n == 0 ? 0 : errno;
  if (n < 0 && would_block(io.last_errno)) BIO_set_retry_read(b);
  return n == 0 ? 0 : -1;
}

int bio_puts(BIO* b, const char* s) {
  return bio_write(b, s, static_cast<int>(std::strlen(s)));
}

long bio_ctrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // nothing is buffered here
}

BIO_METHOD* socket_method() {
  static BIO_METHOD* m = [] {
    BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "govmail socket");
    if (!bm || !BIO_meth_set_write(bm, bio_write) || !BIO_meth_set_read(bm, bio_read) ||
        !BIO_meth_set_puts(bm, bio_puts) || !BIO_meth_set_ctrl(bm, bio_ctrl))
      throw std::runtime_error("TLS: cannot create the socket BIO method");
    return bm;
  }();
  return m;
}

}  // namespace

TlsSocket::TlsSocket(tcp::socket sock, asio::ssl::context& ctx, Role role)
    : sock_(std::move(sock)), io_(std::make_unique<Io>()) {
  ErrorCode ec;
  sock_.non_blocking(true, ec);  // OpenSSL's reads and writes must never block an io thread
  io_->fd = sock_.native_handle();
  ssl_ = SSL_new(ctx.native_handle());
  BIO* bio = ssl_ ? BIO_new(socket_method()) : nullptr;
  if (!bio) {
    SSL_free(ssl_);
    throw std::runtime_error("TLS: cannot create a connection");
  }
  BIO_set_data(bio, io_.get());
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_, bio, bio);  // one reference, owned by ssl_
  SSL_set_mode(ssl_, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (role == Role::client)
    SSL_set_connect_state(ssl_);
  else
    SSL_set_accept_state(ssl_);
}

bool TlsSocket::set_client_peer(const std::string& server_name, bool verify) {
  unsigned char addr[16];
  const bool is_ip = inet_pton(AF_INET, server_name.c_str(), addr) == 1 ||
                     inet_pton(AF_INET6, server_name.c_str(), addr) == 1;
  // RFC 6066: no IP addresses in SNI.
  if (!server_name.empty() && !is_ip && SSL_set_tlsext_host_name(ssl_, server_name.c_str()) != 1)
    return false;
  if (!verify) {
    // Nothing is enforced, but the name is still checked into the verify result, so that a
    // caller can tell whether the certificate would have passed (MTA-STS testing mode).
    if (!server_name.empty() && !is_ip) {
      SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (SSL_set1_host(ssl_, server_name.c_str()) != 1) return false;
    }
    SSL_set_verify(ssl_, SSL_VERIFY_NONE, nullptr);
    return true;
  }
  if (server_name.empty()) return false;  // verifying a chain without a name proves nothing
  if (is_ip) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), server_name.c_str()) != 1) return false;
  } else {
    SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set1_host(ssl_, server_name.c_str()) != 1) return false;
  }
  SSL_set_verify(ssl_, SSL_VERIFY_PEER, nullptr);
  return true;
}

std::string TlsSocket::verify_error() const {
  // After a failed verification OpenSSL keeps the reason but not the peer's certificate.
  const long r = SSL_get_verify_result(ssl_);
  if (r != X509_V_OK) return X509_verify_cert_error_string(r);
  return SSL_get0_peer_certificate(ssl_) ? std::string() : std::string("no certificate");
}

std::string TlsSocket::description() const {
  std::string out = SSL_get_version(ssl_);
  if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl_)) {
    out += ' ';
    out += SSL_CIPHER_get_name(c);
  }
  return out;
}

TlsSocket::~TlsSocket() {
  SSL_free(ssl_);
}

int TlsSocket::call(Op op, char* data, std::size_t size, std::size_t& done) {
  switch (op) {
    case Op::handshake:
      return SSL_do_handshake(ssl_);
    case Op::read:
      return SSL_read_ex(ssl_, data, size, &done);
    case Op::write:
      return SSL_write_ex(ssl_, data, size, &done);
    case Op::shutdown: {
      const int r = SSL_shutdown(ssl_);
      return r >= 0 ? 1 : r;  // 0: our close_notify is sent, which is all we wait for
    }
  }
  return -1;
}

ErrorCode TlsSocket::error_of(int ssl_error) const {
  if (ssl_error == SSL_ERROR_ZERO_RETURN) return asio::error::eof;
  const unsigned long e = ERR_peek_error();
  if (ssl_error == SSL_ERROR_SYSCALL && e == 0)
    return io_->last_errno ? ErrorCode(io_->last_errno, asio::error::get_system_category())
                           : ErrorCode(asio::error::eof);
  // OpenSSL 3 reports a TCP close without close_notify as an SSL error.
  if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) return asio::error::eof;
  if (e) return ErrorCode(static_cast<int>(e), asio::error::get_ssl_category());
  return asio::error::fault;
}

awaitable<IoResult> TlsSocket::drive(Op op, char* data, std::size_t size) {
  for (;;) {
    // A closed socket's descriptor number may already belong to another connection.
    if (!sock_.is_open()) co_return IoResult{0, asio::error::bad_descriptor};
    ERR_clear_error();
    io_->last_errno = 0;
    std::size_t done = 0;
    const int r = call(op, data, size, done);
    if (r > 0) co_return IoResult{done, {}};
    const int err = SSL_get_error(ssl_, r);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      const ErrorCode ec = error_of(err);
      ERR_clear_error();
      co_return IoResult{0, ec};
    }
    ErrorCode ec;
    co_await sock_.async_wait(
        err == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write,
        asio::redirect_error(use_awaitable, ec));
    if (ec) co_return IoResult{0, ec};
  }
}

awaitable<IoResult> TlsSocket::handshake() {
  co_return co_await drive(Op::handshake, nullptr, 0);
}

awaitable<IoResult> TlsSocket::read_some(char* data, std::size_t size) {
  co_return co_await drive(Op::read, data, size);
}

awaitable<IoResult> TlsSocket::write(const char* data, std::size_t size) {
  if (size == 0) co_return IoResult{};
  co_return co_await drive(Op::write, const_cast<char*>(data), size);
}

awaitable<IoResult> TlsSocket::shutdown() {
  co_return co_await drive(Op::shutdown, nullptr, 0);
}

}  // namespace govmail::core
