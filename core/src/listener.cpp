#include "core/listener.hpp"

#include <atomic>
#include <charconv>
#include <list>
#include <mutex>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "core/limits.hpp"
#include "core/stream.hpp"
#include "stream_impl.hpp"

namespace govmail::core {

namespace {

using namespace std::chrono_literals;

// Refusals run concurrently up to this many; beyond it an over-limit connection is just closed.
constexpr std::size_t kMaxConcurrentRejects = 64;
constexpr auto kRejectWriteTimeout = 5s;
constexpr auto kAcceptErrorBackoff = 100ms;  // EMFILE and the like: do not spin

Result<std::uint16_t, std::string> parse_port(std::string_view s) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > 65535) {
    return unexpected(std::string("bad port \"") + std::string(s) + "\"");
  }
  return static_cast<std::uint16_t>(v);
}

std::string endpoint_text(const tcp::endpoint& ep) {
  std::string port = std::to_string(ep.port());
  if (ep.address().is_v6()) return "[" + ep.address().to_string() + "]:" + port;
  return ep.address().to_string() + ":" + port;
}

}  // namespace

Result<Endpoint, std::string> parse_endpoint(std::string_view text) {
  std::string_view host, port;
  bool bracketed = text.starts_with('[');
  if (bracketed) {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return unexpected("expected [v6-address]:port, found \"" + std::string(text) + "\"");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return unexpected("expected address:port, found \"" + std::string(text) + "\"");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto p = parse_port(port);
  if (!p) return unexpected(p.error() + " in \"" + std::string(text) + "\"");
  ErrorCode ec;
  asio::ip::address a = asio::ip::make_address(std::string(host), ec);
  if (ec || a.is_v6() != bracketed) {
    return unexpected("expected an IPv4 address or a bracketed IPv6 address, found \"" +
                      std::string(text) + "\"");
  }
  return Endpoint{a.to_string(), *p, a.is_v6()};
}

namespace {

struct Listener {
  std::shared_ptr<const ServiceOptions> service;
  tcp::acceptor acceptor;
  std::string where;  // "smtp [::1]:2525" for logs
};

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(Executor e, ConnectionLimits l) : ex(std::move(e)), limits(l) {}

  struct Live {
    std::weak_ptr<Stream> stream;
    bool interrupt_on_shutdown = false;
  };
  using LiveList = std::list<Live>;

  // Counts a connection for as long as it lives; released from the connection's coroutine.
  // `preauth` is true while the connection also counts as not yet authenticated.
  class Slot {
   public:
    Slot(std::shared_ptr<Impl> server, LiveList::iterator it, std::string net,
         std::shared_ptr<std::atomic<bool>> preauth)
        : server_(std::move(server)), it_(it), net_(std::move(net)), preauth_(std::move(preauth)) {}
    Slot(Slot&& o) noexcept
        : server_(std::move(o.server_)),
          it_(o.it_),
          net_(std::move(o.net_)),
          preauth_(std::move(o.preauth_)) {}
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (!server_) return;
      server_->end_preauth(net_, *preauth_);
      server_->release(it_, net_);
    }

   private:
    std::shared_ptr<Impl> server_;
    LiveList::iterator it_;
    std::string net_;
    std::shared_ptr<std::atomic<bool>> preauth_;
  };

  std::optional<Slot> admit(const std::shared_ptr<Stream>& stream, const ServiceOptions& svc);
  void release(LiveList::iterator it, const std::string& net);
  void end_preauth(const std::string& net, std::atomic<bool>& preauth);
  std::string net_of(std::string_view ip) const {
    return network_key(ip, limits.ipv4_network_prefix, limits.ipv6_network_prefix);
  }
  void accept_next(Listener& l);
  void on_accepted(const std::shared_ptr<const ServiceOptions>& svc, tcp::socket sock);
  void stop_accepting();
  std::vector<std::shared_ptr<Stream>> open_streams(bool interruptible_only) const;
  void close_all();
  void interrupt_reads();

  Executor ex;
  ConnectionLimits limits;
  std::vector<std::unique_ptr<Listener>> listeners;

  mutable std::mutex mu;  // io threads accept and release concurrently
  bool stopping = false;
  std::size_t rejecting = 0;
  LiveList live;
  std::unordered_map<std::string, std::size_t> per_net;          // by network_key()
  std::unordered_map<std::string, std::size_t> preauth_per_net;  // not yet authenticated
};

std::optional<Server::Impl::Slot> Server::Impl::admit(const std::shared_ptr<Stream>& stream,
                                                      const ServiceOptions& svc) {
  std::string net = net_of(stream->remote_address());
  std::lock_guard lock(mu);
  std::size_t& n = per_net[net];
  std::size_t& pre = preauth_per_net[net];
  bool full = stopping || live.size() >= limits.max_connections ||
              n >= limits.max_connections_per_ip ||
              (svc.preauth_limited && pre >= limits.max_preauth_connections_per_network);
  if (full) {
    if (n == 0) per_net.erase(net);
    if (pre == 0) preauth_per_net.erase(net);
    return std::nullopt;
  }
  ++n;
  auto preauth = std::make_shared<std::atomic<bool>>(svc.preauth_limited);
  if (svc.preauth_limited) {
    ++pre;
    stream->set_on_authenticated([weak = weak_from_this(), net, preauth] {
      if (auto self = weak.lock()) self->end_preauth(net, *preauth);
    });
  } else if (pre == 0) {
    preauth_per_net.erase(net);
  }
  live.push_front({stream, svc.interrupt_reads_on_shutdown});
  return Slot(shared_from_this(), live.begin(), std::move(net), std::move(preauth));
}

void Server::Impl::release(LiveList::iterator it, const std::string& net) {
  std::lock_guard lock(mu);
  live.erase(it);
  auto p = per_net.find(net);
  if (p != per_net.end() && --p->second == 0) per_net.erase(p);
}

void Server::Impl::end_preauth(const std::string& net, std::atomic<bool>& preauth) {
  if (!preauth.exchange(false)) return;
  std::lock_guard lock(mu);
  auto p = preauth_per_net.find(net);
  if (p != preauth_per_net.end() && --p->second == 0) preauth_per_net.erase(p);
}

namespace {

awaitable<void> run_connection(std::shared_ptr<const ServiceOptions> svc,
                               std::shared_ptr<Stream> stream, Server::Impl::Slot slot) {
  stream->set_write_timeout(svc->write_timeout);
  if (svc->tls == TlsMode::implicit) {
    stream->set_read_timeout(svc->handshake_timeout);
    IoResult r = co_await stream->handshake(*svc->tls_context);
    if (!r) {
      spdlog::debug("{}: TLS handshake with {} failed: {}", svc->name, stream->remote_address(),
                    r.ec.message());
      stream->close();
      co_return;
    }
  }
  stream->set_read_timeout(svc->read_timeout);
  try {
    co_await svc->handler(*stream);
  } catch (const std::exception& e) {
    spdlog::error("{}: connection from {}: handler failed: {}", svc->name, stream->remote_address(),
                  e.what());
  }
  stream->close();
  (void)slot;  // released when the frame goes, after close
}

awaitable<void> run_reject(std::shared_ptr<const ServiceOptions> svc,
                           std::shared_ptr<Stream> stream) {
  stream->set_write_timeout(kRejectWriteTimeout);
  stream->set_read_timeout(kRejectWriteTimeout);
  try {
    co_await svc->on_reject(*stream);
  } catch (const std::exception& e) {
    spdlog::error("{}: refusing {}: {}", svc->name, stream->remote_address(), e.what());
  }
  stream->close();
}

}  // namespace

void Server::Impl::on_accepted(const std::shared_ptr<const ServiceOptions>& svc, tcp::socket sock) {
  // Replies are written whole, each as the client waits for it: Nagle would only add delay.
  ErrorCode ignored;
  sock.set_option(tcp::no_delay(true), ignored);
  auto stream = std::make_shared<Stream>(std::make_unique<Stream::Impl>(std::move(sock)));
  std::optional<Slot> slot = admit(stream, *svc);
  if (slot) {
    asio::co_spawn(stream->executor(), run_connection(svc, stream, std::move(*slot)),
                   [name = svc->name](std::exception_ptr e) {
                     if (e) spdlog::error("{}: connection ended by an exception", name);
                   });
    return;
  }
  {
    std::lock_guard lock(mu);
    if (stopping) {
      stream->close();
      return;
    }
    spdlog::warn(
        "{}: connection limit reached (limits.max_connections / max_connections_per_ip / "
        "max_preauth_connections_per_network): refusing {}",
        svc->name, stream->remote_address());
    if (!svc->on_reject || svc->tls != TlsMode::none || rejecting >= kMaxConcurrentRejects) {
      stream->close();
      return;
    }
    ++rejecting;
  }
  asio::co_spawn(stream->executor(), run_reject(svc, stream),
                 [self = shared_from_this()](std::exception_ptr) {
                   std::lock_guard lock(self->mu);
                   --self->rejecting;
                 });
}

void Server::Impl::accept_next(Listener& l) {
  // Each connection gets its own strand: its reads, writes and deadline timers never race, and
  // several io threads can serve different connections.
  auto sock = std::make_shared<tcp::socket>(asio::make_strand(ex));
  l.acceptor.async_accept(*sock, [self = shared_from_this(), &l, sock](ErrorCode ec) {
    if (!l.acceptor.is_open()) return;  // stop()
    if (ec) {
      spdlog::warn("{}: accept failed: {}", l.where, ec.message());
      auto timer = std::make_shared<asio::steady_timer>(l.acceptor.get_executor());
      timer->expires_after(kAcceptErrorBackoff);
      timer->async_wait([self, &l, timer](ErrorCode) {
        if (l.acceptor.is_open()) self->accept_next(l);
      });
      return;
    }
    self->on_accepted(l.service, std::move(*sock));
    self->accept_next(l);
  });
}

void Server::Impl::stop_accepting() {
  {
    std::lock_guard lock(mu);
    stopping = true;
  }
  for (auto& l : listeners) {
    asio::post(l->acceptor.get_executor(), [self = shared_from_this(), a = &l->acceptor] {
      ErrorCode ignored;
      a->close(ignored);
    });
  }
}

std::vector<std::shared_ptr<Stream>> Server::Impl::open_streams(bool interruptible_only) const {
  std::vector<std::shared_ptr<Stream>> open;
  std::lock_guard lock(mu);
  for (auto& l : live) {
    if (interruptible_only && !l.interrupt_on_shutdown) continue;
    if (auto s = l.stream.lock()) open.push_back(std::move(s));
  }
  return open;
}

void Server::Impl::close_all() {
  for (auto& s : open_streams(false)) asio::post(s->executor(), [s] { s->close(); });
}

void Server::Impl::interrupt_reads() {
  for (auto& s : open_streams(true)) asio::post(s->executor(), [s] { s->interrupt_reads(); });
}

Server::Server(Executor ex, ConnectionLimits limits)
    : impl_(std::make_shared<Impl>(std::move(ex), limits)) {}

Server::~Server() {
  stop();
}

Result<void, std::string> Server::add_service(ServiceOptions options) {
  if (!options.handler) return unexpected(options.name + ": no connection handler");
  if (options.tls == TlsMode::implicit && !options.tls_context) {
    return unexpected(options.name + ": implicit TLS without a TLS context");
  }
  auto svc = std::make_shared<const ServiceOptions>(std::move(options));
  for (const std::string& text : svc->listen) {
    auto ep = parse_endpoint(text);
    if (!ep) return unexpected(svc->name + ": listen " + ep.error());
    tcp::endpoint where(asio::ip::make_address(ep->address), ep->port);
    auto l = std::make_unique<Listener>(
        Listener{svc, tcp::acceptor(asio::make_strand(impl_->ex)), svc->name + " " + text});
    ErrorCode ec;
    l->acceptor.open(where.protocol(), ec);
    // v6 sockets only take v6, so "[::]:25" and "0.0.0.0:25" can both be bound.
    if (!ec && ep->v6) l->acceptor.set_option(asio::ip::v6_only(true), ec);
    if (!ec) l->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) l->acceptor.bind(where, ec);
    if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return unexpected(l->where + ": " + ec.message());
    if (ep->port == 0) l->where = svc->name + " " + endpoint_text(l->acceptor.local_endpoint(ec));
    impl_->listeners.push_back(std::move(l));
  }
  return {};
}

void Server::start() {
  for (auto& l : impl_->listeners) {
    spdlog::info("{}: listening", l->where);
    asio::dispatch(l->acceptor.get_executor(),
                   [self = impl_, l = l.get()] { self->accept_next(*l); });
  }
}

void Server::stop() {
  impl_->stop_accepting();
  impl_->close_all();
}

awaitable<void> Server::shutdown(std::chrono::milliseconds grace) {
  std::shared_ptr<Impl> self = impl_;
  self->stop_accepting();
  self->interrupt_reads();
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (connection_count() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(50ms);
    co_await timer.async_wait(use_awaitable);
  }
  self->close_all();
}

std::size_t Server::connection_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->live.size();
}

std::size_t Server::connection_count(std::string_view remote_ip) const {
  std::string net = impl_->net_of(remote_ip);
  std::lock_guard lock(impl_->mu);
  auto it = impl_->per_net.find(net);
  return it == impl_->per_net.end() ? 0 : it->second;
}

std::size_t Server::preauth_count(std::string_view remote_ip) const {
  std::string net = impl_->net_of(remote_ip);
  std::lock_guard lock(impl_->mu);
  auto it = impl_->preauth_per_net.find(net);
  return it == impl_->preauth_per_net.end() ? 0 : it->second;
}

std::vector<std::uint16_t> Server::ports(std::string_view service) const {
  std::vector<std::uint16_t> out;
  for (auto& l : impl_->listeners) {
    ErrorCode ec;
    if (l->service->name == service) out.push_back(l->acceptor.local_endpoint(ec).port());
  }
  return out;
}

Result<void, std::string> add_service_pair(
    Server& server, const ServicePair& pair, const std::shared_ptr<boost::asio::ssl::context>& tls,
    const std::function<void(ServiceOptions&, bool starttls)>& configure) {
  struct Half {
    const char* name;
    const std::vector<std::string>& listen;
    TlsMode mode;
  };
  const Half halves[] = {{pair.plain_name, pair.plain, TlsMode::none},
                         {pair.implicit_name, pair.implicit, TlsMode::implicit}};
  for (const auto& half : halves) {
    if (half.listen.empty()) continue;
    if (half.mode == TlsMode::implicit && !tls)
      return unexpected(std::string(half.name) + ": implicit TLS needs a TLS certificate");
    ServiceOptions opts;
    opts.name = half.name;
    opts.listen = half.listen;
    opts.tls = half.mode;
    opts.tls_context = tls;
    configure(opts, tls && half.mode == TlsMode::none);
    if (auto r = server.add_service(std::move(opts)); !r) return r;
  }
  return {};
}

}  // namespace govmail::core
