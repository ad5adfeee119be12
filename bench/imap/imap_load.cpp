// bench_imap_load: an IMAP load generator for side-by-side runs (govmail, Dovecot), with the mix of
// Dovecot's imaptest: each simulated client runs cycles of LOGIN, SELECT INBOX, FETCH 1:*
// (ENVELOPE FLAGS), FETCH of whole bodies (BODY.PEEK[]), STORE flags, APPEND (a message of the
// mbox), EXPUNGE, LOGOUT, each cycle on a user no other client holds at that moment. Any NO, BAD
// or disconnect counts as an error (the cycle is abandoned). Prints one line per command (ops/s,
// p50, p99) and a TOTAL line.
//   bench_imap_load run   HOST PORT CLIENTS USERS PATTERN PASSWORD MBOX CYCLES SECONDS
//   bench_imap_load mix   HOST PORT CLIENTS USERS PATTERN PASSWORD MBOX CYCLES SECONDS
//   bench_imap_load setup HOST PORT CLIENTS USERS PATTERN PASSWORD MBOX PER_USER
//   mix is the shape of imaptest's default profile on big mailboxes, as clients produce it:
//   LOGIN, LIST (50%), STATUS (50%), SELECT, FETCH 1:* of flags, envelope, bodystructure and
//   header fields, a second FETCH of a whole body and of parts, STORE (50%), one message marked
//   \Deleted, EXPUNGE, APPEND of the next mbox message, LOGOUT; every FETCH is checked against
//   the client's expected message count, and the rate is printed every 5 s ("RATE" lines) so
//   that a decline over the run shows.
//   setup empties every user's INBOX and appends PER_USER messages of the mbox to it.
//   page is a webmail's first page as an IMAP client loads it (the reference of bench/jmap):
//   each client logs in once (client i as user i % USERS, several clients may share a user),
//   then repeats PAGE = SELECT INBOX + UID SEARCH ALL + UID FETCH of the last 50 UIDs (ENVELOPE
//   FLAGS RFC822.SIZE), and OPEN = UID FETCH of one of those 50 (BODY.PEEK[]).
//   PATTERN: "user%d@bench.test" with %d in 1..USERS.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
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
  std::string mode, host;
  unsigned short port = 143;
  int clients = 10, users = 100;
  std::string pattern, password;
  std::vector<std::string> messages;
  long cycles = 0;      // run: total cycles; setup: messages per user
  double seconds = 60;  // run: wall-clock bound
};

struct Stats {
  std::map<std::string, std::vector<double>> latency_ms;  // per command
  long errors = 0, cycles = 0;
  std::map<std::string, long> error_by_command;
};

// mboxrd -> messages with CRLF line ends.
std::vector<std::string> read_mbox(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<std::string> out;
  std::string line, cur;
  bool any = false;
  while (std::getline(in, line)) {
    if (line.rfind("From ", 0) == 0) {
      if (any) out.push_back(std::move(cur));
      cur.clear();
      any = true;
      continue;
    }
    std::size_t q = 0;
    while (q < line.size() && line[q] == '>') ++q;
    if (q > 0 && line.compare(q, 5, "From ") == 0) line.erase(0, 1);
    cur += line;
    cur += "\r\n";
  }
  if (any) out.push_back(std::move(cur));
  // The writer ends every message with a blank separator line: not part of the message.
  for (auto& m : out)
    if (m.size() >= 4 && m.compare(m.size() - 4, 4, "\r\n\r\n") == 0) m.resize(m.size() - 2);
  return out;
}

class ImapError : public std::runtime_error {
 public:
  ImapError(const std::string& cmd, const std::string& what)
      : std::runtime_error(cmd + ": " + what), command(cmd) {}
  std::string command;
};

class Conn {
 public:
  explicit Conn(tcp::socket s) : sock_(std::move(s)) {}

  // One response line, with any literals it carries appended (their bytes skipped).
  awaitable<std::string> line() {
    std::string out;
    for (;;) {
      auto crlf = buf_.find("\r\n", pos_);
      while (crlf == std::string::npos) {
        co_await fill();
        crlf = buf_.find("\r\n", pos_);
      }
      out.append(buf_, pos_, crlf - pos_);
      pos_ = crlf + 2;
      std::size_t literal = 0;
      if (!out.empty() && out.back() == '}') {
        auto open = out.rfind('{');
        if (open != std::string::npos) literal = std::strtoul(out.c_str() + open + 1, nullptr, 10);
      }
      if (literal == 0) co_return out;
      while (buf_.size() - pos_ < literal) co_await fill();
      body_bytes += literal;
      pos_ += literal;
    }
  }
  // Sends a command and reads to its tagged reply; untagged lines go to `untagged`.
  // By value: the coroutine starts later, after a caller's temporaries are gone.
  awaitable<void> command(std::string name, std::string text,
                          std::vector<std::string>* untagged = nullptr) {
    std::string tag = "a" + std::to_string(++tag_);
    std::string wire = tag + " " + text + "\r\n";
    co_await asio::async_write(sock_, asio::buffer(wire), use_awaitable);
    co_await tagged(name, tag, untagged);
  }
  awaitable<void> tagged(std::string name, std::string tag, std::vector<std::string>* untagged) {
    for (;;) {
      std::string l = co_await line();
      if (l.rfind("* BYE", 0) == 0 && name != "LOGOUT") throw ImapError(name, "BYE " + l);
      if (l.size() > tag.size() && l.compare(0, tag.size() + 1, tag + " ") == 0) {
        if (l.compare(tag.size() + 1, 3, "OK ") != 0) throw ImapError(name, l);
        co_return;
      }
      if (untagged) untagged->push_back(std::move(l));
    }
  }
  awaitable<void> append(const std::string& message) {
    std::string tag = "a" + std::to_string(++tag_);
    std::string wire = tag + " APPEND INBOX (\\Seen) {" + std::to_string(message.size()) + "+}\r\n";
    std::array<asio::const_buffer, 3> bufs{asio::buffer(wire), asio::buffer(message),
                                           asio::buffer("\r\n", 2)};
    co_await asio::async_write(sock_, bufs, use_awaitable);
    co_await tagged("APPEND", tag, nullptr);
  }
  tcp::socket& socket() { return sock_; }
  std::size_t body_bytes = 0;

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
  unsigned tag_ = 0;
};

std::string user_name(const Params& p, int u) {
  char buf[256];
  std::snprintf(buf, sizeof buf, p.pattern.c_str(), u + 1);
  return buf;
}

std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}

long exists_of(const std::vector<std::string>& lines) {
  long n = -1;
  for (const auto& l : lines)
    if (l.size() > 9 && l.compare(l.size() - 7, 7, " EXISTS") == 0)
      n = std::strtol(l.c_str() + 2, nullptr, 10);
  return n;
}

struct Shared {
  explicit Shared(const Params& params) : p(params) {}
  const Params& p;
  Stats st;
  std::deque<int> free_users;
  long next_cycle = 0;
  long next_message = 0;
  Clock::time_point deadline;
  std::mt19937 rng{12345};
};

// Times one awaited step into st.latency_ms[name].
template <typename F>
awaitable<void> timed(Shared& sh, const std::string& name, F&& step) {
  auto t0 = Clock::now();
  co_await step();
  sh.st.latency_ms[name].push_back(
      std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
}

awaitable<std::unique_ptr<Conn>> connect(Shared& sh, int user) {
  auto ex = co_await asio::this_coro::executor;
  tcp::socket sock(ex);
  co_await sock.async_connect({asio::ip::make_address(sh.p.host), sh.p.port}, use_awaitable);
  sock.set_option(tcp::no_delay(true));
  auto c = std::make_unique<Conn>(std::move(sock));
  co_await c->line();  // greeting
  std::string login = "LOGIN " + quoted(user_name(sh.p, user)) + " " + quoted(sh.p.password);
  co_await timed(sh, "LOGIN", [&]() { return c->command("LOGIN", login); });
  co_return c;
}

awaitable<void> logout(Shared& sh, Conn& c) {
  co_await timed(sh, "LOGOUT", [&]() { return c.command("LOGOUT", "LOGOUT"); });
  boost::system::error_code ec;
  c.socket().shutdown(tcp::socket::shutdown_both, ec);
}

// Messages answered by untagged "* n FETCH" responses among `lines` (a server may answer one
// message in several responses).
long fetches_of(const std::vector<std::string>& lines) {
  std::vector<long> seqs;
  for (const auto& l : lines)
    if (l.size() > 8 && l.rfind("* ", 0) == 0 && l.find(" FETCH (") != std::string::npos)
      seqs.push_back(std::strtol(l.c_str() + 2, nullptr, 10));
  std::sort(seqs.begin(), seqs.end());
  return static_cast<long>(std::unique(seqs.begin(), seqs.end()) - seqs.begin());
}

// The first message numbers of 1..exists that no response answered, with the line before the
// first gap (cut short): what a report of a missing answer needs to be looked into.
std::string missing_fetches(const std::vector<std::string>& lines, long exists) {
  std::vector<bool> seen(static_cast<std::size_t>(std::max(exists, 0L)) + 1);
  std::string before_gap;
  long previous = 0;
  const std::string* previous_line = nullptr;
  for (const auto& l : lines) {
    if (l.size() <= 8 || l.rfind("* ", 0) != 0 || l.find(" FETCH (") == std::string::npos) continue;
    long n = std::strtol(l.c_str() + 2, nullptr, 10);
    if (n >= 1 && n <= exists) seen[n] = true;
    if (before_gap.empty() && previous_line && n > previous + 1) {
      const auto& p = *previous_line;
      before_gap =
          p.substr(0, 200) + " ... " + p.substr(p.size() - std::min<std::size_t>(p.size(), 200));
    }
    previous = n;
    previous_line = &l;
  }
  std::string out = " (missing:";
  int shown = 0;
  for (long n = 1; n <= exists && shown < 10; ++n)
    if (!seen[n]) out += " " + std::to_string(n), ++shown;
  return out + "; line before the first gap: " + before_gap + ")";
}

void expect(bool ok, const char* command, const std::string& what) {
  if (!ok) throw ImapError(command, what);
}

// The imaptest default profile's shape on one user (mode "mix").
awaitable<void> mix_cycle(Shared& sh, int user) {
  auto c = co_await connect(sh, user);
  std::uniform_int_distribution<int> coin(0, 1);
  std::vector<std::string> untagged;
  if (coin(sh.rng))
    co_await timed(sh, "LIST", [&]() { return c->command("LIST", "LIST \"\" \"*\""); });
  if (coin(sh.rng))
    co_await timed(sh, "STATUS", [&]() {
      return c->command("STATUS", "STATUS INBOX (MESSAGES UNSEEN UIDNEXT)");
    });
  co_await timed(sh, "SELECT", [&]() { return c->command("SELECT", "SELECT INBOX", &untagged); });
  long exists = exists_of(untagged);
  expect(exists >= 0, "SELECT", "no EXISTS");
  if (exists > 0) {
    untagged.clear();
    co_await timed(sh, "FETCH_HDR", [&]() {
      return c->command("FETCH_HDR",
                        "FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS "
                        "(From To Cc Subject Date Message-ID In-Reply-To References)])",
                        &untagged);
    });
    expect(fetches_of(untagged) == exists, "FETCH_HDR",
           "expected " + std::to_string(exists) + " FETCH responses, got " +
               std::to_string(fetches_of(untagged)) + missing_fetches(untagged, exists));
    std::uniform_int_distribution<long> pick(1, exists);
    std::string one = std::to_string(pick(sh.rng)), two = std::to_string(pick(sh.rng));
    co_await timed(sh, "FETCH_BODY",
                   [&]() { return c->command("FETCH_BODY", "FETCH " + one + " (BODY.PEEK[])"); });
    co_await timed(sh, "FETCH_PART", [&]() {
      return c->command("FETCH_PART", "FETCH " + two + " (BODY.PEEK[1] BODY.PEEK[1.MIME])");
    });
    if (coin(sh.rng)) {
      std::string flag = "STORE " + one + " " + (coin(sh.rng) ? "+" : "-") + "FLAGS (\\Seen)";
      co_await timed(sh, "STORE", [&]() { return c->command("STORE", flag); });
    }
    // One message out and one in per cycle: the mailbox keeps its size.
    std::string del = "STORE " + std::to_string(pick(sh.rng)) + " +FLAGS.SILENT (\\Deleted)";
    co_await timed(sh, "STORE", [&]() { return c->command("STORE", del); });
    co_await timed(sh, "EXPUNGE", [&]() { return c->command("EXPUNGE", "EXPUNGE"); });
  }
  const auto& msg = sh.p.messages[sh.next_message++ % sh.p.messages.size()];
  co_await timed(sh, "APPEND", [&]() { return c->append(msg); });
  co_await logout(sh, *c);
}

// The imaptest-like cycle on one user.
awaitable<void> cycle(Shared& sh, int user) {
  auto c = co_await connect(sh, user);
  std::vector<std::string> untagged;
  co_await timed(sh, "SELECT", [&]() { return c->command("SELECT", "SELECT INBOX", &untagged); });
  long exists = exists_of(untagged);
  if (exists < 0) throw ImapError("SELECT", "no EXISTS");
  if (exists > 0) {
    co_await timed(sh, "FETCH_ENV",
                   [&]() { return c->command("FETCH_ENV", "FETCH 1:* (ENVELOPE FLAGS)"); });
    std::uniform_int_distribution<long> pick(1, exists);
    std::string set;
    for (int i = 0; i < 3; ++i) set += (i ? "," : "") + std::to_string(pick(sh.rng));
    co_await timed(sh, "FETCH_BODY",
                   [&]() { return c->command("FETCH_BODY", "FETCH " + set + " (BODY.PEEK[])"); });
    std::string flag = "STORE " + std::to_string(pick(sh.rng)) + " +FLAGS (\\Flagged)";
    co_await timed(sh, "STORE", [&]() { return c->command("STORE", flag); });
    // The oldest message goes, the appended one replaces it: mailboxes keep their size.
    co_await timed(sh, "STORE",
                   [&]() { return c->command("STORE", "STORE 1 +FLAGS (\\Deleted)"); });
  }
  const auto& msg = sh.p.messages[sh.next_message++ % sh.p.messages.size()];
  co_await timed(sh, "APPEND", [&]() { return c->append(msg); });
  co_await timed(sh, "EXPUNGE", [&]() { return c->command("EXPUNGE", "EXPUNGE"); });
  co_await logout(sh, *c);
}

awaitable<void> client(Shared& sh) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer wait(ex);
  while (sh.next_cycle < sh.p.cycles && Clock::now() < sh.deadline) {
    if (sh.free_users.empty()) {  // more clients than users: wait for one
      wait.expires_after(std::chrono::milliseconds(1));
      co_await wait.async_wait(use_awaitable);
      continue;
    }
    ++sh.next_cycle;
    int user = sh.free_users.front();
    sh.free_users.pop_front();
    try {
      if (sh.p.mode == "mix")
        co_await mix_cycle(sh, user);
      else
        co_await cycle(sh, user);
      ++sh.st.cycles;
    } catch (const ImapError& e) {
      ++sh.st.errors;
      ++sh.st.error_by_command[e.command];
      if (sh.st.errors <= 5) std::fprintf(stderr, "error: %s\n", e.what());
    } catch (const std::exception& e) {
      ++sh.st.errors;
      ++sh.st.error_by_command["disconnect"];
      if (sh.st.errors <= 5) std::fprintf(stderr, "error: %s\n", e.what());
    }
    sh.free_users.push_back(user);
  }
}

// The UIDs of "* SEARCH" lines among `lines`.
std::vector<long> search_uids(const std::vector<std::string>& lines) {
  std::vector<long> out;
  for (const auto& l : lines) {
    if (l.rfind("* SEARCH", 0) != 0) continue;
    std::istringstream in(l.substr(8));
    for (long u; in >> u;) out.push_back(u);
  }
  return out;
}

// One webmail first page and one message opened, over a logged-in connection (mode "page").
awaitable<void> page_cycle(Shared& sh, Conn& c) {
  std::vector<std::string> untagged;
  std::vector<long> uids;
  co_await timed(sh, "PAGE", [&]() -> awaitable<void> {
    co_await c.command("SELECT", "SELECT INBOX");
    co_await c.command("SEARCH", "UID SEARCH ALL", &untagged);
    uids = search_uids(untagged);
    expect(!uids.empty(), "SEARCH", "empty INBOX");
    std::sort(uids.begin(), uids.end());
    uids.erase(uids.begin(), uids.end() - std::min<std::ptrdiff_t>(50, std::ssize(uids)));
    std::string set;
    for (long u : uids) set += (set.empty() ? "" : ",") + std::to_string(u);
    untagged.clear();
    co_await c.command("FETCH50", "UID FETCH " + set + " (ENVELOPE FLAGS RFC822.SIZE)", &untagged);
    expect(fetches_of(untagged) == std::ssize(uids), "FETCH50",
           "expected " + std::to_string(uids.size()) + " FETCH responses");
  });
  std::uniform_int_distribution<std::size_t> pick(0, uids.size() - 1);
  const std::string one = std::to_string(uids[pick(sh.rng)]);
  const auto before = c.body_bytes;
  co_await timed(sh, "OPEN",
                 [&]() { return c.command("OPEN", "UID FETCH " + one + " (BODY.PEEK[])"); });
  expect(c.body_bytes > before, "OPEN", "no body literal");
}

awaitable<void> page_client(Shared& sh, int user) {
  std::unique_ptr<Conn> c;
  try {
    c = co_await connect(sh, user);
  } catch (const std::exception& e) {
    ++sh.st.errors;
    ++sh.st.error_by_command["LOGIN"];
    std::fprintf(stderr, "login: %s\n", e.what());
    co_return;
  }
  while (sh.next_cycle < sh.p.cycles && Clock::now() < sh.deadline) {
    ++sh.next_cycle;
    try {
      co_await page_cycle(sh, *c);
      ++sh.st.cycles;
    } catch (const ImapError& e) {
      ++sh.st.errors;
      ++sh.st.error_by_command[e.command];
      if (sh.st.errors <= 5) std::fprintf(stderr, "error: %s\n", e.what());
    }
  }
  co_await logout(sh, *c);
}

// Empties each user's INBOX and appends `per_user` messages of the mbox.
awaitable<void> setup_client(Shared& sh) {
  while (!sh.free_users.empty()) {
    int user = sh.free_users.front();
    sh.free_users.pop_front();
    try {
      auto c = co_await connect(sh, user);
      std::vector<std::string> untagged;
      co_await c->command("SELECT", "SELECT INBOX", &untagged);
      if (exists_of(untagged) > 0) {
        co_await c->command("STORE", "STORE 1:* +FLAGS.SILENT (\\Deleted)");
        co_await c->command("EXPUNGE", "EXPUNGE");
      }
      for (long i = 0; i < sh.p.cycles; ++i)
        co_await c->append(sh.p.messages[(user * sh.p.cycles + i) % sh.p.messages.size()]);
      co_await logout(sh, *c);
      ++sh.st.cycles;
    } catch (const std::exception& e) {
      ++sh.st.errors;
      std::fprintf(stderr, "setup %s: %s\n", user_name(sh.p, user).c_str(), e.what());
    }
  }
}

// Prints the cycles (= logins) per second of each 5-second interval while clients run.
awaitable<void> rate_printer(Shared& sh, const int& clients_left) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer t(ex);
  long last = 0;
  auto start = Clock::now();
  for (int i = 1; clients_left > 0; ++i) {
    t.expires_at(start + std::chrono::seconds(5 * i));
    co_await t.async_wait(use_awaitable);
    if (clients_left == 0) break;  // the run ended inside this interval
    long now = sh.st.cycles;
    std::printf("RATE t=%ds cycles_s=%.1f errors=%ld\n", 5 * i, (now - last) / 5.0, sh.st.errors);
    std::fflush(stdout);
    last = now;
  }
}

double percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))];
}

void report(Shared& sh, double secs) {
  long total = 0;
  for (auto& [name, v] : sh.st.latency_ms) {
    total += static_cast<long>(v.size());
    std::printf("%-10s ops=%-7zu ops_s=%-8.1f p50_ms=%-7.2f p99_ms=%.2f\n", name.c_str(), v.size(),
                v.size() / secs, percentile(v, 0.5), percentile(v, 0.99));
  }
  std::string by;
  for (auto& [name, n] : sh.st.error_by_command) by += " " + name + ":" + std::to_string(n);
  std::printf(
      "TOTAL clients=%d users=%d cycles=%ld secs=%.2f ops=%ld ops_s=%.1f cycles_s=%.1f "
      "errors=%ld%s\n",
      sh.p.clients, sh.p.users, sh.st.cycles, secs, total, total / secs, sh.st.cycles / secs,
      sh.st.errors, by.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (argc != 11 || (mode != "run" && mode != "mix" && mode != "setup" && mode != "page")) {
    std::fprintf(stderr,
                 "usage: %s run|mix|page|setup HOST PORT CLIENTS USERS PATTERN PASSWORD MBOX "
                 "CYCLES|PER_USER SECONDS\n",
                 argv[0]);
    return 2;
  }
  Params p;
  p.mode = argv[1];
  p.host = argv[2];
  p.port = static_cast<unsigned short>(std::atoi(argv[3]));
  p.clients = std::atoi(argv[4]);
  p.users = std::atoi(argv[5]);
  p.pattern = argv[6];
  p.password = argv[7];
  p.messages = read_mbox(argv[8]);
  p.cycles = std::atol(argv[9]);
  p.seconds = std::atof(argv[10]);
  if (p.messages.empty() || p.users < 1 || p.clients < 1) return 2;
  Shared sh{p};
  sh.deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(p.seconds));
  for (int u = 0; u < p.users; ++u) sh.free_users.push_back(u);
  asio::io_context io(1);
  int clients_left = p.clients;
  const auto t0 = Clock::now();
  auto t_end = t0;
  for (int i = 0; i < p.clients; ++i)
    asio::co_spawn(io,
                   p.mode == "setup"  ? setup_client(sh)
                   : p.mode == "page" ? page_client(sh, i % p.users)
                                      : client(sh),
                   [&](std::exception_ptr e) {
                     if (e) ++sh.st.errors;
                     if (--clients_left == 0) t_end = Clock::now();
                   });
  if (p.mode == "mix") asio::co_spawn(io, rate_printer(sh, clients_left), asio::detached);
  io.run();
  // Until the last client ended: the rate printer's last tick may keep io.run() going up to 5 s
  // longer, and that idle tail used to count in the rates.
  report(sh, std::chrono::duration<double>(t_end - t0).count());
  return sh.st.errors ? 1 : 0;
}
