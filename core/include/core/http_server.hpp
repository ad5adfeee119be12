// HTTP/1.1 front end on core::Stream: request limits, keep-alive, per-request deadline, a small
// router that JMAP and the admin API plug into, and GET /healthz. Boost.Beast stays in the .cpp:
// handlers see plain request and response structs.
#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/awaitable_fwd.hpp"

namespace govmail::core {

class Stream;

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
  // First header with this name (case-insensitive); empty when absent.
  std::string_view header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  Headers headers;  // extra headers; Content-Length, Connection and Server are set by the server

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
  Router router_;
  HealthCheck health_check_;
};

}  // namespace govmail::core
