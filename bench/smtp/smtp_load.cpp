// bench_smtp_load: an SMTP load generator for side-by-side runs (govmail, Postfix). N clients,
// each a connection sending transactions back to back (MAIL+RCPTs+DATA pipelined, then the
// body); counts 250s and the latency from MAIL to the final reply. Prints one summary line.
//   bench_smtp_load HOST PORT CLIENTS MESSAGES SIZE_BYTES RCPTS_PER_MSG PATTERN USERS
//   PATTERN: "user%d@bench.test" with %d in 1..USERS (recipients rotate over the users)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
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
  unsigned short port = 25;
  int clients = 10;
  int messages = 1000;
  std::size_t size = 4096;
  int rcpts = 1;
  std::string pattern;
  int users = 1;
};

struct Stats {
  std::atomic<int> next{0};
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::vector<std::vector<double>> latencies;  // per client, ms
};

std::string make_body(std::size_t size, int n) {
  std::string b = "From: bench@load.test\r\nTo: undisclosed-recipients:;\r\nSubject: bench " +
                  std::to_string(n) + "\r\nMessage-ID: <bench." + std::to_string(n) +
                  "@load.test>\r\n\r\n";
  std::string line(76, 'x');
  while (b.size() + 78 < size) b += line + "\r\n";
  return b + ".\r\n";
}

std::string rcpt(const Params& p, int i) {
  char buf[256];
  std::snprintf(buf, sizeof buf, p.pattern.c_str(), i % p.users + 1);
  return buf;
}

class Conn {
 public:
  explicit Conn(tcp::socket s) : sock_(std::move(s)) {}
  // One reply (multi-line joined); returns its code.
  awaitable<int> reply() {
    for (;;) {
      auto crlf = buf_.find("\r\n");
      if (crlf == std::string::npos) {
        char tmp[16384];
        auto n = co_await sock_.async_read_some(asio::buffer(tmp), use_awaitable);
        buf_.append(tmp, n);
        continue;
      }
      std::string line = buf_.substr(0, crlf);
      buf_.erase(0, crlf + 2);
      if (line.size() >= 4 && line[3] == '-') continue;
      co_return std::atoi(line.substr(0, 3).c_str());
    }
  }
  awaitable<void> send(const std::string& s) {
    co_await asio::async_write(sock_, asio::buffer(s), use_awaitable);
  }

 private:
  tcp::socket sock_;
  std::string buf_;
};

awaitable<void> client(const Params& p, Stats& st, int id, std::string body_template) {
  auto ex = co_await asio::this_coro::executor;
  tcp::socket sock(ex);
  co_await sock.async_connect({asio::ip::make_address(p.host), p.port}, use_awaitable);
  sock.set_option(tcp::no_delay(true));
  Conn c(std::move(sock));
  co_await c.reply();
  co_await c.send("EHLO load" + std::to_string(id) + ".test\r\n");
  co_await c.reply();
  for (;;) {
    int n = st.next.fetch_add(1);
    if (n >= p.messages) break;
    auto t0 = Clock::now();
    std::string env = "MAIL FROM:<bench@load.test>\r\n";
    for (int r = 0; r < p.rcpts; ++r) env += "RCPT TO:<" + rcpt(p, n * p.rcpts + r) + ">\r\n";
    env += "DATA\r\n";
    co_await c.send(env);
    bool good = co_await c.reply() == 250;
    int accepted = 0;
    for (int r = 0; r < p.rcpts; ++r) accepted += co_await c.reply() == 250;
    if (co_await c.reply() != 354) {
      ++st.failed;
      co_await c.send("RSET\r\n");
      co_await c.reply();
      continue;
    }
    // Every message differs (Subject, Message-ID): real mail does, and a content-addressed store
    // would otherwise share one blob row between all of them.
    co_await c.send(make_body(body_template.size(), n));
    good = good && accepted == p.rcpts && co_await c.reply() == 250;
    (good ? st.ok : st.failed)++;
    st.latencies[id].push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  co_await c.send("QUIT\r\n");
  co_await c.reply();
}

double percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    std::fprintf(stderr, "usage: %s HOST PORT CLIENTS MESSAGES SIZE RCPTS_PER_MSG PATTERN USERS\n",
                 argv[0]);
    return 2;
  }
  Params p{argv[1],
           static_cast<unsigned short>(std::atoi(argv[2])),
           std::atoi(argv[3]),
           std::atoi(argv[4]),
           static_cast<std::size_t>(std::atoll(argv[5])),
           std::atoi(argv[6]),
           argv[7],
           std::atoi(argv[8])};
  Stats st;
  st.latencies.resize(p.clients);
  asio::io_context io(1);
  std::string body = make_body(p.size, 0);
  std::atomic<int> errors{0};
  for (int i = 0; i < p.clients; ++i)
    asio::co_spawn(io, client(p, st, i, body), [&](std::exception_ptr e) {
      if (e) ++errors;
    });
  auto t0 = Clock::now();
  io.run();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<double> all;
  for (auto& v : st.latencies) all.insert(all.end(), v.begin(), v.end());
  std::printf(
      "clients=%d size=%zu rcpts=%d messages=%d ok=%d failed=%d conn_errors=%d secs=%.2f "
      "rate=%.1f p50_ms=%.1f p99_ms=%.1f\n",
      p.clients, p.size, p.rcpts, p.messages, st.ok.load(), st.failed.load(), errors.load(), secs,
      st.ok.load() / secs, percentile(all, 0.5), percentile(all, 0.99));
  return st.failed.load() || errors.load() ? 1 : 0;
}
