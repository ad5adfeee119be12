#include "core/stream.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/ssl/error.hpp>

#include "core/line_reader.hpp"
#include "stream_impl.hpp"

namespace govmail::core {

namespace {

enum class Direction { read, write };
enum class OnExpiry {
  shutdown_receive,  // wakes the reader with EOF; the session may still write "421 timeout"
  close,             // the peer is not reading or the handshake stalled: nothing more to say
};

void expire(Stream::Impl& s, OnExpiry action) {
  ErrorCode ignored;
  if (action == OnExpiry::shutdown_receive) {
    s.read_shut = true;
    s.socket().shutdown(tcp::socket::shutdown_receive, ignored);
    return;
  }
  s.socket().cancel(ignored);
  s.socket().close(ignored);
}

Stream::Impl::Watch& watch(Stream::Impl& s, Direction d) {
  return d == Direction::read ? s.read_watch : s.write_watch;
}

// Waits until the direction's deadline; see Stream::Impl::Watch.
void arm(Stream::Impl& s, Direction d) {
  Stream::Impl::Watch& w = watch(s, d);
  w.timer.expires_at(w.due);  // a pending wait ends with operation_aborted, its id stale
  const unsigned id = ++w.waits == 0 ? ++w.waits : w.waits;
  w.pending_wait = id;
  w.timer.async_wait([weak = s.weak_from_this(), d, id](ErrorCode ec) {
    std::shared_ptr<Stream::Impl> self = weak.lock();
    if (!self) return;
    Stream::Impl::Watch& now = watch(*self, d);
    if (now.pending_wait != id) return;  // re-armed since
    now.pending_wait = 0;
    if (ec || now.due == std::chrono::steady_clock::time_point::max()) return;
    if (std::chrono::steady_clock::now() < now.due) return arm(*self, d);  // a later operation
    now.expired = true;
    expire(*self, now.close_on_expiry ? OnExpiry::close : OnExpiry::shutdown_receive);
  });
}

// One operation's deadline in its direction, for its lifetime.
class Deadline {
 public:
  Deadline(Stream::Impl& s, Direction d, std::chrono::milliseconds timeout, OnExpiry action)
      : w_(watch(s, d)) {
    w_.expired = false;
    if (timeout.count() <= 0) return;
    w_.due = std::chrono::steady_clock::now() + timeout;
    w_.close_on_expiry = action == OnExpiry::close;
    if (w_.pending_wait == 0 || w_.timer.expiry() > w_.due) arm(s, d);
  }
  ~Deadline() { w_.due = std::chrono::steady_clock::time_point::max(); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  bool expired() const { return w_.expired; }

 private:
  Stream::Impl::Watch& w_;
};

IoResult finish(std::size_t n, ErrorCode ec, Deadline& deadline) {
  if (deadline.expired()) return {0, asio::error::timed_out};
  // A TLS peer that drops the TCP connection without close_notify is an ordinary disconnect.
  if (ec == asio::ssl::error::stream_truncated) ec = asio::error::eof;
  return {n, ec};
}

}  // namespace

asio::ip::address normalise_address(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  }
  return a;
}

bool is_loopback_address(const asio::ip::address& raw) {
  asio::ip::address a = normalise_address(raw);
  if (a.is_v4()) return (a.to_v4().to_uint() >> 24) == 127;
  return a.to_v6().is_loopback();
}

Stream::Impl::Impl(tcp::socket s)
    : plain(std::move(s)), read_watch(plain->get_executor()), write_watch(plain->get_executor()) {
  ErrorCode ec;
  tcp::endpoint peer = plain->remote_endpoint(ec);
  if (!ec) {
    asio::ip::address a = normalise_address(peer.address());
    remote = a.to_string();
    remote_port = peer.port();
    loopback = is_loopback_address(a);
  }
  tcp::endpoint local = plain->local_endpoint(ec);
  if (!ec) local_port = local.port();
}

Stream::Stream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Stream::~Stream() = default;

namespace {

// Clients with Nagle on (Python imaplib, many libraries) write a literal and its closing CRLF
// as two segments: the second waits for our ACK of the first, and Linux delays that ACK up to
// 40 ms once a connection is interactive. Asking for a quick ACK before every read lets the
// kernel acknowledge at once (it falls back to delayed ACKs by itself after we write), so a
// 1 KB APPEND takes well under a millisecond instead of 44 ms.
void acknowledge_promptly(tcp::socket& sock) {
#ifdef TCP_QUICKACK
  int on = 1;
  ::setsockopt(sock.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
#else
  (void)sock;
#endif
}

}  // namespace

awaitable<IoResult> Stream::read_some(std::span<char> buf) {
  std::shared_ptr<Impl> s = impl_;
  if (s->read_interrupted) co_return IoResult{0, asio::error::shut_down};
  if (s->read_shut) co_return IoResult{0, asio::error::timed_out};
  acknowledge_promptly(s->socket());
  ErrorCode ec;
  Deadline deadline(*s, Direction::read, s->read_timeout, OnExpiry::shutdown_receive);
  std::size_t n = 0;
  if (s->tls) {
    IoResult r = co_await s->tls->read_some(buf.data(), buf.size());
    n = r.bytes;
    ec = r.ec;
  } else {
    n = co_await s->plain->async_read_some(asio::buffer(buf.data(), buf.size()),
                                           asio::redirect_error(use_awaitable, ec));
  }
  if (s->read_interrupted) co_return IoResult{0, asio::error::shut_down};
  co_return finish(n, ec, deadline);
}

awaitable<IoResult> Stream::write(std::string_view bytes) {
  std::shared_ptr<Impl> s = impl_;
  ErrorCode ec;
  Deadline deadline(*s, Direction::write, s->write_timeout, OnExpiry::close);
  std::size_t n = 0;
  if (s->tls) {
    IoResult r = co_await s->tls->write(bytes.data(), bytes.size());
    n = r.bytes;
    ec = r.ec;
  } else {
    n = co_await asio::async_write(*s->plain, asio::buffer(bytes.data(), bytes.size()),
                                   asio::redirect_error(use_awaitable, ec));
  }
  co_return finish(n, ec, deadline);
}

awaitable<IoResult> Stream::start_tls(asio::ssl::context& ctx, LineReader& reader) {
  std::size_t dropped = reader.discard_buffered();
  IoResult r = co_await handshake(ctx);
  if (r) r.bytes = dropped;
  co_return r;
}

awaitable<IoResult> Stream::handshake(asio::ssl::context& ctx) {
  std::shared_ptr<Impl> s = impl_;
  if (s->tls) co_return IoResult{0, asio::error::already_connected};
  s->tls.emplace(std::move(*s->plain), ctx);
  s->plain.reset();
  ErrorCode ec;
  Deadline deadline(*s, Direction::read, s->read_timeout, OnExpiry::close);
  IoResult r = co_await s->tls->handshake();
  ec = r.ec;
  co_return finish(0, ec, deadline);
}

awaitable<IoResult> Stream::start_tls_client(asio::ssl::context& ctx, std::string server_name,
                                             bool verify) {
  std::shared_ptr<Impl> s = impl_;
  if (s->tls) co_return IoResult{0, asio::error::already_connected};
  s->tls.emplace(std::move(*s->plain), ctx, TlsSocket::Role::client);
  s->plain.reset();
  if (!s->tls->set_client_peer(server_name, verify)) {
    close();
    co_return IoResult{0, asio::error::invalid_argument};
  }
  Deadline deadline(*s, Direction::read, s->read_timeout, OnExpiry::close);
  IoResult r = co_await s->tls->handshake();
  co_return finish(0, r.ec, deadline);
}

std::string Stream::tls_description() const {
  return impl_->tls ? impl_->tls->description() : std::string();
}

std::string Stream::tls_verify_error() const {
  return impl_->tls ? impl_->tls->verify_error() : std::string("no TLS");
}

awaitable<Result<std::unique_ptr<Stream>, ErrorCode>> connect_tcp(Executor ex, std::string ip,
                                                                  std::uint16_t port,
                                                                  std::chrono::milliseconds timeout,
                                                                  std::string bind_ip) {
  ErrorCode ec;
  const asio::ip::address address = asio::ip::make_address(ip, ec);
  if (ec) co_return unexpected(ErrorCode(asio::error::invalid_argument));
  asio::ip::address local;
  if (!bind_ip.empty()) {
    local = asio::ip::make_address(bind_ip, ec);
    if (ec) co_return unexpected(ErrorCode(asio::error::invalid_argument));
  }
  const tcp::endpoint peer(address, port);
  // Shared with the deadline handler, which may run after this coroutine has returned.
  struct Attempt {
    explicit Attempt(Executor e) : sock(e), timer(e) {}
    tcp::socket sock;
    asio::steady_timer timer;
    bool done = false;
    bool expired = false;
  };
  auto a = std::make_shared<Attempt>(ex);
  a->sock.open(peer.protocol(), ec);
  if (!ec && !bind_ip.empty()) a->sock.bind(tcp::endpoint(local, 0), ec);
  if (ec) co_return unexpected(ec);
  if (timeout.count() > 0) {
    a->timer.expires_after(timeout);
    a->timer.async_wait([a](ErrorCode e) {
      if (e || a->done) return;
      a->expired = true;
      ErrorCode ignored;
      a->sock.close(ignored);
    });
  }
  co_await a->sock.async_connect(peer, asio::redirect_error(use_awaitable, ec));
  a->done = true;
  a->timer.cancel();
  if (a->expired) co_return unexpected(ErrorCode(asio::error::timed_out));
  if (ec) co_return unexpected(ec);
  a->sock.set_option(tcp::no_delay(true), ec);  // commands are small and latency-bound
  co_return std::make_unique<Stream>(std::make_unique<Stream::Impl>(std::move(a->sock)));
}

void Stream::set_read_timeout(std::chrono::milliseconds t) {
  impl_->read_timeout = t;
}
void Stream::set_write_timeout(std::chrono::milliseconds t) {
  impl_->write_timeout = t;
}
std::chrono::milliseconds Stream::read_timeout() const {
  return impl_->read_timeout;
}

bool Stream::is_tls() const {
  return impl_->tls.has_value();
}
bool Stream::is_open() const {
  return impl_->socket().is_open();
}
const std::string& Stream::remote_address() const {
  return impl_->remote;
}
std::uint16_t Stream::remote_port() const {
  return impl_->remote_port;
}
std::uint16_t Stream::local_port() const {
  return impl_->local_port;
}
bool Stream::is_loopback() const {
  return impl_->loopback;
}
Executor Stream::executor() const {
  return impl_->read_watch.timer.get_executor();
}

void Stream::authenticated() {
  if (auto hook = std::exchange(impl_->on_authenticated, nullptr)) hook();
}

void Stream::set_on_authenticated(std::function<void()> hook) {
  impl_->on_authenticated = std::move(hook);
}

void Stream::interrupt_reads() {
  ErrorCode ignored;
  impl_->read_interrupted = true;
  // Wakes a pending read with end of stream (as a read deadline does); the send side stays up.
  if (impl_->socket().is_open()) impl_->socket().shutdown(tcp::socket::shutdown_receive, ignored);
}

void Stream::close() {
  ErrorCode ignored;
  impl_->read_watch.timer.cancel();
  impl_->write_watch.timer.cancel();
  if (!impl_->socket().is_open()) return;
  impl_->socket().shutdown(tcp::socket::shutdown_both, ignored);
  impl_->socket().close(ignored);
}

awaitable<void> Stream::shutdown() {
  std::shared_ptr<Impl> s = impl_;
  if (s->tls && s->socket().is_open()) {
    // Sending close_notify may wait for a peer that reads nothing: never longer than 2 s.
    auto limit = std::chrono::milliseconds(2000);
    if (s->write_timeout.count() > 0) limit = std::min(limit, s->write_timeout);
    Deadline deadline(*s, Direction::write, limit, OnExpiry::close);
    IoResult r = co_await s->tls->shutdown();
    (void)r;  // closing anyway
  }
  close();
}

}  // namespace govmail::core
