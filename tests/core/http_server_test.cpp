// HttpServer behind the real listener on a loopback ephemeral port; a Beast client checks the
// answers on the wire.
#include "core/http_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>

#include "core/asio.hpp"
#include "core/config.hpp"
#include "core/listener.hpp"
#include "core/stream.hpp"
#include "core/version.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace govmail::core {
namespace {

using namespace std::chrono_literals;
using tcp = boost::asio::ip::tcp;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using Response = http::response<http::string_body>;

struct Client {
  tcp::socket sock;
  beast::flat_buffer buf;

  awaitable<void> send(std::string_view raw) {
    co_await asio::async_write(sock, asio::buffer(raw), use_awaitable);
  }
  awaitable<Response> get(std::string target) {
    co_await send("GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n");
    co_return co_await response();
  }
  awaitable<Response> response() {
    Response res;
    beast::error_code ec;
    co_await http::async_read(sock, buf, res, asio::redirect_error(use_awaitable, ec));
    if (ec) res.result(http::status::unknown);  // no answer on the wire
    co_return res;
  }
  awaitable<bool> closed_by_server() {
    std::array<char, 64> tmp;
    beast::error_code ec;
    std::size_t n =
        co_await sock.async_read_some(asio::buffer(tmp), asio::redirect_error(use_awaitable, ec));
    co_return n == 0 && ec;
  }
};

nlohmann::json body_json(const Response& r) {
  return nlohmann::json::parse(r.body());
}

class HttpTest : public ::testing::Test {
 protected:
  HttpTest() : server(ioc.get_executor(), {}) {}

  void start(HttpLimits limits = {}) {
    http_server = std::make_unique<HttpServer>(limits);
    configure(*http_server);
    auto r = server.add_service(
        {.name = "http", .listen = {"127.0.0.1:0"}, .handler = [this](core::Stream& s) {
           return http_server->serve(s);
         }});
    ASSERT_TRUE(r.ok());
    port = server.ports("http").at(0);
    server.start();
  }
  std::function<void(HttpServer&)> configure = [](HttpServer&) {};

  awaitable<Client> connect() {
    tcp::socket sock(co_await asio::this_coro::executor);
    co_await sock.async_connect({asio::ip::make_address("127.0.0.1"), port}, use_awaitable);
    co_return Client{std::move(sock), {}};
  }

  void run(std::function<awaitable<void>()> body) {
    bool done = false;
    std::exception_ptr failure;
    asio::co_spawn(ioc, body(), [&](std::exception_ptr e) {
      failure = e;
      done = true;
      ioc.stop();
    });
    ioc.run_for(20s);
    ASSERT_TRUE(done) << "test body timed out";
    if (failure) std::rethrow_exception(failure);
  }

  asio::io_context ioc;
  core::Server server;
  std::unique_ptr<HttpServer> http_server;
  std::uint16_t port = 0;
};

TEST_F(HttpTest, HealthzAnswersJsonWithVersion) {
  start();
  run([&]() -> awaitable<void> {
    auto c = co_await connect();
    Response r = co_await c.get("/healthz");
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_EQ(r[http::field::content_type], "application/json");
    auto j = body_json(r);
    EXPECT_EQ(j["status"], "ok");
    EXPECT_EQ(j["version"], std::string(core::version()));
    EXPECT_TRUE(r.keep_alive());
  });
}

TEST_F(HttpTest, HealthCallbackReportsDatabaseState) {
  bool db_up = true;
  configure = [&](HttpServer& h) {
    h.set_health_check([&]() -> awaitable<HealthReport> {
      co_return HealthReport{db_up, {{"database", db_up ? "ok" : "unreachable"}}};
    });
  };
  start();
  run([&]() -> awaitable<void> {
    auto c = co_await connect();
    Response up = co_await c.get("/healthz");
    EXPECT_EQ(up.result_int(), 200);
    EXPECT_EQ(body_json(up)["checks"]["database"], "ok");
    db_up = false;
    Response down = co_await c.get("/healthz");  // same connection: keep-alive
    EXPECT_EQ(down.result_int(), 503);
    EXPECT_EQ(body_json(down)["status"], "unavailable");
    EXPECT_EQ(body_json(down)["checks"]["database"], "unreachable");
  });
}

TEST_F(HttpTest, UnknownPathIs404JsonWrongMethodIs405) {
  start();
  run([&]() -> awaitable<void> {
    auto c = co_await connect();
    Response r = co_await c.get("/nope");
    EXPECT_EQ(r.result_int(), 404);
    EXPECT_EQ(body_json(r)["error"], "not found");
    co_await c.send("DELETE /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
    Response m = co_await c.response();
    EXPECT_EQ(m.result_int(), 405);
    Response again = co_await c.get("/healthzz");  // not a '/' boundary: no match
    EXPECT_EQ(again.result_int(), 404);
  });
}

TEST_F(HttpTest, RouterPicksLongestPrefixAndPassesRequest) {
  configure = [](HttpServer& h) {
    h.router().add("*", "/jmap", [](const HttpRequest& req) -> awaitable<HttpResponse> {
      nlohmann::json j{{"route", "jmap"},  {"method", req.method},
                       {"path", req.path}, {"query", req.query},
                       {"body", req.body}, {"ua", req.header("user-agent")}};
      co_return HttpResponse::json(200, j.dump());
    });
    h.router().add("GET", "/jmap/session", [](const HttpRequest&) -> awaitable<HttpResponse> {
      co_return HttpResponse::json(200, R"({"route":"session"})");
    });
  };
  start();
  run([&]() -> awaitable<void> {
    auto c = co_await connect();
    EXPECT_EQ(body_json(co_await c.get("/jmap/session"))["route"], "session");
    co_await c.send(
        "POST /jmap/api?x=1 HTTP/1.1\r\nHost: t\r\nUser-Agent: T/1\r\nContent-Length: 5\r\n\r\n"
        "hello");
    Response r = co_await c.response();
    auto j = body_json(r);
    EXPECT_EQ(j["route"], "jmap");
    EXPECT_EQ(j["method"], "POST");
    EXPECT_EQ(j["path"], "/jmap/api");
    EXPECT_EQ(j["query"], "x=1");
    EXPECT_EQ(j["body"], "hello");
    EXPECT_EQ(j["ua"], "T/1");
  });
}

TEST_F(HttpTest, PipelinedRequestsAnsweredInOrder) {
  start();
  run([&]() -> awaitable<void> {
    auto c = co_await connect();
    co_await c.send(
        "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\nGET /x HTTP/1.1\r\nHost: t\r\n\r\n"
        "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    EXPECT_EQ((co_await c.response()).result_int(), 200);
    EXPECT_EQ((co_await c.response()).result_int(), 404);
    Response last = co_await c.response();
    EXPECT_EQ(last.result_int(), 200);
    EXPECT_FALSE(last.keep_alive());
    EXPECT_TRUE(co_await c.closed_by_server());
  });
}

TEST_F(HttpTest, OversizedHeaderIs431AndConnectionClosed) {
  start({.header_max = 1024});
  run([&]() -> awaitable<void> {
    auto c = co_await connect();
    // Far more than one read: the server answers while request bytes are still unread, and
    // must drain them rather than reset the connection under the client's feet.
    co_await c.send("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(40000, 'a') +
                    "\r\n\r\n");
    Response r = co_await c.response();
    EXPECT_EQ(r.result_int(), 431);
    EXPECT_FALSE(r.keep_alive());
    EXPECT_TRUE(co_await c.closed_by_server());
  });
}

TEST_F(HttpTest, OversizedBodyIs413) {
  start({.body_max = 100});
  run([&]() -> awaitable<void> {
    auto c = co_await connect();
    co_await c.send("POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n");
    Response r = co_await c.response();  // refused from the header, before any body byte
    EXPECT_EQ(r.result_int(), 413);
    EXPECT_TRUE(co_await c.closed_by_server());
  });
}

TEST_F(HttpTest, GarbageIs400AndServerSurvives) {
  start();
  run([&]() -> awaitable<void> {
    const std::string garbage[] = {
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 tls hello\r\n\r\n",
        "HELLO WORLD\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nBad Header Line\r\n\r\n",
        std::string("GET /\0 HTTP/1.1\r\n\r\n", 19),
    };
    for (const std::string& g : garbage) {
      auto c = co_await connect();
      co_await c.send(g);
      Response r = co_await c.response();
      EXPECT_EQ(r.result_int(), 400) << g;
      EXPECT_TRUE(co_await c.closed_by_server()) << g;
    }
    auto c = co_await connect();
    EXPECT_EQ((co_await c.get("/healthz")).result_int(), 200);
  });
}

TEST_F(HttpTest, HandlerExceptionIs500WithIdServerSurvives) {
  configure = [](HttpServer& h) {
    h.router().add("GET", "/boom", [](const HttpRequest&) -> awaitable<HttpResponse> {
      throw std::runtime_error("secret internal detail");
      co_return HttpResponse{};
    });
  };
  start();
  run([&]() -> awaitable<void> {
    auto c = co_await connect();
    Response r = co_await c.get("/boom");
    EXPECT_EQ(r.result_int(), 500);
    EXPECT_EQ(r.body().find("secret"), std::string::npos);
    EXPECT_EQ(body_json(r)["id"].get<std::string>().size(), 16u);
    EXPECT_EQ((co_await c.get("/healthz")).result_int(), 200);
  });
}

TEST_F(HttpTest, SlowRequestIsDroppedAtTheRequestDeadline) {
  start({.request_timeout = 300ms, .idle_timeout = 5s});
  run([&]() -> awaitable<void> {
    auto c = co_await connect();
    auto begin = std::chrono::steady_clock::now();
    co_await c.send("GET /healthz HTTP/1.1\r\n");  // never finished
    EXPECT_TRUE(co_await c.closed_by_server());
    auto waited = std::chrono::steady_clock::now() - begin;
    EXPECT_GE(waited, 250ms);
    EXPECT_LT(waited, 3s);
  });
}

TEST_F(HttpTest, IdleKeepAliveConnectionIsClosed) {
  start({.idle_timeout = 200ms});
  run([&]() -> awaitable<void> {
    auto c = co_await connect();
    EXPECT_EQ((co_await c.get("/healthz")).result_int(), 200);
    EXPECT_TRUE(co_await c.closed_by_server());
  });
}

TEST_F(HttpTest, ExpectContinueGetsInterimResponse) {
  configure = [](HttpServer& h) {
    h.router().add("POST", "/echo", [](const HttpRequest& req) -> awaitable<HttpResponse> {
      co_return HttpResponse::json(200, nlohmann::json{{"n", req.body.size()}}.dump());
    });
  };
  start();
  run([&]() -> awaitable<void> {
    auto c = co_await connect();
    co_await c.send(
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    Response interim = co_await c.response();
    EXPECT_EQ(interim.result_int(), 100);
    co_await c.send("abc");
    Response r = co_await c.response();
    EXPECT_EQ(body_json(r)["n"], 3);
  });
}

TEST_F(HttpTest, RateLimitPerNetworkAnswers429WithRetryAfter) {
  HttpLimits limits;
  limits.rate_per_network = 1;
  limits.rate_burst = 3;
  start(limits);
  run([&]() -> awaitable<void> {
    auto c = co_await connect();
    for (int i = 0; i < 3; ++i) {
      Response ok = co_await c.get("/healthz");
      EXPECT_EQ(ok.result_int(), 200) << "request " << i << " is within the burst";
    }
    Response refused = co_await c.get("/healthz");
    EXPECT_EQ(refused.result_int(), 429);
    EXPECT_EQ(refused[http::field::retry_after], "1");
    EXPECT_TRUE(refused.keep_alive());  // refused, not dropped
  });
}

TEST_F(HttpTest, StreamedBodyIsSentAsWrittenThenTheConnectionCloses) {
  configure = [](HttpServer& h) {
    h.router().add("GET", "/stream", [](const HttpRequest&) -> awaitable<HttpResponse> {
      HttpResponse r;
      r.content_type = "text/event-stream";
      r.stream_body = [](BodyWriter& out) -> awaitable<void> {
        co_await out.write("data: one\n\n");
        co_await out.write("data: two\n\n");
      };
      co_return r;
    });
  };
  start();
  run([&]() -> awaitable<void> {
    auto c = co_await connect();
    co_await c.send("GET /stream HTTP/1.1\r\nHost: test\r\n\r\n");
    std::string all;
    std::array<char, 512> tmp;
    for (;;) {
      beast::error_code ec;
      std::size_t n = co_await c.sock.async_read_some(asio::buffer(tmp),
                                                      asio::redirect_error(use_awaitable, ec));
      all.append(tmp.data(), n);
      if (ec) break;
    }
    EXPECT_TRUE(all.starts_with("HTTP/1.1 200 OK\r\n")) << all;
    EXPECT_NE(all.find("Content-Type: text/event-stream\r\n"), std::string::npos) << all;
    EXPECT_EQ(all.find("Content-Length"), std::string::npos) << all;
    EXPECT_NE(all.find("Connection: close\r\n"), std::string::npos) << all;
    EXPECT_TRUE(all.ends_with("\r\n\r\ndata: one\n\ndata: two\n\n")) << all;
  });
}

TEST(NetworkRateLimiter, RefillsAtTheRateAndKeepsNetworksApart) {
  NetworkRateLimiter limiter(2, 2);
  auto t0 = NetworkRateLimiter::Clock::time_point{} + std::chrono::hours(1);
  std::chrono::seconds retry{0};
  EXPECT_TRUE(limiter.allow("a", t0));
  EXPECT_TRUE(limiter.allow("a", t0));
  EXPECT_FALSE(limiter.allow("a", t0, &retry));
  EXPECT_EQ(retry, 1s);
  EXPECT_TRUE(limiter.allow("b", t0)) << "another network has its own bucket";
  EXPECT_TRUE(limiter.allow("a", t0 + 500ms)) << "one token back after 1/rate seconds";
  EXPECT_FALSE(limiter.allow("a", t0 + 500ms));
  EXPECT_TRUE(limiter.allow("a", t0 + 10s));
  EXPECT_TRUE(limiter.allow("a", t0 + 10s));
  EXPECT_FALSE(limiter.allow("a", t0 + 10s)) << "never more than the burst";
}

TEST(HttpLimits, ComeFromTheConfigStruct) {
  Config cfg;
  cfg.http.header_max = 2048;
  cfg.http.body_max = 1000;
  cfg.jmap.max_size_upload = 5000;
  cfg.http.keepalive_timeout = 7s;
  cfg.http.request_timeout = 9s;
  cfg.http.rate_per_network = 11;
  cfg.limits.ipv4_network_prefix = 24;
  HttpLimits l = http_limits(cfg);
  EXPECT_EQ(l.header_max, 2048u);
  EXPECT_EQ(l.body_max, std::max<std::size_t>(5000, cfg.jmap.max_size_request))
      << "the largest route limit";
  EXPECT_EQ(l.idle_timeout, 7s);
  EXPECT_EQ(l.request_timeout, 9s);
  EXPECT_EQ(l.rate_per_network, 11u);
  EXPECT_EQ(l.ipv4_network_prefix, 24u);
}

}  // namespace
}  // namespace govmail::core
