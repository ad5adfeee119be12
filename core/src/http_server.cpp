#include "core/http_server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <optional>
#include <random>

#include "core/asio.hpp"

#include <spdlog/spdlog.h>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "core/limits.hpp"
#include "core/stream.hpp"
#include "core/version.hpp"

namespace govmail::core {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using Parser = http::request_parser<http::string_body>;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kReadChunk = 4096;  // bytes per read: small buffers for idle connections

// Beast 1.74 uses boost::string_view.
std::string_view sv(beast::string_view s) {
  return {s.data(), s.size()};
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool prefix_matches(std::string_view prefix, std::string_view path) {
  if (!path.starts_with(prefix)) return false;
  return path.size() == prefix.size() || prefix.ends_with('/') || path[prefix.size()] == '/';
}

// An id the client can quote and the log holds next to the details (STYLE.md 13).
std::string error_id() {
  static std::atomic<std::uint64_t> counter{[] {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) | rd();
  }()};
  return fmt::format("{:016x}", counter.fetch_add(0x9E3779B97F4A7C15ull));
}

// What went wrong while reading one request.
struct ReadOutcome {
  enum Kind { request, closed, bad } kind = closed;
  int status = 400;  // with bad
  std::string_view message = {};
};

ReadOutcome refusal(const beast::error_code& ec) {
  if (ec == http::error::header_limit) return {ReadOutcome::bad, 431, "request header too large"};
  if (ec == http::error::body_limit) return {ReadOutcome::bad, 413, "request body too large"};
  return {ReadOutcome::bad, 400, "malformed request"};
}

// The response as bytes; with head_only, the status line and headers only (a streamed body
// follows).
template <class Body>
std::string serialize(http::response<Body>& res, bool head_only = false) {
  std::string out;
  http::response_serializer<Body> sr(res);
  sr.split(head_only);
  beast::error_code ec;
  do {
    sr.next(ec, [&](beast::error_code&, const auto& buffers) {
      std::size_t n = 0;
      for (auto b : beast::buffers_range_ref(buffers)) {
        out.append(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      sr.consume(n);
    });
  } while (!ec && !(head_only ? sr.is_header_done() : sr.is_done()));
  return out;
}

// Every answer: no sniffing, framing or referrers, no content loading (JSON API; a page that
// needs more sets its own Content-Security-Policy); over TLS, browsers stay on TLS (HSTS).
template <class Body>
void set_security_headers(http::response<Body>& res, bool tls) {
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
  res.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  res.set(http::field::cache_control, "no-store");
  if (tls) res.set("Strict-Transport-Security", "max-age=31536000");
}

awaitable<bool> write_response(core::Stream& stream, const HttpResponse& r, bool keep_alive,
                               unsigned version) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "govmail");
  res.set(http::field::content_type, r.content_type);
  set_security_headers(res, stream.is_tls());
  for (const auto& header : r.headers) res.erase(header.first);  // a handler's own headers win
  for (const auto& [name, value] : r.headers) res.insert(name, value);
  res.body() = r.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  core::IoResult w = co_await stream.write(serialize(res));
  co_return static_cast<bool>(w);
}

// Headers of a streamed answer: no Content-Length, the connection closes when the body ends.
awaitable<bool> write_stream_head(core::Stream& stream, const HttpResponse& r, unsigned version) {
  http::response<http::empty_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "govmail");
  res.set(http::field::content_type, r.content_type);
  set_security_headers(res, stream.is_tls());
  for (const auto& header : r.headers) res.erase(header.first);
  for (const auto& [name, value] : r.headers) res.insert(name, value);
  res.keep_alive(false);
  core::IoResult w = co_await stream.write(serialize(res, /*head_only=*/true));
  co_return static_cast<bool>(w);
}

class StreamBodyWriter final : public BodyWriter {
 public:
  explicit StreamBodyWriter(core::Stream& stream) : stream_(stream) {}
  awaitable<bool> write(std::string chunk) override {
    core::IoResult w = co_await stream_.write(chunk);
    co_return static_cast<bool>(w);
  }

 private:
  core::Stream& stream_;
};

HttpRequest to_request(http::request<http::string_body>& msg, const core::Stream& stream) {
  HttpRequest req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  std::size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);
  for (const auto& f : msg) req.headers.emplace_back(f.name_string(), f.value());
  req.body = std::move(msg.body());
  req.remote_address = stream.remote_address();
  req.tls = stream.is_tls();
  req.loopback = stream.is_loopback();
  return req;
}

// Reads one request into `parser`. `buf` keeps bytes of a pipelined next request. The wait for
// the first byte is bounded by the idle timeout, the whole request by the request timeout.
awaitable<ReadOutcome> read_request(core::Stream& stream, beast::flat_buffer& buf, Parser& parser,
                                    const HttpLimits& limits) {
  std::optional<Clock::time_point> deadline;
  bool sent_continue = false;
  for (;;) {
    if (buf.size() > 0) {
      if (!deadline) deadline = Clock::now() + limits.request_timeout;
      beast::error_code ec;
      std::size_t n = parser.put(buf.data(), ec);
      buf.consume(n);
      if (ec && ec != http::error::need_more) co_return refusal(ec);
      if (parser.is_done()) co_return ReadOutcome{ReadOutcome::request, 0};
      if (parser.is_header_done() && !sent_continue &&
          iequals(sv(parser.get()[http::field::expect]), "100-continue")) {
        sent_continue = true;  // curl waits for this before sending a body
        if (!co_await stream.write("HTTP/1.1 100 Continue\r\n\r\n"))
          co_return ReadOutcome{ReadOutcome::closed, 0};
      }
      if (n > 0 && buf.size() > 0) continue;
    }
    auto timeout = limits.idle_timeout;
    if (deadline) {
      timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
      if (timeout.count() <= 0)
        co_return ReadOutcome{ReadOutcome::closed, 0};  // slow request: drop it
    }
    stream.set_read_timeout(timeout);
    auto space = buf.prepare(kReadChunk);
    core::IoResult r =
        co_await stream.read_some(std::span(static_cast<char*>(space.data()), space.size()));
    if (!r) {
      if (r.ec == boost::asio::error::eof && deadline)
        co_return refusal(http::error::partial_message);
      co_return ReadOutcome{ReadOutcome::closed, 0};
    }
    buf.commit(r.bytes);
  }
}

// Lingering close after an error answer: closing with unread request bytes makes the kernel
// send RST, and the client may lose the answer. Read and drop what the client still sends, for
// a short, bounded while, until it closes.
awaitable<void> drain(core::Stream& stream) {
  constexpr std::size_t kMaxDrain = 64 * 1024;
  std::array<char, 1024> sink;
  stream.set_read_timeout(std::chrono::seconds(1));
  for (std::size_t total = 0; total < kMaxDrain;) {
    core::IoResult r = co_await stream.read_some(sink);
    if (!r) break;
    total += r.bytes;
  }
}

}  // namespace

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return v;
  }
  return {};
}

HttpResponse HttpResponse::json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::error(int status, std::string_view message) {
  return json(status, nlohmann::json{{"error", message}}.dump());
}

void Router::add(std::string method, std::string path_prefix, HttpHandler handler) {
  routes_.push_back({std::move(method), std::move(path_prefix), std::move(handler)});
}

Router::Match Router::find(std::string_view method, std::string_view path) const {
  Match m;
  std::size_t best = 0;
  for (const Route& r : routes_) {
    if (!prefix_matches(r.prefix, path)) continue;
    m.path_known = true;
    if (r.method != "*" && r.method != method) continue;
    if (!m.handler || r.prefix.size() > best) {
      m.handler = &r.handler;
      best = r.prefix.size();
    }
  }
  return m;
}

HttpLimits http_limits(const Config& cfg) {
  HttpLimits l;
  l.header_max = cfg.http.header_max;
  l.body_max = std::max({cfg.http.body_max, cfg.jmap.max_size_upload, cfg.jmap.max_size_request});
  l.request_timeout = cfg.http.request_timeout;
  l.idle_timeout = cfg.http.keepalive_timeout;
  l.max_requests_per_connection = cfg.http.max_requests_per_connection;
  l.rate_per_network = cfg.http.rate_per_network;
  l.rate_burst = cfg.http.rate_burst;
  l.ipv4_network_prefix = cfg.limits.ipv4_network_prefix;
  l.ipv6_network_prefix = cfg.limits.ipv6_network_prefix;
  return l;
}

NetworkRateLimiter::NetworkRateLimiter(unsigned rate, unsigned burst, std::size_t max_networks)
    : rate_(rate), burst_(std::max(1u, burst)), max_networks_(max_networks) {}

bool NetworkRateLimiter::allow(const std::string& network, Clock::time_point now,
                               std::chrono::seconds* retry_after) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(network);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_networks_) {
      // Forget the networks whose bucket has refilled: they lose nothing.
      std::erase_if(buckets_, [&](const auto& kv) {
        std::chrono::duration<double> idle = now - kv.second.last;
        return kv.second.tokens + idle.count() * rate_ >= burst_;
      });
    }
    it = buckets_.emplace(network, Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  std::chrono::duration<double> elapsed = now - b.last;
  b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed.count()) * rate_);
  b.last = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  if (retry_after) {
    auto wait = static_cast<long>(std::ceil((1.0 - b.tokens) / rate_));
    *retry_after = std::chrono::seconds(std::max(1L, wait));
  }
  return false;
}

HttpServer::HttpServer(HttpLimits limits) : limits_(limits) {
  if (limits_.rate_per_network > 0)
    rate_limiter_ =
        std::make_unique<NetworkRateLimiter>(limits_.rate_per_network, limits_.rate_burst);
  router_.add("GET", "/healthz", [this](const HttpRequest&) { return health(); });
}

HttpServer::~HttpServer() = default;

void HttpServer::set_health_check(HealthCheck check) {
  health_check_ = std::move(check);
}

awaitable<HttpResponse> HttpServer::health() {
  HealthReport report;
  if (health_check_) report = co_await health_check_();
  nlohmann::json body{{"status", report.ok ? "ok" : "unavailable"},
                      {"version", std::string(core::version())}};
  for (const auto& [name, state] : report.checks) body["checks"][name] = state;
  co_return HttpResponse::json(report.ok ? 200 : 503, body.dump());
}

awaitable<HttpResponse> HttpServer::handle(const HttpRequest& request) {
  Router::Match m = router_.find(request.method, request.path);
  if (!m.handler) {
    co_return m.path_known ? HttpResponse::error(405, "method not allowed")
                           : HttpResponse::error(404, "not found");
  }
  std::string id;
  try {
    co_return co_await (*m.handler)(request);
  } catch (const std::exception& e) {
    id = error_id();
    spdlog::error("http: {} {}: handler failed (error id {}): {}", request.method, request.path, id,
                  e.what());
  }
  co_return HttpResponse::json(500, nlohmann::json{{"error", "internal error"}, {"id", id}}.dump());
}

awaitable<void> HttpServer::serve(core::Stream& stream) {
  beast::flat_buffer buf;
  for (std::size_t served = 0; served < limits_.max_requests_per_connection; ++served) {
    Parser parser;
    parser.header_limit(static_cast<std::uint32_t>(limits_.header_max));
    parser.body_limit(limits_.body_max);
    parser.eager(true);
    ReadOutcome in = co_await read_request(stream, buf, parser, limits_);
    if (in.kind == ReadOutcome::closed) co_return;
    if (in.kind == ReadOutcome::bad) {
      spdlog::debug("http: {} from {}", in.message, stream.remote_address());
      if (co_await write_response(stream, HttpResponse::error(in.status, in.message), false, 11)) {
        co_await drain(stream);
      }
      co_return;
    }
    auto& msg = parser.get();
    bool keep_alive = msg.keep_alive() && served + 1 < limits_.max_requests_per_connection;
    unsigned version = msg.version();
    HttpResponse res;
    std::chrono::seconds retry_after{0};
    if (rate_limiter_ &&
        !rate_limiter_->allow(network_key(stream.remote_address(), limits_.ipv4_network_prefix,
                                          limits_.ipv6_network_prefix),
                              Clock::now(), &retry_after)) {
      res = HttpResponse::error(429, "too many requests");
      res.headers.emplace_back("Retry-After", std::to_string(retry_after.count()));
    } else {
      HttpRequest request = to_request(msg, stream);
      res = co_await handle(request);
    }
    if (res.stream_body) {
      if (!co_await write_stream_head(stream, res, version)) co_return;
      StreamBodyWriter writer(stream);
      co_await res.stream_body(writer);
      co_return;
    }
    if (!co_await write_response(stream, res, keep_alive, version) || !keep_alive) co_return;
  }
}

}  // namespace govmail::core
