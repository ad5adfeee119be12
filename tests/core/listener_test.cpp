// Listener, Server and Stream over real loopback sockets (ephemeral ports).
#include "core/listener.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>

#include "core/asio.hpp"
#include "core/line_reader.hpp"
#include "core/stream.hpp"

#include <boost/asio/ssl.hpp>

namespace govmail::core {
namespace {

using namespace std::chrono_literals;
using tcp = asio::ip::tcp;
namespace ssl = asio::ssl;

// A throwaway self-signed P-256 certificate made in-process (no files, no openssl CLI).
std::shared_ptr<ssl::context> make_test_server_context() {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  SSL_CTX_use_certificate(ctx->native_handle(), cert);
  SSL_CTX_use_PrivateKey(ctx->native_handle(), key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return ctx;
}

// Line protocol used by the tests: echoes every line; "INFO" answers what the stream knows;
// "QUIT" ends; "THROW" throws; STARTTLS upgrades when the handler has a context; a read
// timeout is answered with "421 timeout" (the write side still works after it).
struct EchoHandler {
  std::shared_ptr<ssl::context> starttls;

  awaitable<void> operator()(Stream& s) const {
    LineReader reader(1000);
    std::array<char, 512> buf;
    for (;;) {
      for (auto e = reader.next(); e.kind != LineReader::Kind::need_more; e = reader.next()) {
        std::string line(e.text);
        if (line == "QUIT") co_return;
        if (line == "THROW") throw std::runtime_error("handler bug");
        if (line == "LOGIN") s.authenticated();
        if (line == "SHORT") s.set_read_timeout(std::chrono::milliseconds(200));
        if (line == "STARTTLS" && starttls) {
          co_await s.write("220 go ahead\r\n");
          IoResult r = co_await s.start_tls(*starttls, reader);
          if (!r) co_return;
          co_await s.write("discarded=" + std::to_string(r.bytes) + "\r\n");
          continue;
        }
        if (line == "INFO") {
          line = "tls=" + std::to_string(s.is_tls()) +
                 " loopback=" + std::to_string(s.is_loopback()) + " addr=" + s.remote_address();
        }
        co_await s.write(line + "\r\n");
      }
      IoResult r = co_await s.read_some(buf);
      if (r.ec == asio::error::timed_out) {
        co_await s.write("421 timeout\r\n");
        co_return;
      }
      if (!r) co_return;
      reader.feed(std::string_view(buf.data(), r.bytes));
    }
  }
};

// A test client over any async stream (tcp::socket or ssl::stream).
template <class S>
struct Client {
  S sock;
  std::string buf;

  awaitable<std::string> line() {
    ErrorCode ec;
    std::size_t n = co_await asio::async_read_until(sock, asio::dynamic_buffer(buf), "\r\n",
                                                    asio::redirect_error(use_awaitable, ec));
    if (ec) co_return "<" + ec.message() + ">";
    std::string out = buf.substr(0, n - 2);
    buf.erase(0, n);
    co_return out;
  }
  awaitable<void> send(std::string_view bytes) {
    co_await asio::async_write(sock, asio::buffer(bytes), use_awaitable);
  }
  // True when the server closed the connection (EOF or reset) with nothing more to read.
  awaitable<bool> closed_by_server() {
    std::array<char, 64> tmp;
    ErrorCode ec;
    std::size_t n =
        co_await sock.async_read_some(asio::buffer(tmp), asio::redirect_error(use_awaitable, ec));
    co_return n == 0 && ec;
  }
};

awaitable<Client<tcp::socket>> connect(std::uint16_t port) {
  tcp::socket sock(co_await asio::this_coro::executor);
  co_await sock.async_connect({asio::ip::make_address("127.0.0.1"), port}, use_awaitable);
  co_return Client<tcp::socket>{std::move(sock), {}};
}

awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(use_awaitable);
}

// Polls until pred() holds or the timeout passes; returns pred().
awaitable<bool> eventually(std::function<bool()> pred, std::chrono::milliseconds timeout = 2s) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred() && std::chrono::steady_clock::now() < end) co_await sleep_for(10ms);
  co_return pred();
}

class ListenerTest : public ::testing::Test {
 protected:
  // Runs the test body on the io_context (single thread) with a hard time limit.
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

  std::uint16_t add(Server& server, ServiceOptions svc) {
    if (svc.name.empty()) svc.name = "test";
    if (svc.listen.empty()) svc.listen = {"127.0.0.1:0"};
    std::string name = svc.name;
    auto r = server.add_service(std::move(svc));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
    return server.ports(name).at(0);
  }

  asio::io_context ioc;
};

TEST(ParseEndpoint, Table) {
  struct Case {
    const char* text;
    bool ok;
    const char* address;
    std::uint16_t port;
    bool v6;
  };
  const Case cases[] = {
      {"127.0.0.1:2525", true, "127.0.0.1", 2525, false},
      {"[::1]:2525", true, "::1", 2525, true},
      {"0.0.0.0:25", true, "0.0.0.0", 25, false},
      {"[::]:25", true, "::", 25, true},
      {"127.0.0.1:0", true, "127.0.0.1", 0, false},
      {"127.0.0.1:65535", true, "127.0.0.1", 65535, false},
      {"127.0.0.1:65536", false, "", 0, false},
      {"127.0.0.1", false, "", 0, false},
      {"127.0.0.1:", false, "", 0, false},
      {"127.0.0.1:25x", false, "", 0, false},
      {"::1:25", false, "", 0, false},  // v6 needs brackets
      {"[127.0.0.1]:25", false, "", 0, false},
      {"[::1]25", false, "", 0, false},
      {"[::1", false, "", 0, false},
      {"localhost:25", false, "", 0, false},  // addresses only
      {"", false, "", 0, false},
  };
  for (const Case& c : cases) {
    auto r = parse_endpoint(c.text);
    ASSERT_EQ(r.ok(), c.ok) << c.text;
    if (!c.ok) continue;
    EXPECT_EQ(r->address, c.address) << c.text;
    EXPECT_EQ(r->port, c.port) << c.text;
    EXPECT_EQ(r->v6, c.v6) << c.text;
  }
}

TEST_F(ListenerTest, AcceptsAndEchoesAndCountsConnections) {
  Server server(ioc.get_executor(), {});
  std::uint16_t port = add(server, {.handler = EchoHandler{}});
  server.start();
  run([&]() -> awaitable<void> {
    auto c = co_await connect(port);
    co_await c.send("hello\r\nINFO\r\n");
    EXPECT_EQ(co_await c.line(), "hello");
    EXPECT_EQ(co_await c.line(), "tls=0 loopback=1 addr=127.0.0.1");
    EXPECT_EQ(server.connection_count(), 1u);
    EXPECT_EQ(server.connection_count("127.0.0.1"), 1u);
    co_await c.send("QUIT\r\n");
    EXPECT_TRUE(co_await c.closed_by_server());
    EXPECT_TRUE(co_await eventually([&] { return server.connection_count() == 0; }));
    EXPECT_EQ(server.connection_count("127.0.0.1"), 0u);
  });
}

TEST_F(ListenerTest, PerIpLimitRefusesTheNextConnectionOthersStayServed) {
  Server server(ioc.get_executor(), {.max_connections = 100, .max_connections_per_ip = 2});
  std::uint16_t port =
      add(server, {.handler = EchoHandler{}, .on_reject = [](Stream& s) -> awaitable<void> {
                     co_await s.write("421 4.7.0 Too many connections\r\n");
                   }});
  server.start();
  run([&]() -> awaitable<void> {
    auto a = co_await connect(port);
    auto b = co_await connect(port);
    co_await a.send("a1\r\n");
    co_await b.send("b1\r\n");
    EXPECT_EQ(co_await a.line(), "a1");  // both admitted and served
    EXPECT_EQ(co_await b.line(), "b1");
    auto c = co_await connect(port);
    EXPECT_EQ(co_await c.line(), "421 4.7.0 Too many connections");
    EXPECT_TRUE(co_await c.closed_by_server());
    EXPECT_EQ(server.connection_count(), 2u);
    co_await a.send("a2\r\n");
    EXPECT_EQ(co_await a.line(), "a2");
    // A slot frees when a connection ends.
    co_await b.send("QUIT\r\n");
    EXPECT_TRUE(co_await b.closed_by_server());
    EXPECT_TRUE(co_await eventually([&] { return server.connection_count() == 1; }));
    auto d = co_await connect(port);
    co_await d.send("d1\r\n");
    EXPECT_EQ(co_await d.line(), "d1");
  });
}

TEST_F(ListenerTest, PreauthLimitPerNetworkFreesAtLogin) {
  Server server(ioc.get_executor(), {.max_connections = 100,
                                     .max_connections_per_ip = 10,
                                     .ipv4_network_prefix = 8,
                                     .max_preauth_connections_per_network = 2});
  std::uint16_t limited =
      add(server, {.name = "imap",
                   .handler = EchoHandler{},
                   .on_reject = [](Stream& s) -> awaitable<void> { co_await s.write("BYE\r\n"); },
                   .preauth_limited = true});
  std::uint16_t mx = add(server, {.name = "mx", .handler = EchoHandler{}});
  server.start();
  run([&]() -> awaitable<void> {
    auto a = co_await connect(limited);
    auto b = co_await connect(limited);
    co_await a.send("a1\r\n");
    co_await b.send("b1\r\n");
    EXPECT_EQ(co_await a.line(), "a1");
    EXPECT_EQ(co_await b.line(), "b1");
    EXPECT_EQ(server.preauth_count("127.0.0.1"), 2u);
    EXPECT_EQ(server.preauth_count("127.9.9.9"), 2u);  // same /8
    auto c = co_await connect(limited);
    EXPECT_EQ(co_await c.line(), "BYE");
    // A service that never logs in is not counted against it.
    auto m = co_await connect(mx);
    co_await m.send("m1\r\n");
    EXPECT_EQ(co_await m.line(), "m1");
    // A login gives the slot back (twice counts once).
    co_await a.send("LOGIN\r\nLOGIN\r\n");
    EXPECT_EQ(co_await a.line(), "LOGIN");
    EXPECT_EQ(co_await a.line(), "LOGIN");
    EXPECT_EQ(server.preauth_count("127.0.0.1"), 1u);
    auto d = co_await connect(limited);
    co_await d.send("d1\r\n");
    EXPECT_EQ(co_await d.line(), "d1");
    co_await d.send("QUIT\r\n");
    EXPECT_TRUE(co_await d.closed_by_server());
    EXPECT_TRUE(co_await eventually([&] { return server.preauth_count("127.0.0.1") == 1; }));
    EXPECT_EQ(server.connection_count("127.0.0.1"), 3u);  // a, b, m: by network
  });
}

TEST_F(ListenerTest, TotalLimitIsSharedAcrossServices) {
  Server server(ioc.get_executor(), {.max_connections = 1, .max_connections_per_ip = 10});
  std::uint16_t p1 = add(server, {.name = "one", .handler = EchoHandler{}});
  std::uint16_t p2 =
      add(server,
          {.name = "two", .handler = EchoHandler{}, .on_reject = [](Stream& s) -> awaitable<void> {
             co_await s.write("BUSY\r\n");
           }});
  server.start();
  run([&]() -> awaitable<void> {
    auto a = co_await connect(p1);
    co_await a.send("x\r\n");
    EXPECT_EQ(co_await a.line(), "x");
    auto b = co_await connect(p2);
    EXPECT_EQ(co_await b.line(), "BUSY");
  });
}

TEST_F(ListenerTest, ImplicitTlsHandshakesBeforeTheHandler) {
  Server server(ioc.get_executor(), {});
  std::uint16_t port = add(server, {.tls = TlsMode::implicit,
                                    .tls_context = make_test_server_context(),
                                    .handler = EchoHandler{}});
  server.start();
  ssl::context client_ctx(ssl::context::tls_client);
  client_ctx.set_verify_mode(ssl::verify_none);
  run([&]() -> awaitable<void> {
    auto plain = co_await connect(port);
    Client<ssl::stream<tcp::socket>> c{ssl::stream<tcp::socket>(std::move(plain.sock), client_ctx),
                                       {}};
    co_await c.sock.async_handshake(ssl::stream_base::client, use_awaitable);
    co_await c.send("INFO\r\n");
    EXPECT_EQ(co_await c.line(), "tls=1 loopback=1 addr=127.0.0.1");
  });
}

TEST_F(ListenerTest, ImplicitTlsRejectsPlaintextClient) {
  Server server(ioc.get_executor(), {});
  std::uint16_t port = add(server, {.tls = TlsMode::implicit,
                                    .tls_context = make_test_server_context(),
                                    .handler = EchoHandler{}});
  server.start();
  run([&]() -> awaitable<void> {
    auto c = co_await connect(port);
    co_await c.send("INFO\r\n");  // not a ClientHello: the handler must never see it
    EXPECT_TRUE(co_await c.closed_by_server());
    EXPECT_TRUE(co_await eventually([&] { return server.connection_count() == 0; }));
  });
}

TEST_F(ListenerTest, StartTlsDiscardsPipelinedPlaintext) {
  auto server_ctx = make_test_server_context();
  Server server(ioc.get_executor(), {});
  std::uint16_t port = add(server, {.handler = EchoHandler{server_ctx}});
  server.start();
  ssl::context client_ctx(ssl::context::tls_client);
  client_ctx.set_verify_mode(ssl::verify_none);
  run([&]() -> awaitable<void> {
    auto plain = co_await connect(port);
    co_await plain.send("before\r\n");
    EXPECT_EQ(co_await plain.line(), "before");
    // CVE-2011-0411: "INJECTED" arrives in plaintext after STARTTLS, in the same packet.
    co_await plain.send("STARTTLS\r\nINJECTED\r\n");
    EXPECT_EQ(co_await plain.line(), "220 go ahead");
    EXPECT_TRUE(plain.buf.empty());
    Client<ssl::stream<tcp::socket>> c{ssl::stream<tcp::socket>(std::move(plain.sock), client_ctx),
                                       {}};
    co_await c.sock.async_handshake(ssl::stream_base::client, use_awaitable);
    EXPECT_EQ(co_await c.line(), "discarded=10");
    co_await c.send("INFO\r\n");
    // Had the injected line been kept, "INJECTED" would come back first.
    EXPECT_EQ(co_await c.line(), "tls=1 loopback=1 addr=127.0.0.1");
  });
}

TEST_F(ListenerTest, ReadDeadlineEndsAnIdleClient) {
  Server server(ioc.get_executor(), {});
  std::uint16_t port = add(server, {.handler = EchoHandler{}, .read_timeout = 200ms});
  server.start();
  run([&]() -> awaitable<void> {
    auto c = co_await connect(port);
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(co_await c.line(), "421 timeout");  // written after the read deadline
    EXPECT_TRUE(co_await c.closed_by_server());
    auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_GE(waited, 150ms);
    EXPECT_LT(waited, 3s);
    EXPECT_TRUE(co_await eventually([&] { return server.connection_count() == 0; }));
  });
}

TEST_F(ListenerTest, ReadDeadlineIsPerOperation) {
  Server server(ioc.get_executor(), {});
  std::uint16_t port = add(server, {.handler = EchoHandler{}, .read_timeout = 300ms});
  server.start();
  run([&]() -> awaitable<void> {
    auto c = co_await connect(port);
    for (int i = 0; i < 4; ++i) {  // 4 x 150 ms: longer than one deadline, each read in time
      co_await sleep_for(150ms);
      co_await c.send("ping\r\n");
      EXPECT_EQ(co_await c.line(), "ping");
    }
  });
}

// The read timer is armed lazily, for a long deadline here: a shorter one that follows (an IMAP
// session going from idle to mid-command) must not wait for it.
TEST_F(ListenerTest, AShorterReadDeadlineIsNotHeldBackByALongerOne) {
  Server server(ioc.get_executor(), {});
  std::uint16_t port = add(server, {.handler = EchoHandler{}, .read_timeout = 20s});
  server.start();
  run([&]() -> awaitable<void> {
    auto c = co_await connect(port);
    co_await c.send("ping\r\n");
    EXPECT_EQ(co_await c.line(), "ping");
    co_await c.send("SHORT\r\n");
    EXPECT_EQ(co_await c.line(), "SHORT");
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(co_await c.line(), "421 timeout");
    auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_GE(waited, 150ms);
    EXPECT_LT(waited, 5s);
  });
}

TEST_F(ListenerTest, StopClosesConnectionsAndStopsAccepting) {
  Server server(ioc.get_executor(), {});
  std::uint16_t port = add(server, {.handler = EchoHandler{}});
  server.start();
  run([&]() -> awaitable<void> {
    auto a = co_await connect(port);
    auto b = co_await connect(port);
    co_await a.send("a\r\n");
    EXPECT_EQ(co_await a.line(), "a");
    EXPECT_TRUE(co_await eventually([&] { return server.connection_count() == 2; }));
    server.stop();
    EXPECT_TRUE(co_await a.closed_by_server());
    EXPECT_TRUE(co_await b.closed_by_server());
    EXPECT_TRUE(co_await eventually([&] { return server.connection_count() == 0; }));
    co_await sleep_for(20ms);  // the acceptor closes on its strand
    tcp::socket late(co_await asio::this_coro::executor);
    ErrorCode ec;
    co_await late.async_connect({asio::ip::make_address("127.0.0.1"), port},
                                asio::redirect_error(use_awaitable, ec));
    EXPECT_EQ(ec, asio::error::connection_refused);
  });
}

TEST_F(ListenerTest, GracefulShutdownLetsConnectionsFinish) {
  Server server(ioc.get_executor(), {});
  std::uint16_t port = add(server, {.handler = EchoHandler{}});
  server.start();
  run([&]() -> awaitable<void> {
    auto a = co_await connect(port);
    co_await a.send("a\r\n");
    EXPECT_EQ(co_await a.line(), "a");
    bool finished = false;
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> awaitable<void> {
          co_await server.shutdown(5s);
          finished = true;
        },
        asio::detached);
    co_await sleep_for(100ms);
    EXPECT_FALSE(finished);  // still waiting for the open connection
    co_await a.send("still here\r\nQUIT\r\n");
    EXPECT_EQ(co_await a.line(), "still here");
    EXPECT_TRUE(co_await eventually([&] { return finished; }));
  });
}

// Says goodbye when reads are interrupted by shutdown(), as SMTP does with 421.
awaitable<void> goodbye_handler(Stream& s) {
  std::array<char, 64> buf;
  for (;;) {
    IoResult r = co_await s.read_some(buf);
    if (r.ec == asio::error::shut_down) {
      co_await s.write("421 shutting down\r\n");
      co_return;
    }
    if (!r) co_return;
    co_await s.write(std::string(buf.data(), r.bytes));
  }
}

TEST_F(ListenerTest, ShutdownInterruptsReadsOnlyOfServicesThatAskForIt) {
  Server server(ioc.get_executor(), {});
  std::uint16_t polite = add(
      server, {.name = "polite", .handler = goodbye_handler, .interrupt_reads_on_shutdown = true});
  std::uint16_t plain = add(server, {.name = "plain", .handler = EchoHandler{}});
  server.start();
  run([&]() -> awaitable<void> {
    auto a = co_await connect(polite);
    auto b = co_await connect(plain);
    co_await a.send("x\r\n");
    EXPECT_EQ(co_await a.line(), "x");
    bool finished = false;
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> awaitable<void> {
          co_await server.shutdown(5s);
          finished = true;
        },
        asio::detached);
    EXPECT_EQ(co_await a.line(), "421 shutting down");  // the write side still works
    EXPECT_TRUE(co_await a.closed_by_server());
    co_await sleep_for(100ms);
    EXPECT_FALSE(finished);  // the plain service's connection is left to finish
    co_await b.send("still here\r\nQUIT\r\n");
    EXPECT_EQ(co_await b.line(), "still here");
    EXPECT_TRUE(co_await eventually([&] { return finished; }));
  });
}

// The server side of the connection whose peer is `client`: found among this process's fds.
int server_fd_of(tcp::socket& client) {
  const auto local = client.local_endpoint();
  for (int fd = 3; fd < 1024; ++fd) {
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;
    if (peer.sin_family == AF_INET && ntohs(peer.sin_port) == local.port() &&
        fd != client.native_handle())
      return fd;
  }
  return -1;
}

TEST_F(ListenerTest, AcceptedSocketsHaveNagleOff) {
  Server server(ioc.get_executor(), {});
  std::uint16_t port = add(server, {.handler = EchoHandler{}});
  server.start();
  run([&]() -> awaitable<void> {
    auto a = co_await connect(port);
    co_await a.send("x\r\n");
    EXPECT_EQ(co_await a.line(), "x");  // accepted and served
    const int fd = server_fd_of(a.sock);
    EXPECT_GE(fd, 0);
    int on = 0;
    socklen_t len = sizeof on;
    EXPECT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len), 0);
    EXPECT_NE(on, 0);
  });
}

TEST_F(ListenerTest, HandlerExceptionIsContainedServerKeepsRunning) {
  Server server(ioc.get_executor(), {});
  std::uint16_t port = add(server, {.handler = EchoHandler{}});
  server.start();
  run([&]() -> awaitable<void> {
    auto a = co_await connect(port);
    co_await a.send("THROW\r\n");
    EXPECT_TRUE(co_await a.closed_by_server());
    EXPECT_TRUE(co_await eventually([&] { return server.connection_count() == 0; }));
    auto b = co_await connect(port);
    co_await b.send("ok\r\n");
    EXPECT_EQ(co_await b.line(), "ok");
  });
}

TEST_F(ListenerTest, V6SocketsAreV6OnlySoBothWildcardsBind) {
  Server server(ioc.get_executor(), {});
  std::uint16_t port = add(server, {.name = "v6", .listen = {"[::]:0"}, .handler = EchoHandler{}});
  // Without IPV6_V6ONLY the v6 wildcard also holds the v4 port and this bind fails.
  auto r = server.add_service(
      {.name = "v4", .listen = {"0.0.0.0:" + std::to_string(port)}, .handler = EchoHandler{}});
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
  server.start();
  run([&]() -> awaitable<void> {
    tcp::socket s6(co_await asio::this_coro::executor);
    co_await s6.async_connect({asio::ip::make_address("::1"), port}, use_awaitable);
    Client<tcp::socket> c{std::move(s6), {}};
    co_await c.send("INFO\r\n");
    EXPECT_EQ(co_await c.line(), "tls=0 loopback=1 addr=::1");
    auto c4 = co_await connect(port);
    co_await c4.send("INFO\r\n");
    EXPECT_EQ(co_await c4.line(), "tls=0 loopback=1 addr=127.0.0.1");
  });
}

TEST_F(ListenerTest, PortInUseIsReportedWithServiceAndEndpoint) {
  Server server(ioc.get_executor(), {});
  std::uint16_t port = add(server, {.name = "smtp", .handler = EchoHandler{}});
  tcp::acceptor other(ioc);
  Server second(ioc.get_executor(), {});
  std::string where = "127.0.0.1:" + std::to_string(port);
  auto r = second.add_service({.name = "imap", .listen = {where}, .handler = EchoHandler{}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("imap " + where), std::string::npos) << r.error();
  auto bad = second.add_service({.name = "x", .listen = {"nonsense"}, .handler = EchoHandler{}});
  ASSERT_FALSE(bad.ok());
}

}  // namespace
}  // namespace govmail::core
