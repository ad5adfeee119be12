// The DNS resolver: rdata parsers and answer mapping on hostile bytes (pure), then real lookups
// through libunbound against a real unbound server on loopback (tests/support/unbound_server).
#include "core/dns.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/asio.hpp"
#include "dns_rdata.hpp"
#include "unbound_server.hpp"

namespace govmail::core {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using test::UnboundServer;

// ---- pure: wire names and rdata -------------------------------------------------------------

std::string label(std::size_t n, char c = 'a') {
  return std::string(1, static_cast<char>(n)) + std::string(n, c);
}

TEST(DnsRdata, WireNames) {
  struct Case {
    std::string wire;
    std::optional<std::string> name;
  };
  const std::string l63 = label(63);
  const Case cases[] = {
      {"\x02Mx\x07"
       "Example\x03"
       "COM\x00"s,
       "mx.example.com"},
      {"\x00"s, ""},        // the root
      {""s, std::nullopt},  // nothing
      {"\x02mx\x07"
       "example"s,
       std::nullopt},                                           // no root label
      {"\x05mx"s, std::nullopt},                                // label runs past the end
      {"\xc0\x0c"s, std::nullopt},                              // compression pointer
      {"\x02mx\xc0\x0c"s, std::nullopt},                        // pointer after a label
      {"\x41" + std::string(65, 'a') + "\x00"s, std::nullopt},  // extended label type 0x40
      {label(64) + "\x00"s, std::nullopt},                      // label over 63
      {l63 + "\x00"s, std::string(63, 'a')},                    // 63 is fine
      {l63 + l63 + l63 + label(61) + "\x00"s,                   // 255 bytes exactly
       std::string(63, 'a') + "." + std::string(63, 'a') + "." + std::string(63, 'a') + "." +
           std::string(61, 'a')},
      {l63 + l63 + l63 + label(62) + "\x00"s, std::nullopt},  // 256 bytes
      {l63 + l63 + l63 + l63 + "\x00"s, std::nullopt},
      {"\x03"
       "a.b\x00"s,
       std::nullopt},  // dot inside a label
      {"\x03"
       "a b\x00"s,
       std::nullopt},  // space
      {"\x03"
       "a\x00"
       "b\x00"s,
       std::nullopt},  // NUL inside a label
      {"\x04"
       "ab\r\n\x00"s,
       std::nullopt},  // CRLF (SMTP injection)
      {"\x03"
       "\xc3\xa9"
       "a\x00"s,
       std::nullopt},  // raw UTF-8
      {"\x05"
       "_smtp\x03"
       "x-y\x00"s,
       "_smtp.x-y"},
  };
  for (const Case& c : cases) {
    std::size_t used = 0;
    std::optional<std::string> got = dns::parse_wire_name(c.wire, used);
    EXPECT_EQ(got, c.name) << testing::PrintToString(c.wire);
    if (got) {
      EXPECT_EQ(used, c.wire.size());
    }
  }
}

TEST(DnsRdata, Mx) {
  auto mx = dns::parse_mx_rdata("\x00\x0a\x02mx\x04test\x00"s);
  ASSERT_TRUE(mx);
  EXPECT_EQ(mx->preference, 10);
  EXPECT_EQ(mx->host, "mx.test");
  mx = dns::parse_mx_rdata("\xff\xfe\x00"s);
  ASSERT_TRUE(mx);
  EXPECT_EQ(mx->preference, 65534);
  EXPECT_EQ(mx->host, "");  // "."
  EXPECT_FALSE(dns::parse_mx_rdata(""s));
  EXPECT_FALSE(dns::parse_mx_rdata("\x00"s));
  EXPECT_FALSE(dns::parse_mx_rdata("\x00\x0a"s));                       // no name
  EXPECT_FALSE(dns::parse_mx_rdata("\x00\x0a\x02mx"s));                 // truncated name
  EXPECT_FALSE(dns::parse_mx_rdata("\x00\x0a\x02mx\x00junk"s));         // bytes after the name
  EXPECT_FALSE(dns::parse_mx_rdata("\x00\x0a\xc0\x0c"s));               // compressed
  EXPECT_FALSE(dns::parse_mx_rdata("\x00\x0a" + label(64) + "\x00"s));  // long label
}

TEST(DnsRdata, Txt) {
  EXPECT_EQ(dns::parse_txt_rdata("\x07v=spf1 \x04-all"s), "v=spf1 -all");
  EXPECT_EQ(dns::parse_txt_rdata("\x00"s), "");  // one empty string
  const std::string a(255, 'a');
  const std::string b(100, 'b');
  EXPECT_EQ(dns::parse_txt_rdata("\xff" + a + "\x64" + b), a + b);
  EXPECT_FALSE(dns::parse_txt_rdata(""s));  // no string at all
  EXPECT_FALSE(
      dns::parse_txt_rdata("\x05"
                           "abc"s));  // runs past the end
  EXPECT_FALSE(
      dns::parse_txt_rdata("\x02"
                           "ab\x03"s));
}

TEST(DnsRdata, Ptr) {
  EXPECT_EQ(dns::parse_ptr_rdata("\x04Host\x07"
                                 "Example\x00"s),
            "host.example");
  EXPECT_FALSE(dns::parse_ptr_rdata("\x00"s));  // the root names no host
  EXPECT_FALSE(dns::parse_ptr_rdata(""s));
  EXPECT_FALSE(dns::parse_ptr_rdata("\x04host"s));  // truncated
  EXPECT_FALSE(
      dns::parse_ptr_rdata("\x04host\x00"
                           "junk"s));                   // bytes after the name
  EXPECT_FALSE(dns::parse_ptr_rdata("\xc0\x0c"s));      // compressed
  EXPECT_FALSE(dns::parse_ptr_rdata("\x04h st\x00"s));  // not a hostname
}

TEST(DnsRdata, ReverseName) {
  EXPECT_EQ(dns::reverse_name("192.0.2.1"), "1.2.0.192.in-addr.arpa");
  EXPECT_EQ(dns::reverse_name("127.0.0.10"), "10.0.0.127.in-addr.arpa");
  EXPECT_EQ(dns::reverse_name("2001:db8::1"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  EXPECT_EQ(dns::reverse_name("::ffff:192.0.2.1"),
            "1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa");
  EXPECT_FALSE(dns::reverse_name(""));
  EXPECT_FALSE(dns::reverse_name("192.0.2"));
  EXPECT_FALSE(dns::reverse_name("host.example"));
  EXPECT_FALSE(dns::reverse_name("192.0.2.1 "));
}

TEST(DnsRdata, Addresses) {
  EXPECT_EQ(dns::parse_a_rdata("\xc0\x00\x02\x01"s), "192.0.2.1");
  EXPECT_FALSE(dns::parse_a_rdata("\xc0\x00\x02"s));
  EXPECT_FALSE(dns::parse_a_rdata("\xc0\x00\x02\x01\x01"s));
  EXPECT_EQ(dns::parse_aaaa_rdata("\x20\x01\x0d\xb8" + std::string(11, '\0') + "\x01"s),
            "2001:db8::1");
  EXPECT_FALSE(dns::parse_aaaa_rdata(std::string(15, '\0')));
  EXPECT_FALSE(dns::parse_aaaa_rdata(std::string(4, '\0')));
}

// ---- pure: answer mapping -------------------------------------------------------------------

dns::RawAnswer raw_ok(std::vector<std::string> rdata) {
  dns::RawAnswer r;
  r.havedata = !rdata.empty();
  r.rdata = std::move(rdata);
  return r;
}

TEST(DnsAnswer, Status) {
  std::mt19937 rng(1);
  dns::RawAnswer r;
  r.rcode = 2;
  MxAnswer mx = dns::mx_answer(r, rng);
  EXPECT_EQ(mx.status, DnsStatus::temporary);
  EXPECT_EQ(mx.error, "SERVFAIL");
  r.rcode = 5;
  EXPECT_EQ(dns::mx_answer(r, rng).error, "REFUSED");
  r.rcode = 3;
  EXPECT_EQ(dns::mx_answer(r, rng).status, DnsStatus::nxdomain);
  r.rcode = 0;
  EXPECT_EQ(dns::mx_answer(r, rng).status, DnsStatus::nodata);
  r.ub_error = -4;
  r.ub_error_text = "server failure";
  mx = dns::mx_answer(r, rng);
  EXPECT_EQ(mx.status, DnsStatus::temporary);
  EXPECT_EQ(mx.error, "server failure");
  dns::RawAnswer t;
  t.timed_out = true;
  EXPECT_EQ(dns::txt_answer(t).error, "timeout");
}

TEST(DnsAnswer, MxHostileAndNull) {
  std::mt19937 rng(1);
  // Only garbage: temporary, not nodata (the domain has MX records we cannot use).
  MxAnswer a = dns::mx_answer(raw_ok({"\x00"s, "\x00\x0a\xc0\x0c"s}), rng);
  EXPECT_EQ(a.status, DnsStatus::temporary);
  EXPECT_TRUE(a.hosts.empty());
  // Garbage beside a good record: the good one is used.
  a = dns::mx_answer(raw_ok({"\x00\x0a\xc0\x0c"s, "\x00\x14\x02mx\x04test\x00"s}), rng);
  EXPECT_EQ(a.status, DnsStatus::ok);
  ASSERT_EQ(a.hosts.size(), 1u);
  EXPECT_EQ(a.hosts[0].host, "mx.test");
  // RFC 7505 null MX.
  a = dns::mx_answer(raw_ok({"\x00\x00\x00"s}), rng);
  EXPECT_EQ(a.status, DnsStatus::ok);
  EXPECT_TRUE(a.null_mx);
  EXPECT_TRUE(a.hosts.empty());
  // "." among real hosts is skipped, not a null MX.
  a = dns::mx_answer(raw_ok({"\x00\x00\x00"s, "\x00\x14\x02mx\x04test\x00"s}), rng);
  EXPECT_FALSE(a.null_mx);
  ASSERT_EQ(a.hosts.size(), 1u);
}

TEST(DnsAnswer, PtrSkipsBadNames) {
  dns::RawAnswer raw;
  raw.havedata = true;
  raw.rdata = {"\x00"s,
               "\x01"
               "A\x07"
               "example\x00"s,
               "\x03b c\x00"s};
  PtrAnswer a = dns::ptr_answer(raw);
  EXPECT_EQ(a.status, DnsStatus::ok) << a.error;
  EXPECT_EQ(a.names, std::vector<std::string>{"a.example"});
  raw.rdata = {"\x00"s};
  a = dns::ptr_answer(raw);
  EXPECT_EQ(a.status, DnsStatus::temporary);
  EXPECT_EQ(a.error, "no valid PTR record");
  raw.rcode = 3;
  EXPECT_EQ(dns::ptr_answer(raw).status, DnsStatus::nxdomain);
}

TEST(DnsAnswer, AddressCombinations) {
  dns::RawAnswer nx;
  nx.rcode = 3;
  dns::RawAnswer nodata;
  dns::RawAnswer servfail;
  servfail.rcode = 2;
  dns::RawAnswer v4 = raw_ok({"\xc0\x00\x02\x01"s});
  EXPECT_EQ(dns::address_answer(nx, nx).status, DnsStatus::nxdomain);
  EXPECT_EQ(dns::address_answer(nx, nodata).status, DnsStatus::nodata);
  EXPECT_EQ(dns::address_answer(nodata, nodata).status, DnsStatus::nodata);
  EXPECT_EQ(dns::address_answer(nx, servfail).status, DnsStatus::temporary);
  EXPECT_EQ(dns::address_answer(nx, servfail).error, "AAAA: SERVFAIL");
  AddressAnswer a = dns::address_answer(v4, servfail);
  EXPECT_EQ(a.status, DnsStatus::ok);
  EXPECT_EQ(a.addresses, std::vector<std::string>{"192.0.2.1"});
  // Wrong-size rdata only: temporary.
  EXPECT_EQ(dns::address_answer(raw_ok({"\x01\x02"s}), nodata).status, DnsStatus::temporary);
}

// ---- real lookups ---------------------------------------------------------------------------

// Runs one lookup on `io` (one thread) and returns its answer.
template <class T>
T run(asio::io_context& io, awaitable<T> lookup) {
  std::optional<T> out;
  asio::co_spawn(io, std::move(lookup), [&](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    out = std::move(value);
    io.stop();
  });
  io.restart();
  io.run();
  if (!out) throw std::runtime_error("lookup did not complete");
  return std::move(*out);
}

std::shared_ptr<Resolver> make_resolver(asio::io_context& io, std::string forwarder,
                                        std::chrono::milliseconds timeout = 5s) {
  DnsOptions opts;
  opts.forwarders = {std::move(forwarder)};
  opts.timeout = timeout;
  auto r = Resolver::create(io.get_executor(), opts);
  if (!r) throw std::runtime_error(r.error());
  return *r;
}

class DnsServerTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string b(200, 'b');
    const std::string c(200, 'c');
    const std::vector<std::string> zones{"example.", "2.0.192.in-addr.arpa.",
                                         "8.b.d.0.1.0.0.2.ip6.arpa.", "127.in-addr.arpa."};
    const std::vector<std::string> records{
        "mx.example. MX 10 b.mx.example.",
        "mx.example. MX 10 a.mx.example.",
        "mx.example. MX 10 c.mx.example.",
        "mx.example. MX 5 First.MX.example.",
        "mx.example. MX 20 last.mx.example.",
        "null.example. MX 0 .",
        "aonly.example. A 192.0.2.10",
        "dual.example. A 192.0.2.1",
        "dual.example. AAAA 2001:db8::1",
        "v6only.example. AAAA 2001:db8::2",
        "txt.example. TXT \"v=spf1 \" \"ip4:192.0.2.0/24 \" \"-all\"",
        "txt.example. TXT \"second\"",
        "long.example. TXT \"" + b + "\" \"" + c + "\"",
        "10.2.0.192.in-addr.arpa. PTR Host.Example.",
        "11.0.0.127.in-addr.arpa. PTR loop.example.",
        "10.2.0.192.in-addr.arpa. PTR other.example.",
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR "
        "v6.example.",
    };
    server_ = new UnboundServer(records, zones);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static UnboundServer* server_;
  asio::io_context io;
};
UnboundServer* DnsServerTest::server_ = nullptr;

TEST_F(DnsServerTest, MxSortedWithEqualPreferencesShuffled) {
  auto resolver = make_resolver(io, server_->forwarder());
  std::set<std::vector<std::string>> orders;
  for (int i = 0; i < 30; ++i) {
    MxAnswer a = run(io, resolver->mx("mx.example"));
    ASSERT_EQ(a.status, DnsStatus::ok) << a.error;
    EXPECT_FALSE(a.null_mx);
    ASSERT_EQ(a.hosts.size(), 5u);
    EXPECT_EQ(a.hosts[0].preference, 5);
    EXPECT_EQ(a.hosts[0].host, "first.mx.example");  // lower-cased
    EXPECT_EQ(a.hosts[4].preference, 20);
    EXPECT_EQ(a.hosts[4].host, "last.mx.example");
    std::vector<std::string> middle;
    for (int j = 1; j <= 3; ++j) {
      EXPECT_EQ(a.hosts[j].preference, 10);
      middle.push_back(a.hosts[j].host);
    }
    orders.insert(middle);
  }
  // 30 uniform shuffles of 3 hosts all giving the same order: probability 6^-29.
  EXPECT_GT(orders.size(), 1u);
  // The trailing dot of the query does not matter.
  EXPECT_EQ(run(io, resolver->mx("mx.example.")).hosts.size(), 5u);
}

TEST_F(DnsServerTest, NullMx) {
  auto resolver = make_resolver(io, server_->forwarder());
  MxAnswer a = run(io, resolver->mx("null.example"));
  EXPECT_EQ(a.status, DnsStatus::ok);
  EXPECT_TRUE(a.null_mx);
  EXPECT_TRUE(a.hosts.empty());
}

TEST_F(DnsServerTest, NoMxFallsBackToAddresses) {
  auto resolver = make_resolver(io, server_->forwarder());
  MxAnswer mx = run(io, resolver->mx("aonly.example"));
  EXPECT_EQ(mx.status, DnsStatus::nodata) << mx.error;
  AddressAnswer a = run(io, resolver->addresses("aonly.example"));
  EXPECT_EQ(a.status, DnsStatus::ok) << a.error;
  EXPECT_EQ(a.addresses, std::vector<std::string>{"192.0.2.10"});
}

TEST_F(DnsServerTest, Nxdomain) {
  auto resolver = make_resolver(io, server_->forwarder());
  EXPECT_EQ(run(io, resolver->mx("nope.example")).status, DnsStatus::nxdomain);
  EXPECT_EQ(run(io, resolver->addresses("nope.example")).status, DnsStatus::nxdomain);
  EXPECT_EQ(run(io, resolver->txt("nope.example")).status, DnsStatus::nxdomain);
}

TEST_F(DnsServerTest, AaaaAndA) {
  auto resolver = make_resolver(io, server_->forwarder());
  AddressAnswer a = run(io, resolver->addresses("dual.example"));
  EXPECT_EQ(a.status, DnsStatus::ok) << a.error;
  EXPECT_EQ(a.addresses, (std::vector<std::string>{"192.0.2.1", "2001:db8::1"}));
  a = run(io, resolver->addresses("v6only.example"));
  EXPECT_EQ(a.status, DnsStatus::ok) << a.error;
  EXPECT_EQ(a.addresses, std::vector<std::string>{"2001:db8::2"});
  a = run(io, resolver->addresses("txt.example"));  // exists, no address
  EXPECT_EQ(a.status, DnsStatus::nodata) << a.error;
}

TEST_F(DnsServerTest, Txt) {
  auto resolver = make_resolver(io, server_->forwarder());
  TxtAnswer t = run(io, resolver->txt("txt.example"));
  ASSERT_EQ(t.status, DnsStatus::ok) << t.error;
  std::multiset<std::string> texts(t.texts.begin(), t.texts.end());
  EXPECT_EQ(texts, (std::multiset<std::string>{"v=spf1 ip4:192.0.2.0/24 -all", "second"}));
  t = run(io, resolver->txt("long.example"));
  ASSERT_EQ(t.status, DnsStatus::ok) << t.error;
  ASSERT_EQ(t.texts.size(), 1u);
  EXPECT_EQ(t.texts[0], std::string(200, 'b') + std::string(200, 'c'));
  EXPECT_EQ(run(io, resolver->txt("aonly.example")).status, DnsStatus::nodata);
}

TEST_F(DnsServerTest, Ptr) {
  auto resolver = make_resolver(io, server_->forwarder());
  PtrAnswer p = run(io, resolver->ptr("192.0.2.10"));
  ASSERT_EQ(p.status, DnsStatus::ok) << p.error;
  std::set<std::string> names(p.names.begin(), p.names.end());
  EXPECT_EQ(names, (std::set<std::string>{"host.example", "other.example"}));  // lower-cased
  p = run(io, resolver->ptr("2001:db8::1"));
  ASSERT_EQ(p.status, DnsStatus::ok) << p.error;
  EXPECT_EQ(p.names, std::vector<std::string>{"v6.example"});
  EXPECT_EQ(run(io, resolver->ptr("192.0.2.11")).status, DnsStatus::nxdomain);
  // Loopback reverse names go to the forwarder too (libunbound would answer them itself).
  p = run(io, resolver->ptr("127.0.0.11"));
  ASSERT_EQ(p.status, DnsStatus::ok) << p.error;
  EXPECT_EQ(p.names, std::vector<std::string>{"loop.example"});
  p = run(io, resolver->ptr("not-an-ip"));
  EXPECT_EQ(p.status, DnsStatus::temporary);
  EXPECT_EQ(p.error, "not an IP address");
}

TEST_F(DnsServerTest, ManyConcurrentLookupsOnTwoThreads) {
  auto resolver = make_resolver(io, server_->forwarder());
  constexpr int kLookups = 200;
  std::atomic<int> done{0};
  std::atomic<int> good{0};
  const char* names[] = {"mx.example", "null.example", "aonly.example", "nope.example"};
  for (int i = 0; i < kLookups; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> awaitable<void> {
          // Distinct names defeat the cache for half of them (nxdomain from the server).
          std::string name =
              i % 2 == 0 ? std::string(names[i % 4]) : "n" + std::to_string(i) + ".example";
          if (i % 3 == 0) {
            AddressAnswer a = co_await resolver->addresses(name);
            if (a.status != DnsStatus::temporary) ++good;
          } else {
            MxAnswer a = co_await resolver->mx(name);
            if (a.status != DnsStatus::temporary) ++good;
          }
          if (++done == kLookups) io.stop();
        },
        asio::detached);
  }
  auto guard = asio::make_work_guard(io);
  std::thread other([&] { io.run(); });
  io.run();
  other.join();
  EXPECT_EQ(done.load(), kLookups);
  EXPECT_EQ(good.load(), kLookups);
}

TEST(DnsResolver, TimeoutIsTemporary) {
  test::SilentPort silent;
  asio::io_context io;
  auto resolver = make_resolver(io, silent.forwarder(), 300ms);
  const auto start = std::chrono::steady_clock::now();
  MxAnswer a = run(io, resolver->mx("example.example"));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(a.status, DnsStatus::temporary);
  EXPECT_EQ(a.error, "timeout");
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 3s);
  AddressAnswer b = run(io, resolver->addresses("example.example"));
  EXPECT_EQ(b.status, DnsStatus::temporary);
  EXPECT_EQ(b.error, "A: timeout");
}

TEST(DnsResolver, StopCompletesPendingLookups) {
  test::SilentPort silent;
  asio::io_context io;
  auto resolver = make_resolver(io, silent.forwarder(), 30s);
  std::vector<MxAnswer> answers;
  for (int i = 0; i < 3; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> awaitable<void> {
          answers.push_back(co_await resolver->mx("q" + std::to_string(i) + ".example"));
          if (answers.size() == 3) io.stop();
        },
        asio::detached);
  }
  asio::steady_timer timer(io, 200ms);
  timer.async_wait([&](boost::system::error_code) { resolver->stop(); });
  const auto start = std::chrono::steady_clock::now();
  io.run();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ASSERT_EQ(answers.size(), 3u);
  for (const MxAnswer& a : answers) {
    EXPECT_EQ(a.status, DnsStatus::temporary);
    EXPECT_EQ(a.error, "resolver stopped");
  }
  resolver->stop();  // idempotent
  // Later lookups answer at once.
  EXPECT_EQ(run(io, resolver->txt("x.example")).error, "resolver stopped");
  resolver.reset();  // destroyed after stop
}

TEST(DnsResolver, DestroyedWithLookupPending) {
  test::SilentPort silent;
  asio::io_context io;
  auto resolver = make_resolver(io, silent.forwarder(), 30s);
  std::optional<MxAnswer> answer;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        answer = co_await resolver->mx("pending.example");
        io.stop();
      },
      asio::detached);
  asio::steady_timer timer(io, 100ms);
  timer.async_wait([&](boost::system::error_code) { resolver.reset(); });
  io.run();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, DnsStatus::temporary);
}

TEST(DnsResolver, BadForwarderIsRefused) {
  asio::io_context io;
  DnsOptions opts;
  opts.forwarders = {"not an address"};
  auto r = Resolver::create(io.get_executor(), opts);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("not an address"), std::string::npos);
}

}  // namespace
}  // namespace govmail::core
