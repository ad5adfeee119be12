// HTTP/1.1 front end on core::Stream: request limits, keep-alive, per-request deadline, a small
// router that JMAP and the admin API plug into, and GET /healthz. Boost.Beast stays in the .cpp:
// handlers see plain request and response structs.
#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/awaitable_fwd.hpp"

namespace govmail::core {

class Stream;
struct Config;

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", as sent
  std::string target;  // "/jmap/session?x=1"
  std::string path;    // "/jmap/session"
  std::string query;   // "x=1"
  Headers headers;
  std::string body;
  std::string remote_address;
  bool tls = false;
  bool loopback = false;  // the peer is 127.0.0.0/8 or ::1
  // First header with this name (case-insensitive); empty when absent.
  std::string_view header(std::string_view name) const;
};

// Where a streamed body goes (see HttpResponse::stream_body).
class BodyWriter {
 public:
  virtual ~BodyWriter() = default;
  // False once the client is gone (or the write timed out): stop writing.
  virtual awaitable<bool> write(std::string chunk) = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  Headers headers;  // extra headers; Content-Length, Connection and Server are set by the server
  // A body made while it is sent (text/event-stream): when set, `body` is ignored, the headers go
  // out without Content-Length, the server calls this with the connection's writer and closes
  // the connection when it returns. It must not refer to the request (gone by then).
  std::function<awaitable<void>(BodyWriter&)> stream_body;

  static HttpResponse json(int status, std::string body);
  // {"error":"<message>"}: what the client may see, never internal details.
  static HttpResponse error(int status, std::string_view message);
};

using HttpHandler = std::function<awaitable<HttpResponse>(const HttpRequest&)>;

// Routes by method and path prefix; the longest matching prefix wins. A prefix matches the path
// itself and, at a '/' boundary, everything below it: "/jmap" matches "/jmap" and
// "/jmap/session", not "/jmapx". Method "*" matches any method.
class Router {
 public:
  void add(std::string method, std::string path_prefix, HttpHandler handler);

  struct Match {
    const HttpHandler* handler = nullptr;  // null: see path_known
    bool path_known = false;               // some route has the path: 405, else 404
  };
  Match find(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::string prefix;
    HttpHandler handler;
  };
  std::vector<Route> routes_;
};

struct HttpLimits {
  std::size_t header_max = 16 * 1024;       // request line + headers; over it: 431
  std::size_t body_max = 10 * 1024 * 1024;  // over it: 413
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};  // whole request read
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};     // keep-alive wait
  std::size_t max_requests_per_connection = 1000;
  // Requests per second per client network (the prefixes below), bursts up to rate_burst; 0 = off.
  unsigned rate_per_network = 0;
  unsigned rate_burst = 1;
  unsigned ipv4_network_prefix = 32;
  unsigned ipv6_network_prefix = 64;
};
// The [http] section (and limits.*_network_prefix) of the one config struct. `body_max` is the
// largest body of any route: the routes check their own smaller limits.
HttpLimits http_limits(const Config& cfg);

// Token buckets per client network: `rate` requests per second, up to `burst` at once. Pure
// logic; thread-safe. Forgets full buckets when it holds more than max_networks.
class NetworkRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  NetworkRateLimiter(unsigned rate, unsigned burst, std::size_t max_networks = 100000);
  // True: the request may go on. `retry_after` (when false): seconds until a token is back.
  bool allow(const std::string& network, Clock::time_point now,
             std::chrono::seconds* retry_after = nullptr);

 private:
  struct Bucket {
    double tokens;
    Clock::time_point last;
  };
  double rate_;
  double burst_;
  std::size_t max_networks_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

struct HealthReport {
  bool ok = true;
  std::vector<std::pair<std::string, std::string>> checks;  // {"database", "ok"}
};
using HealthCheck = std::function<awaitable<HealthReport>()>;

class HttpServer {
 public:
  explicit HttpServer(HttpLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;  // routes capture this
  HttpServer& operator=(const HttpServer&) = delete;

  Router& router() { return router_; }
  // GET /healthz adds these checks; any not ok turns the answer into 503.
  void set_health_check(HealthCheck check);

  // The listener's connection handler: serves requests until close, error or timeout.
  awaitable<void> serve(core::Stream& stream);

  // One request through the router, without a socket (also used by serve()).
  awaitable<HttpResponse> handle(const HttpRequest& request);

 private:
  awaitable<HttpResponse> health();

  HttpLimits limits_;
  std::unique_ptr<NetworkRateLimiter> rate_limiter_;  // null: no limit
  Router router_;
  HealthCheck health_check_;
};

}  // namespace govmail::core
