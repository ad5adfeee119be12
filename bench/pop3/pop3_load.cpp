// bench_pop3_load: a POP3 download load generator for side-by-side runs (govmail, Dovecot). Each
// simulated client takes a user no other client holds, logs in (USER/PASS), asks STAT, RETRieves
// every message one after the other (each answer read to its terminating dot), and QUITs
// without DELE: a "leave mail on the server" download of the whole mailbox. Any -ERR, short
// mailbox or disconnect counts as an error. Prints messages/s, MB/s (message octets as LIST
// counts them) and latencies of LOGIN and RETR.
//   bench_pop3_load HOST PORT CLIENTS USERS PATTERN PASSWORD EXPECT_MESSAGES SECONDS
//   PATTERN: "user%d@bench.test" with %d in 1..USERS; each user is downloaded once.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

#include "core/asio.hpp"

namespace {

using govmail::awaitable;
using govmail::use_awaitable;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Params {
  std::string host;
  unsigned short port = 110;
  int clients = 100, users = 100;
  std::string pattern, password;
  long expect = 0;  // messages per mailbox
  double seconds = 120;
};

struct Stats {
  std::vector<double> login_ms, retr_ms;
  long messages = 0, errors = 0, mailboxes = 0;
  std::uint64_t octets = 0;
};

class Conn {
 public:
  explicit Conn(tcp::socket s) : sock_(std::move(s)) {}

  awaitable<std::string> line() {
    auto crlf = buf_.find("\r\n", pos_);
    while (crlf == std::string::npos) {
      co_await fill();
      crlf = buf_.find("\r\n", pos_);
    }
    std::string out = buf_.substr(pos_, crlf - pos_);
    pos_ = crlf + 2;
    co_return out;
  }
  // A status line that must be +OK.
  awaitable<std::string> command(std::string text) {
    co_await send(text);
    std::string l = co_await line();
    if (l.rfind("+OK", 0) != 0) throw std::runtime_error(text.substr(0, 4) + ": " + l);
    co_return l;
  }
  // A multi-line answer: its bytes up to the terminating ".\r\n" (skipped, not counted).
  awaitable<std::size_t> multiline(std::string text) {
    co_await command(std::move(text));
    std::size_t scanned = 0;  // bytes after pos_ already searched (fill() may move pos_)
    for (;;) {
      if (buf_.compare(pos_, 3, ".\r\n") == 0) {  // an empty body: the terminator at once
        pos_ += 3;
        co_return 0;
      }
      auto end = buf_.find("\r\n.\r\n", pos_ + scanned);
      if (end != std::string::npos) {
        const std::size_t n = end + 2 - pos_;
        pos_ = end + 5;
        co_return n;
      }
      const std::size_t have = buf_.size() - pos_;
      scanned = have > 4 ? have - 4 : 0;
      co_await fill();
    }
  }
  awaitable<void> send(const std::string& text) {
    std::string wire = text + "\r\n";
    co_await asio::async_write(sock_, asio::buffer(wire), use_awaitable);
  }
  tcp::socket& socket() { return sock_; }

 private:
  awaitable<void> fill() {
    if (pos_ > 0 && pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    } else if (pos_ > 65536) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    char tmp[65536];
    auto n = co_await sock_.async_read_some(asio::buffer(tmp), use_awaitable);
    buf_.append(tmp, n);
  }
  tcp::socket sock_;
  std::string buf_;
  std::size_t pos_ = 0;
};

struct Shared {
  const Params& p;
  Stats st;
  std::deque<int> users;
  Clock::time_point deadline;
};

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

awaitable<void> download(Shared& sh, int user) {
  auto ex = co_await asio::this_coro::executor;
  tcp::socket sock(ex);
  co_await sock.async_connect({asio::ip::make_address(sh.p.host), sh.p.port}, use_awaitable);
  sock.set_option(tcp::no_delay(true));
  Conn c(std::move(sock));
  co_await c.line();  // greeting
  char name[256];
  std::snprintf(name, sizeof name, sh.p.pattern.c_str(), user + 1);
  auto t0 = Clock::now();
  co_await c.command(std::string("USER ") + name);
  co_await c.command("PASS " + sh.p.password);
  sh.st.login_ms.push_back(ms_since(t0));
  const std::string stat = co_await c.command("STAT");
  long n = 0;
  unsigned long long octets = 0;
  if (std::sscanf(stat.c_str(), "+OK %ld %llu", &n, &octets) != 2 || n != sh.p.expect)
    throw std::runtime_error("STAT: " + stat);
  for (long i = 1; i <= n; ++i) {
    t0 = Clock::now();
    co_await c.multiline("RETR " + std::to_string(i));
    sh.st.retr_ms.push_back(ms_since(t0));
    ++sh.st.messages;
  }
  sh.st.octets += octets;
  co_await c.command("QUIT");
  ++sh.st.mailboxes;
}

awaitable<void> client(Shared& sh) {
  while (!sh.users.empty() && Clock::now() < sh.deadline) {
    const int user = sh.users.front();
    sh.users.pop_front();
    try {
      co_await download(sh, user);
    } catch (const std::exception& e) {
      if (++sh.st.errors <= 5) std::fprintf(stderr, "error: user %d: %s\n", user + 1, e.what());
    }
  }
}

double percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    std::fprintf(stderr,
                 "usage: %s HOST PORT CLIENTS USERS PATTERN PASSWORD EXPECT_MESSAGES SECONDS\n",
                 argv[0]);
    return 2;
  }
  Params p;
  p.host = argv[1];
  p.port = static_cast<unsigned short>(std::atoi(argv[2]));
  p.clients = std::atoi(argv[3]);
  p.users = std::atoi(argv[4]);
  p.pattern = argv[5];
  p.password = argv[6];
  p.expect = std::atol(argv[7]);
  p.seconds = std::atof(argv[8]);
  if (p.users < 1 || p.clients < 1) return 2;
  Shared sh{p, {}, {}, {}};
  sh.deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(p.seconds));
  for (int u = 0; u < p.users; ++u) sh.users.push_back(u);
  asio::io_context io(1);
  for (int i = 0; i < p.clients; ++i)
    asio::co_spawn(io, client(sh), [&](std::exception_ptr e) {
      if (e) ++sh.st.errors;
    });
  const auto t0 = Clock::now();
  io.run();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf(
      "TOTAL clients=%d mailboxes=%ld messages=%ld secs=%.2f messages_s=%.1f mb_s=%.2f "
      "login_p50_ms=%.2f retr_p50_ms=%.2f retr_p99_ms=%.2f errors=%ld\n",
      p.clients, sh.st.mailboxes, sh.st.messages, secs, sh.st.messages / secs,
      sh.st.octets / secs / 1e6, percentile(sh.st.login_ms, 0.5), percentile(sh.st.retr_ms, 0.5),
      percentile(sh.st.retr_ms, 0.99), sh.st.errors);
  return sh.st.errors ? 1 : 0;
}
