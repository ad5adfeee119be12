// SPF (RFC 7208): the sans-I/O record parser and macro expander as tables, then check_host()
// against a real unbound on loopback (tests/support/unbound_server).
#include "smtp/spf.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "core/asio.hpp"
#include "core/dns.hpp"
#include "smtp/src/auth/spf_record.hpp"
#include "unbound_server.hpp"

namespace govmail::smtp::spf {
namespace {

using namespace std::chrono_literals;
using namespace detail;
using test::UnboundServer;

// ---- record parser -----------------------------------------------------------------------------

TEST(SpfRecord, Selection) {
  EXPECT_TRUE(is_spf1("v=spf1"));
  EXPECT_TRUE(is_spf1("v=spf1 -all"));
  EXPECT_TRUE(is_spf1("V=SPF1 -all"));
  EXPECT_FALSE(is_spf1("v=spf10 -all"));
  EXPECT_FALSE(is_spf1("v=spf1-all"));
  EXPECT_FALSE(is_spf1(" v=spf1 -all"));
  EXPECT_FALSE(is_spf1("v=spf2.0/pra -all"));
  EXPECT_FALSE(is_spf1("google-site-verification=abc"));
}

TEST(SpfRecord, Valid) {
  struct Case {
    std::string record;
    std::size_t directives;
  };
  const Case cases[] = {
      {"v=spf1", 0},
      {"v=spf1 -all", 1},
      {"v=spf1   ip4:192.0.2.0/24   ~all  ", 2},
      {"v=spf1 +a -mx ~ptr ?exists:%{i}.x.example", 4},
      {"v=spf1 a:mail.example a/24 a//64 a/24//64 a:x.example/0//0 mx:x.example//128", 6},
      {"v=spf1 ip6:2001:db8::/32 ip6:::1 ip4:0.0.0.0/0 IP4:192.0.2.1", 4},
      {"v=spf1 include:_spf.example.com INCLUDE:%{d}", 2},
      {"v=spf1 redirect=_spf.example.com", 0},
      {"v=spf1 exp=explain._spf.%{d} -all", 1},
      {"v=spf1 moo.cow-far_out=man:dog/cat ip4:192.0.2.1", 1},  // unknown modifier: ignored
      {"v=spf1 x=%{c}%{r}%{t} -all", 1},                        // exp letters in a modifier
      {"v=spf1 a:example.com. -all", 2},                        // trailing dot
      {"v=spf1 exists:%{l}.%{o}.%%", 1},                        // domain-end %%
      {"v=spf1 a:foo-bar.x-y9", 1},
  };
  for (const Case& c : cases) {
    auto r = parse_record(c.record);
    ASSERT_TRUE(r) << c.record << ": " << r.error();
    EXPECT_EQ(r->directives.size(), c.directives) << c.record;
  }
}

TEST(SpfRecord, Fields) {
  auto r = parse_record(
      "v=spf1 -a:mail.example/24//64 ~mx ?ip4:192.0.2.0/25 ip6:2001:db8::/48 "
      "redirect=_spf.example exp=why.example");
  ASSERT_TRUE(r) << r.error();
  ASSERT_EQ(r->directives.size(), 4u);
  const Directive& a = r->directives[0];
  EXPECT_EQ(a.qualifier, Qualifier::fail);
  EXPECT_EQ(a.mechanism, Mechanism::a);
  EXPECT_EQ(a.domain_spec, "mail.example");
  EXPECT_EQ(a.cidr4, 24);
  EXPECT_EQ(a.cidr6, 64);
  EXPECT_EQ(r->directives[1].qualifier, Qualifier::softfail);
  EXPECT_EQ(r->directives[1].mechanism, Mechanism::mx);
  EXPECT_EQ(r->directives[1].domain_spec, "");
  EXPECT_EQ(r->directives[1].cidr4, 32);
  EXPECT_EQ(r->directives[1].cidr6, 128);
  const Directive& ip4 = r->directives[2];
  EXPECT_EQ(ip4.qualifier, Qualifier::neutral);
  EXPECT_EQ(ip4.cidr4, 25);
  EXPECT_EQ(ip4.network[0], 192);
  EXPECT_EQ(ip4.network[3], 0);
  EXPECT_EQ(r->directives[3].cidr6, 48);
  EXPECT_EQ(r->directives[3].network[1], 0x01);
  EXPECT_EQ(r->redirect, "_spf.example");
  EXPECT_EQ(r->exp, "why.example");
}

TEST(SpfRecord, Invalid) {
  const std::string invalid[] = {
      "v=spf1 foo",                                    // unknown mechanism
      "v=spf1 -foo:bar.example",                       //
      "v=spf1 all:x.example",                          // all takes nothing
      "v=spf1 include",                                // include needs a domain
      "v=spf1 include:",                               //
      "v=spf1 exists",                                 //
      "v=spf1 include:example",                        // no "." toplabel
      "v=spf1 a:example.123",                          // numeric toplabel
      "v=spf1 a:example.-com",                         // hyphen first
      "v=spf1 a:%{d}com",                              //
      "v=spf1 ip4:192.0.2.300",                        // bad address
      "v=spf1 ip4:192.0.2.1/33",                       // prefix too long
      "v=spf1 ip4:192.0.2.1/024",                      // leading zero
      "v=spf1 ip4:192.0.2.1/",                         //
      "v=spf1 ip4",                                    //
      "v=spf1 ip4:2001:db8::1",                        // family
      "v=spf1 ip6:192.0.2.1",                          //
      "v=spf1 ip6:2001:db8::/129",                     //
      "v=spf1 a/33",                                   //
      "v=spf1 a//129",                                 //
      "v=spf1 mx:example.com/24/64",                   // one slash before the IPv6 length
      "v=spf1 exists:%(ir).x.example",                 // RFC 7208 7.1 example of a bad macro
      "v=spf1 exists:%{x}.x.example",                  // unknown letter
      "v=spf1 exists:%{c}.x.example",                  // exp-only letter
      "v=spf1 exists:%{ir.x.example",                  // unclosed
      "v=spf1 exists:%{i2r!}.x.example",               // bad delimiter
      "v=spf1 exists:50%.x.example",                   // lone %
      "v=spf1 redirect=a.example redirect=b.example",  // duplicate
      "v=spf1 exp=a.example exp=b.example",            //
      "v=spf1 redirect=",                              //
      "v=spf1 -redirect=a.example",                    // qualified modifier
      "v=spf1 =foo",                                   // empty name
      "v=spf1 1x=foo",                                 // name starts with a digit
      "v=spf1 x=\x7f",                                 // DEL
      "v=spf1 -all\t",                                 // tab is not a separator
      "v=spf1 a:\xc3\xa9.example",                     // non-ASCII
      "v=spf2 -all",                                   // not SPF 1
      "v=spf1 ip4:192.0.2.1 " + std::string(kMaxRecordLength, 'a'),  // too long
  };
  for (const std::string& rec : invalid) {
    auto r = parse_record(rec);
    EXPECT_FALSE(r) << rec;
  }
}

// ---- macros (RFC 7208 7.4)
// -----------------------------------------------------------------------

MacroContext rfc_context(std::string ip) {
  MacroContext ctx;
  ctx.sender = "strong-bad@email.example.com";
  ctx.local_part = "strong-bad";
  ctx.sender_domain = "email.example.com";
  ctx.domain = "email.example.com";
  auto client = parse_ip(ip);
  ctx.ip = macro_ip(*client);
  ctx.ip_v6 = client->v6;
  ctx.helo = "mx.example.org";
  return ctx;
}

TEST(SpfMacro, Rfc7208Examples) {
  const MacroContext ctx = rfc_context("192.0.2.3");
  struct Case {
    std::string macro;
    std::string expansion;
  };
  const Case cases[] = {
      {"%{s}", "strong-bad@email.example.com"},
      {"%{o}", "email.example.com"},
      {"%{d}", "email.example.com"},
      {"%{d4}", "email.example.com"},
      {"%{d3}", "email.example.com"},
      {"%{d2}", "example.com"},
      {"%{d1}", "com"},
      {"%{dr}", "com.example.email"},
      {"%{d2r}", "example.email"},
      {"%{l}", "strong-bad"},
      {"%{l-}", "strong.bad"},
      {"%{lr}", "strong-bad"},
      {"%{lr-}", "bad.strong"},
      {"%{l1r-}", "strong"},
      {"%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
      {"%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
      {"%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
      {"%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"},
      {"%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
      // Beyond the RFC's table.
      {"%{i}", "192.0.2.3"},
      {"%{h}", "mx.example.org"},
      {"%{p}", "unknown"},
      {"%%%_%-", "% %20"},
      {"%{d1000}", "email.example.com"},
      {"%{S}", "strong-bad%40email.example.com"},  // upper case: URL-escaped
      {"%{l+-}", "strong.bad"},
      {"%{s@}", ""},  // '@' is no delimiter: invalid, checked below
  };
  for (const Case& c : cases) {
    if (c.macro == "%{s@}") {
      EXPECT_FALSE(valid_macro_string(c.macro));
      EXPECT_FALSE(expand(c.macro, ctx));
      continue;
    }
    ASSERT_TRUE(valid_macro_string(c.macro)) << c.macro;
    auto got = expand(c.macro, ctx);
    ASSERT_TRUE(got) << c.macro << ": " << got.error();
    EXPECT_EQ(*got, c.expansion) << c.macro;
  }
  EXPECT_FALSE(expand("%{d0}", ctx));  // zero parts
  EXPECT_FALSE(expand("%{c}", ctx));   // exp only
}

TEST(SpfMacro, Ipv6) {
  const MacroContext ctx = rfc_context("2001:db8::cb01");
  auto got = expand("%{ir}.%{v}._spf.%{d2}", ctx);
  ASSERT_TRUE(got);
  // 2001:0db8:0000:0000:0000:0000:0000:cb01, nibbles reversed: five zero groups in the middle.
  std::string zeros;
  for (int i = 0; i < 20; ++i) zeros += "0.";
  EXPECT_EQ(*got, "1.0.b.c." + zeros + "8.b.d.0.1.0.0.2.ip6._spf.example.com");
}

TEST(SpfMacro, ExpandedNamesAreCutOnTheLeft) {
  MacroContext ctx = rfc_context("192.0.2.3");
  ctx.local_part = std::string(60, 'a') + "." + std::string(60, 'b') + "." + std::string(60, 'c') +
                   "." + std::string(60, 'd') + "." + std::string(60, 'e');
  auto got = expand_domain("%{l}.x.example.", ctx);
  ASSERT_TRUE(got);
  EXPECT_LE(got->size(), kMaxDomainLength);
  EXPECT_EQ(got->substr(0, 3), "bbb");  // the a label went
  EXPECT_TRUE(got->ends_with(".x.example"));
}

TEST(SpfAddress, ParseAndMatch) {
  auto v4 = parse_ip("192.0.2.1");
  ASSERT_TRUE(v4);
  EXPECT_FALSE(v4->v6);
  auto mapped = parse_ip("::ffff:192.0.2.1");
  ASSERT_TRUE(mapped);
  EXPECT_FALSE(mapped->v6);  // IPv4-mapped: checked as IPv4
  EXPECT_EQ(macro_ip(*mapped), "192.0.2.1");
  EXPECT_TRUE(parse_ip("::ffff:192.0.2.1", false)->v6);
  EXPECT_FALSE(parse_ip("192.0.2"));
  EXPECT_FALSE(parse_ip("example.com"));
  EXPECT_FALSE(parse_ip(""));
  auto net = parse_ip("192.0.2.128");
  EXPECT_TRUE(in_network(*v4, net->bytes, 24));
  EXPECT_FALSE(in_network(*v4, net->bytes, 25));
  EXPECT_TRUE(in_network(*v4, net->bytes, 0));
  auto v6 = parse_ip("2001:db8::1");
  auto net6 = parse_ip("2001:db8:0:0:ffff::");
  EXPECT_TRUE(in_network(*v6, net6->bytes, 64));
  EXPECT_FALSE(in_network(*v6, net6->bytes, 65));
}

TEST(SpfName, Validity) {
  EXPECT_TRUE(valid_name("example.com", true));
  EXPECT_TRUE(valid_name("example.com.", true));
  EXPECT_FALSE(valid_name("localhost", true));
  EXPECT_TRUE(valid_name("localhost", false));
  EXPECT_FALSE(valid_name("a..example", false));
  EXPECT_FALSE(valid_name(".example", false));
  EXPECT_FALSE(valid_name(std::string(64, 'a') + ".example", false));
  EXPECT_FALSE(valid_name("a b.example", false));
  EXPECT_FALSE(valid_name("", false));
}

TEST(Spf, ResultNames) {
  EXPECT_EQ(to_string(Result::none), "none");
  EXPECT_EQ(to_string(Result::neutral), "neutral");
  EXPECT_EQ(to_string(Result::pass), "pass");
  EXPECT_EQ(to_string(Result::fail), "fail");
  EXPECT_EQ(to_string(Result::softfail), "softfail");
  EXPECT_EQ(to_string(Result::temperror), "temperror");
  EXPECT_EQ(to_string(Result::permerror), "permerror");
}

// ---- check_host against a real unbound
// -----------------------------------------------------------

std::vector<std::string> zone_records() {
  std::vector<std::string> r = {
      "ip4.example. TXT \"v=spf1 ip4:192.0.2.0/24 -all\"",
      "ip4.example. TXT \"some-verification=abc\"",  // other TXT records are ignored
      "ip6.example. TXT \"v=spf1 ip6:2001:db8::/32 -all\"",
      "a.example. TXT \"v=spf1 a:host.a.example/24 -all\"",
      "host.a.example. A 192.0.2.77",
      "aself.example. TXT \"v=spf1 a -all\"",
      "aself.example. A 192.0.2.1",
      "dual.example. TXT \"v=spf1 a:host.dual.example/32//64 -all\"",
      "host.dual.example. A 192.0.2.99",
      "host.dual.example. AAAA 2001:db8::ffff:1",
      "mx.example. TXT \"v=spf1 mx -all\"",
      "mx.example. MX 10 mail.mx.example.",
      "mx.example. MX 20 backup.mx.example.",
      "mail.mx.example. A 198.51.100.7",
      "backup.mx.example. A 192.0.2.1",
      "include.example. TXT \"v=spf1 include:ip4.example -all\"",
      "redirect.example. TXT \"v=spf1 redirect=ip4.example\"",
      "softfail.example. TXT \"v=spf1 ip4:198.51.100.0/24 ~all\"",
      "neutral.example. TXT \"v=spf1 ?all\"",
      "nomatch.example. TXT \"v=spf1 ip4:198.51.100.1\"",
      "nospf.example. A 192.0.2.1",
      "other.example. TXT \"v=spf2.0/pra -all\"",
      "two.example. TXT \"v=spf1 -all\"",
      "two.example. TXT \"v=spf1 +all\"",
      "syntax.example. TXT \"v=spf1 ip4:192.0.2.300 -all\"",
      "macro.example. TXT \"v=spf1 exists:%(ir).x.example -all\"",
      "incnone.example. TXT \"v=spf1 include:nospf.example -all\"",
      "incnx.example. TXT \"v=spf1 include:missing.example -all\"",
      "redirnone.example. TXT \"v=spf1 redirect=nospf.example\"",
      "loop.example. TXT \"v=spf1 include:loop.example -all\"",
      "void2.example. TXT \"v=spf1 a:nx1.example mx:nx2.example -all\"",
      "void3.example. TXT \"v=spf1 a:nx1.example a:other.example exists:nx3.example -all\"",
      "exists.example. TXT \"v=spf1 exists:%{ir}.%{v}._spf.%{d} -all\"",
      "1.2.0.192.in-addr._spf.exists.example. A 127.0.0.2",
      "users.example. TXT \"v=spf1 exists:%{l}.u.%{o} -all\"",
      "alice.u.users.example. A 127.0.0.2",
      "helo.example. TXT \"v=spf1 exists:%{l}.%{h}.helos.example -all\"",
      "postmaster.helo.example.helos.example. A 127.0.0.2",
      "ptr.example. TXT \"v=spf1 ptr -all\"",
      // 192.0.2.10 names a host whose address leads back (validated) and one whose does not.
      "10.2.0.192.in-addr.arpa. PTR Mail.PTR.example.",
      "10.2.0.192.in-addr.arpa. PTR fake.other.example.",
      "mail.ptr.example. A 192.0.2.10",
      "mail.ptr.example. AAAA 2001:db8::10",
      "fake.other.example. A 192.0.2.99",
      "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR "
      "v6.ptr.example.",
      "v6.ptr.example. AAAA 2001:db8::1",
      "v6.ptr.example. A 192.0.2.1",
      "ptrother.example. TXT \"v=spf1 ptr:other.example -all\"",
      "ptrnamed.example. TXT \"v=spf1 ptr:ptr.example -all\"",
      "pmacro.example. TXT \"v=spf1 exists:%{p}._p.example -all\"",
      "ptrvoid.example. TXT \"v=spf1 a:nx1.example a:nx2.example ptr -all\"",
      "mail.ptr.example._p.example. A 127.0.0.2",
  };
  // 10 lookup terms that do not match, then -all; and the same with 11.
  std::string ten = "v=spf1";
  for (int i = 0; i < 10; ++i) ten += " a:host.a.example";
  r.push_back("ten.example. TXT \"" + ten + " -all\"");
  r.push_back("eleven.example. TXT \"" + ten + " mx:mx.example -all\"");
  // 11 MX names.
  r.push_back("mx11.example. TXT \"v=spf1 mx -all\"");
  for (int i = 0; i < 11; ++i) {
    r.push_back("mx11.example. MX " + std::to_string(i) + " m" + std::to_string(i) +
                ".mx11.example.");
  }
  return r;
}

class SpfDnsTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new UnboundServer(zone_records(),
                                {"example.", "2.0.192.in-addr.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa."});
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    core::DnsOptions opts;
    opts.forwarders = {server_->forwarder()};
    opts.timeout = 5s;
    auto r = core::Resolver::create(io.get_executor(), opts);
    ASSERT_TRUE(r) << r.error();
    resolver = *r;
  }

  Evaluation check(std::string ip, std::string domain, std::string sender = "",
                   std::string helo = "helo.example", Limits limits = {}) {
    if (sender.empty()) sender = "someone@" + domain;
    std::optional<Evaluation> out;
    asio::co_spawn(io, check_host(*resolver, ip, domain, sender, helo, limits),
                   [&](std::exception_ptr e, Evaluation ev) {
                     if (e) std::rethrow_exception(e);
                     out = std::move(ev);
                     io.stop();
                   });
    io.restart();
    io.run();
    if (!out) throw std::runtime_error("check_host did not complete");
    return std::move(*out);
  }

  static UnboundServer* server_;
  asio::io_context io;
  std::shared_ptr<core::Resolver> resolver;
};
UnboundServer* SpfDnsTest::server_ = nullptr;

#define EXPECT_SPF(ev, want)                                            \
  do {                                                                  \
    const Evaluation e_ = (ev);                                         \
    EXPECT_EQ(to_string(e_.result), to_string(want)) << e_.explanation; \
  } while (0)

TEST_F(SpfDnsTest, Ip4Ip6) {
  Evaluation e = check("192.0.2.1", "ip4.example");
  EXPECT_EQ(e.result, Result::pass) << e.explanation;
  EXPECT_EQ(e.domain, "ip4.example");
  EXPECT_EQ(e.explanation, "matched ip4:192.0.2.0/24 in ip4.example");
  EXPECT_SPF(check("198.51.100.1", "ip4.example"), Result::fail);
  EXPECT_SPF(check("::ffff:192.0.2.1", "ip4.example"), Result::pass);  // IPv4-mapped
  EXPECT_SPF(check("2001:db8::1", "ip4.example"), Result::fail);
  EXPECT_SPF(check("2001:db8::1", "ip6.example"), Result::pass);
  EXPECT_SPF(check("2001:db9::1", "ip6.example"), Result::fail);
  EXPECT_SPF(check("192.0.2.1", "ip6.example"), Result::fail);
  EXPECT_SPF(check("192.0.2.1", "ip4.example."), Result::pass);  // trailing dot
}

TEST_F(SpfDnsTest, AAndMx) {
  EXPECT_SPF(check("192.0.2.1", "a.example"), Result::pass);  // /24 around 192.0.2.77
  EXPECT_SPF(check("192.0.3.1", "a.example"), Result::fail);
  EXPECT_SPF(check("192.0.2.1", "aself.example"), Result::pass);
  EXPECT_SPF(check("192.0.2.2", "aself.example"), Result::fail);
  EXPECT_SPF(check("2001:db8::1", "dual.example"), Result::pass);  // //64 around the AAAA
  EXPECT_SPF(check("2001:db8:0:1::1", "dual.example"), Result::fail);
  EXPECT_SPF(check("192.0.2.1", "dual.example"), Result::fail);  // /32 of the A
  EXPECT_SPF(check("192.0.2.99", "dual.example"), Result::pass);
  EXPECT_SPF(check("192.0.2.1", "mx.example"), Result::pass);  // the second MX host
  EXPECT_SPF(check("198.51.100.7", "mx.example"), Result::pass);
  EXPECT_SPF(check("198.51.100.8", "mx.example"), Result::fail);
}

TEST_F(SpfDnsTest, IncludeAndRedirect) {
  EXPECT_SPF(check("192.0.2.1", "include.example"), Result::pass);
  EXPECT_SPF(check("198.51.100.1", "include.example"), Result::fail);
  EXPECT_SPF(check("192.0.2.1", "redirect.example"), Result::pass);
  Evaluation e = check("198.51.100.1", "redirect.example");
  EXPECT_EQ(e.result, Result::fail);
  EXPECT_EQ(e.domain, "redirect.example");  // the domain asked about, not the redirect target
}

TEST_F(SpfDnsTest, QualifiersAndDefaults) {
  EXPECT_SPF(check("192.0.2.1", "softfail.example"), Result::softfail);
  EXPECT_SPF(check("198.51.100.1", "softfail.example"), Result::pass);
  EXPECT_SPF(check("192.0.2.1", "neutral.example"), Result::neutral);
  EXPECT_SPF(check("192.0.2.1", "nomatch.example"), Result::neutral);  // no match, no redirect
  EXPECT_SPF(check("192.0.2.1", "ptr.example"), Result::fail);         // no PTR: no match
}

TEST_F(SpfDnsTest, PtrMatchesValidatedNamesOnly) {
  EXPECT_SPF(check("192.0.2.10", "ptr.example"), Result::pass);  // mail.ptr.example leads back
  EXPECT_SPF(check("192.0.2.11", "ptr.example"), Result::fail);  // NXDOMAIN PTR: no match
  EXPECT_SPF(check("192.0.2.10", "ptrnamed.example"), Result::pass);
  // fake.other.example is a PTR name of 192.0.2.10, but its address is 192.0.2.99.
  EXPECT_SPF(check("192.0.2.10", "ptrother.example"), Result::fail);
  // IPv6: the nibble name, and only AAAA records validate.
  EXPECT_SPF(check("2001:db8::1", "ptrnamed.example"), Result::pass);
  EXPECT_SPF(check("::ffff:192.0.2.10", "ptrnamed.example"), Result::pass);  // asked as IPv4
  EXPECT_SPF(check("2001:db8::10", "ptrnamed.example"), Result::fail);       // no PTR for it
  // A PTR lookup that finds nothing is a void lookup of the ptr term (RFC 7208 4.6.4).
  EXPECT_SPF(check("192.0.2.10", "ptrvoid.example"), Result::fail);
  Evaluation e = check("192.0.2.11", "ptrvoid.example");
  EXPECT_EQ(e.result, Result::permerror);
  EXPECT_EQ(e.explanation, "void lookup limit (2) exceeded at 192.0.2.11");
}

TEST_F(SpfDnsTest, PMacroIsTheValidatedName) {
  EXPECT_SPF(check("192.0.2.10", "pmacro.example"), Result::pass);  // mail.ptr.example._p
  EXPECT_SPF(check("192.0.2.11", "pmacro.example"), Result::fail);  // unknown._p.example
}

TEST_F(SpfDnsTest, None) {
  EXPECT_SPF(check("192.0.2.1", "nospf.example"), Result::none);    // NOERROR, no TXT
  EXPECT_SPF(check("192.0.2.1", "missing.example"), Result::none);  // NXDOMAIN
  EXPECT_SPF(check("192.0.2.1", "other.example"), Result::none);    // only other TXT
  EXPECT_SPF(check("192.0.2.1", "localhost"), Result::none);        // not multi-label
  EXPECT_SPF(check("192.0.2.1", "a..example"), Result::none);
  EXPECT_SPF(check("not-an-ip", "ip4.example"), Result::none);
}

TEST_F(SpfDnsTest, Permerror) {
  Evaluation e = check("192.0.2.1", "two.example");
  EXPECT_EQ(e.result, Result::permerror);
  EXPECT_EQ(e.explanation, "2 SPF records in two.example");
  EXPECT_SPF(check("192.0.2.1", "syntax.example"), Result::permerror);
  EXPECT_SPF(check("192.0.2.1", "macro.example"), Result::permerror);
  EXPECT_SPF(check("192.0.2.1", "incnone.example"), Result::permerror);  // RFC 7208 5.2
  EXPECT_SPF(check("192.0.2.1", "incnx.example"), Result::permerror);
  EXPECT_SPF(check("192.0.2.1", "redirnone.example"), Result::permerror);
  EXPECT_SPF(check("192.0.2.1", "loop.example"), Result::permerror);
  EXPECT_SPF(check("192.0.2.1", "mx11.example"), Result::permerror);
}

TEST_F(SpfDnsTest, LookupLimit) {
  EXPECT_SPF(check("192.0.2.200", "ten.example"), Result::fail);  // 10 is fine
  Evaluation e = check("192.0.2.200", "eleven.example");
  EXPECT_EQ(e.result, Result::permerror);
  EXPECT_EQ(e.explanation, "DNS lookup limit (10) exceeded");
}

TEST_F(SpfDnsTest, VoidLookupLimit) {
  EXPECT_SPF(check("192.0.2.1", "void2.example"), Result::fail);  // two voids: allowed
  Evaluation e = check("192.0.2.1", "void3.example");
  EXPECT_EQ(e.result, Result::permerror);
  EXPECT_EQ(e.explanation, "void lookup limit (2) exceeded at nx3.example");
}

TEST_F(SpfDnsTest, ExistsWithMacros) {
  EXPECT_SPF(check("192.0.2.1", "exists.example"), Result::pass);
  EXPECT_SPF(check("192.0.2.2", "exists.example"), Result::fail);
  EXPECT_SPF(check("192.0.2.9", "users.example", "alice@users.example"), Result::pass);
  EXPECT_SPF(check("192.0.2.9", "users.example", "bob@users.example"), Result::fail);
  // A local part that would make an unusable name ("a b") matches nothing, asks nothing.
  EXPECT_SPF(check("192.0.2.9", "users.example", "\"a b\"@users.example"), Result::fail);
  // HELO identity (null MAIL FROM): domain is the HELO name, sender postmaster@helo.
  EXPECT_SPF(check("192.0.2.9", "helo.example", "postmaster@helo.example", "helo.example"),
             Result::pass);
  EXPECT_SPF(check("192.0.2.9", "helo.example", "x@helo.example", "helo.example"), Result::fail);
}

TEST_F(SpfDnsTest, TimeBudget) {
  Evaluation e = check("192.0.2.1", "ip4.example", "", "helo.example", Limits{0ms});
  EXPECT_EQ(e.result, Result::temperror);
  EXPECT_EQ(e.explanation, "time budget exceeded");
}

TEST_F(SpfDnsTest, RepeatedConcurrently) {
  // Many evaluations at once on one resolver: all complete with the right answers.
  constexpr int kChecks = 40;
  int done = 0;
  int good = 0;
  for (int i = 0; i < kChecks; ++i) {
    const bool pass = i % 2 == 0;
    asio::co_spawn(
        io,
        [&, pass]() -> awaitable<void> {
          Evaluation e = co_await check_host(*resolver, pass ? "192.0.2.1" : "198.51.100.1",
                                             "include.example", "x@include.example", "h.example");
          if (e.result == (pass ? Result::pass : Result::fail)) ++good;
          if (++done == kChecks) io.stop();
        },
        asio::detached);
  }
  io.restart();
  io.run();
  EXPECT_EQ(done, kChecks);
  EXPECT_EQ(good, kChecks);
}

TEST(SpfTemperror, ForwarderNeverAnswers) {
  test::SilentPort silent;
  asio::io_context io;
  core::DnsOptions opts;
  opts.forwarders = {silent.forwarder()};
  opts.timeout = 300ms;
  auto resolver = core::Resolver::create(io.get_executor(), opts);
  ASSERT_TRUE(resolver) << resolver.error();
  std::optional<Evaluation> out;
  const auto start = std::chrono::steady_clock::now();
  asio::co_spawn(
      io, check_host(**resolver, "192.0.2.1", "slow.example", "a@slow.example", "helo.example"),
      [&](std::exception_ptr e, Evaluation ev) {
        if (e) std::rethrow_exception(e);
        out = std::move(ev);
        io.stop();
      });
  io.run();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->result, Result::temperror) << out->explanation;
  EXPECT_EQ(out->explanation, "DNS timeout for TXT slow.example");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  (*resolver)->stop();
}

// ---- ptr and %{p} (RFC 7208 5.5, 7.3) ---------------------------------------------------------

TEST(SpfPtr, WithinDomain) {
  EXPECT_TRUE(within_domain("example.com", "example.com"));
  EXPECT_TRUE(within_domain("Mail.Example.COM", "example.com"));
  EXPECT_TRUE(within_domain("a.b.example.com", "EXAMPLE.com"));
  EXPECT_FALSE(within_domain("badexample.com", "example.com"));  // a label boundary is needed
  EXPECT_FALSE(within_domain("example.com", "mail.example.com"));
  EXPECT_FALSE(within_domain("example.org", "example.com"));
}

TEST(SpfPtr, ValidatedDomainPrefersTheDomainThenASubdomain) {
  const std::vector<std::string> names{"x.other.net", "mail.example.com", "example.com"};
  EXPECT_EQ(validated_domain(names, "example.com"), "example.com");
  EXPECT_EQ(validated_domain({"x.other.net", "mail.example.com"}, "example.com"),
            "mail.example.com");
  EXPECT_EQ(validated_domain({"x.other.net", "y.other.net"}, "example.com"), "x.other.net");
  EXPECT_EQ(validated_domain({}, "example.com"), "unknown");
}

TEST(SpfPtr, PMacroUsesTheValidatedDomain) {
  MacroContext ctx = rfc_context("192.0.2.3");
  EXPECT_EQ(*expand("%{p}", ctx), "unknown");  // not looked up: "unknown"
  ctx.validated_domain = "mx.example.org";
  EXPECT_EQ(*expand("%{p}", ctx), "mx.example.org");
  EXPECT_EQ(*expand("%{p2}.x", ctx), "example.org.x");
  EXPECT_EQ(*expand("%{pr}", ctx), "org.example.mx");
}

TEST(SpfPtr, UsesPtrMacro) {
  EXPECT_TRUE(uses_ptr_macro("%{p}.check.example.com"));
  EXPECT_TRUE(uses_ptr_macro("a.%{P2r}"));
  EXPECT_FALSE(uses_ptr_macro("%{d}.%{i}"));
  EXPECT_FALSE(uses_ptr_macro("%%{p}"));  // a literal "%" then "{p}"
  EXPECT_FALSE(uses_ptr_macro("p.example.com"));
}

}  // namespace
}  // namespace govmail::smtp::spf
