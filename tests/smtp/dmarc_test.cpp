// DMARC (RFC 7489) and Authentication-Results (RFC 8601), sans-I/O: tables of input -> expected.
#include "smtp/dmarc.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace govmail::smtp {
namespace {

using dmarc::Policy;
using dmarc::Record;
using dmarc::Result;

// ---- organizational domain ---------------------------------------------------------------------

TEST(DmarcOrgDomain, Table) {
  struct Case {
    std::string in, want;
  };
  const Case cases[] = {
      {"mail.hanoi.gov.vn", "hanoi.gov.vn"},
      {"hanoi.gov.vn", "hanoi.gov.vn"},
      {"a.b.c.hanoi.gov.vn", "hanoi.gov.vn"},
      {"gov.vn", "gov.vn"},  // a public suffix answers itself
      {"shop.abc.com.vn", "abc.com.vn"},
      {"mail.hust.edu.vn", "hust.edu.vn"},
      {"a.b.example.com", "example.com"},
      {"example.com", "example.com"},
      {"x.y.bbc.co.uk", "bbc.co.uk"},
      {"bbc.co.uk", "bbc.co.uk"},
      {"co.uk", "co.uk"},
      {"com", "com"},
      {"localhost", "localhost"},
      {"example.com.", "example.com"},
      {"MAIL.Hanoi.GOV.VN.", "hanoi.gov.vn"},
      {"A.B.EXAMPLE.COM", "example.com"},
      {"x.y.unknown-tld-zz", "y.unknown-tld-zz"},  // implicit "*" rule
      {"", ""},
      {"a..b.example.com", "a..b.example.com"},  // not a domain name: itself
      {"bad name.example.com", "bad name.example.com"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(dmarc::organizational_domain(c.in), c.want) << c.in;
  }
}

TEST(DmarcLookupNames, Table) {
  using V = std::vector<std::string>;
  EXPECT_EQ(dmarc::lookup_names("mail.hanoi.gov.vn"),
            (V{"_dmarc.mail.hanoi.gov.vn", "_dmarc.hanoi.gov.vn"}));
  EXPECT_EQ(dmarc::lookup_names("Hanoi.Gov.VN."), (V{"_dmarc.hanoi.gov.vn"}));
  EXPECT_EQ(dmarc::lookup_names("a.b.example.com"),
            (V{"_dmarc.a.b.example.com", "_dmarc.example.com"}));
  EXPECT_EQ(dmarc::lookup_names("gov.vn"), (V{"_dmarc.gov.vn"}));
  EXPECT_EQ(dmarc::lookup_names(""), V{});
  EXPECT_EQ(dmarc::lookup_names("a..b"), V{});
  // 250 bytes: "_dmarc." + name is too long, only the organizational domain is asked.
  std::string longname;
  while (longname.size() < 238) longname += "abcdefghi.";
  longname += "example.com";
  ASSERT_LE(longname.size(), 253u);
  ASSERT_GT(longname.size() + 7, 253u);
  EXPECT_EQ(dmarc::lookup_names(longname), (V{"_dmarc.example.com"}));
}

// ---- record parser ---------------------------------------------------------------------------

TEST(DmarcRecord, Valid) {
  struct Case {
    std::string txt;
    Policy p;
    std::optional<Policy> sp;
    bool adkim_strict, aspf_strict;
    int pct;
    std::vector<std::string> rua;
  };
  const Case cases[] = {
      {"v=DMARC1; p=reject", Policy::reject, std::nullopt, false, false, 100, {}},
      {"v=DMARC1;p=quarantine;", Policy::quarantine, std::nullopt, false, false, 100, {}},
      {"v=DMARC1; p=none; sp=reject", Policy::none, Policy::reject, false, false, 100, {}},
      {"v = DMARC1 ;\tp = REJECT ; adkim=s; aspf=S",
       Policy::reject,
       std::nullopt,
       true,
       true,
       100,
       {}},
      {"v=DMARC1; p=reject; adkim=r; aspf=r; pct=25",
       Policy::reject,
       std::nullopt,
       false,
       false,
       25,
       {}},
      {"v=DMARC1; p=reject; pct=0", Policy::reject, std::nullopt, false, false, 0, {}},
      {"v=DMARC1; p=reject; pct=150", Policy::reject, std::nullopt, false, false, 100, {}},
      {"v=DMARC1; p=reject; pct=-1", Policy::reject, std::nullopt, false, false, 100, {}},
      {"v=DMARC1; p=reject; pct=abc", Policy::reject, std::nullopt, false, false, 100, {}},
      {"v=DMARC1; p=reject; adkim=x; aspf=", Policy::reject, std::nullopt, false, false, 100, {}},
      {"v=DMARC1; P=Reject", Policy::reject, std::nullopt, false, false, 100, {}},
      {"v=DMARC1; sp=none; p=reject", Policy::reject, Policy::none, false, false, 100, {}},
      {"v=DMARC1; p=reject; rua=mailto:d@hanoi.gov.vn, mailto:x@y.example!10m",
       Policy::reject,
       std::nullopt,
       false,
       false,
       100,
       {"mailto:d@hanoi.gov.vn", "mailto:x@y.example!10m"}},
      {"v=DMARC1; p=reject; rua=mailto:d@x.example,not a uri,:nope",
       Policy::reject,
       std::nullopt,
       false,
       false,
       100,
       {"mailto:d@x.example"}},
      {"v=DMARC1; p=reject; fo=1; rf=afrf; ri=86400; x-unknown=1; garbage",
       Policy::reject,
       std::nullopt,
       false,
       false,
       100,
       {}},
      {"v=DMARC1;  ;; p=reject ;  ", Policy::reject, std::nullopt, false, false, 100, {}},
      // p missing or invalid, rua valid: taken as p=none (RFC 7489 6.6.3 step 6)
      {"v=DMARC1; rua=mailto:d@x.example",
       Policy::none,
       std::nullopt,
       false,
       false,
       100,
       {"mailto:d@x.example"}},
      {"v=DMARC1; p=bogus; rua=mailto:d@x.example",
       Policy::none,
       std::nullopt,
       false,
       false,
       100,
       {"mailto:d@x.example"}},
      {"v=DMARC1; p=reject; sp=bogus; rua=mailto:d@x.example",
       Policy::none,
       std::nullopt,
       false,
       false,
       100,
       {"mailto:d@x.example"}},
  };
  for (const Case& c : cases) {
    auto r = dmarc::parse_record(c.txt);
    ASSERT_TRUE(r.has_value()) << c.txt;
    EXPECT_EQ(r->p, c.p) << c.txt;
    EXPECT_EQ(r->sp, c.sp) << c.txt;
    EXPECT_EQ(r->adkim_strict, c.adkim_strict) << c.txt;
    EXPECT_EQ(r->aspf_strict, c.aspf_strict) << c.txt;
    EXPECT_EQ(r->pct, c.pct) << c.txt;
    EXPECT_EQ(r->rua, c.rua) << c.txt;
  }
}

TEST(DmarcRecord, Invalid) {
  const std::string cases[] = {
      "",
      "p=reject",                                           // no v
      "p=reject; v=DMARC1",                                 // v not first
      " v=DMARC1; p=reject",                                // must start with v
      "v=DMARC2; p=reject",                                 // other version
      "v=dmarc1; p=reject",                                 // DMARC1 is case-sensitive
      "v=DMARC1 p=reject",                                  // no separator
      "v=DMARC1",                                           // no p, no rua
      "v=DMARC1;",                                          //
      "v=DMARC1; p=bogus",                                  // bad p, no rua
      "v=DMARC1; p=bogus; rua=not-a-uri",                   // bad p, rua without a valid URI
      "v=DMARC1; p=reject; sp=bogus",                       // bad sp, no rua
      "v=DMARC1; p=reject; p=none",                         // duplicate tag
      "v=DMARC1; p=reject; v=DMARC1",                       // v twice
      "v=spf1 -all",                                        //
      "v=DMARC1; p=reject; rua=" + std::string(5000, 'a'),  // over 4096 bytes
  };
  for (const std::string& c : cases) {
    EXPECT_FALSE(dmarc::parse_record(c).has_value()) << c;
  }
}

TEST(DmarcRecord, Selection) {
  using S = dmarc::Discovery::Status;
  EXPECT_EQ(dmarc::select_record({}).status, S::no_record);
  EXPECT_EQ(dmarc::select_record({"v=spf1 -all", "hello"}).status, S::no_record);
  auto one = dmarc::select_record({"v=spf1 -all", "v=DMARC1; p=quarantine"});
  EXPECT_EQ(one.status, S::record);
  ASSERT_TRUE(one.record);
  EXPECT_EQ(one.record->p, Policy::quarantine);
  auto invalid = dmarc::select_record({"v=DMARC1; p=nope"});
  EXPECT_EQ(invalid.status, S::record);
  EXPECT_FALSE(invalid.record);
  EXPECT_EQ(dmarc::select_record({"v=DMARC1; p=none", "v=DMARC1; p=reject"}).status, S::multiple);
}

// ---- evaluation ------------------------------------------------------------------------------

Record record(std::string_view txt) {
  auto r = dmarc::parse_record(txt);
  EXPECT_TRUE(r) << txt;
  return r.value_or(Record{});
}

TEST(DmarcEvaluate, Table) {
  struct Case {
    const char* name;
    dmarc::Input in;
    double sample;
    Result result;
    Policy policy;
    bool aligned_spf, aligned_dkim;
  };
  const Record reject = record("v=DMARC1; p=reject");
  const Record strict = record("v=DMARC1; p=reject; adkim=s; aspf=s");
  const Record with_sp = record("v=DMARC1; p=reject; sp=quarantine");
  const std::vector<Case> cases = {
      {"spf relaxed pass",
       {"hanoi.gov.vn", reject, false, false, false, "pass", "mail.hanoi.gov.vn", {}},
       0.5,
       Result::pass,
       Policy::none,
       true,
       false},
      {"spf strict: subdomain does not align",
       {"hanoi.gov.vn", strict, false, false, false, "pass", "mail.hanoi.gov.vn", {}},
       0.5,
       Result::fail,
       Policy::reject,
       false,
       false},
      {"spf strict exact, case and dot",
       {"Hanoi.Gov.VN", strict, false, false, false, "PASS", "hanoi.gov.vn.", {}},
       0.5,
       Result::pass,
       Policy::none,
       true,
       false},
      {"spf softfail does not count",
       {"hanoi.gov.vn", reject, false, false, false, "softfail", "hanoi.gov.vn", {}},
       0.5,
       Result::fail,
       Policy::reject,
       false,
       false},
      {"spf other org",
       {"hanoi.gov.vn", reject, false, false, false, "pass", "hue.gov.vn", {}},
       0.5,
       Result::fail,
       Policy::reject,
       false,
       false},
      {"dkim relaxed pass",
       {"mail.hanoi.gov.vn",
        reject,
        false,
        false,
        false,
        "fail",
        "x.example",
        {{"pass", "hanoi.gov.vn"}}},
       0.5,
       Result::pass,
       Policy::none,
       false,
       true},
      {"dkim strict: parent does not align",
       {"mail.hanoi.gov.vn", strict, false, false, false, "none", "", {{"pass", "hanoi.gov.vn"}}},
       0.5,
       Result::fail,
       Policy::reject,
       false,
       false},
      {"dkim strict exact among several",
       {"mail.hanoi.gov.vn",
        strict,
        false,
        false,
        false,
        "none",
        "",
        {{"fail", "mail.hanoi.gov.vn"}, {"pass", "x.example"}, {"pass", "MAIL.hanoi.gov.vn"}}},
       0.5,
       Result::pass,
       Policy::none,
       false,
       true},
      {"dkim fail with aligned d",
       {"hanoi.gov.vn", reject, false, false, false, "none", "", {{"fail", "hanoi.gov.vn"}}},
       0.5,
       Result::fail,
       Policy::reject,
       false,
       false},
      {"both aligned",
       {"hanoi.gov.vn",
        reject,
        false,
        false,
        false,
        "pass",
        "hanoi.gov.vn",
        {{"pass", "hanoi.gov.vn"}}},
       0.5,
       Result::pass,
       Policy::none,
       true,
       true},
      {"public suffix is no org: gov.vn siblings",
       {"hanoi.gov.vn", reject, false, false, false, "pass", "gov.vn", {{"pass", "evil.gov.vn"}}},
       0.5,
       Result::fail,
       Policy::reject,
       false,
       false},
      {"p=quarantine",
       {"hanoi.gov.vn", record("v=DMARC1; p=quarantine"), false, false, false, "fail", "", {}},
       0.5,
       Result::fail,
       Policy::quarantine,
       false,
       false},
      {"p=none",
       {"hanoi.gov.vn", record("v=DMARC1; p=none"), false, false, false, "fail", "", {}},
       0.5,
       Result::fail,
       Policy::none,
       false,
       false},
      {"sp for a subdomain with the org record",
       {"mail.hanoi.gov.vn", with_sp, true, false, false, "fail", "", {}},
       0.5,
       Result::fail,
       Policy::quarantine,
       false,
       false},
      {"p for the subdomain's own record",
       {"mail.hanoi.gov.vn", with_sp, false, false, false, "fail", "", {}},
       0.5,
       Result::fail,
       Policy::reject,
       false,
       false},
      {"org record without sp: p",
       {"mail.hanoi.gov.vn", reject, true, false, false, "fail", "", {}},
       0.5,
       Result::fail,
       Policy::reject,
       false,
       false},
      {"pct sampled",
       {"hanoi.gov.vn", record("v=DMARC1; p=reject; pct=30"), false, false, false, "fail", "", {}},
       0.29,
       Result::fail,
       Policy::reject,
       false,
       false},
      {"pct not sampled: reject -> quarantine",
       {"hanoi.gov.vn", record("v=DMARC1; p=reject; pct=30"), false, false, false, "fail", "", {}},
       0.30,
       Result::fail,
       Policy::quarantine,
       false,
       false},
      {"pct not sampled: quarantine -> none",
       {"hanoi.gov.vn",
        record("v=DMARC1; p=quarantine; pct=30"),
        false,
        false,
        false,
        "fail",
        "",
        {}},
       0.9,
       Result::fail,
       Policy::none,
       false,
       false},
      {"pct=0",
       {"hanoi.gov.vn",
        record("v=DMARC1; p=quarantine; pct=0"),
        false,
        false,
        false,
        "fail",
        "",
        {}},
       0.0,
       Result::fail,
       Policy::none,
       false,
       false},
      {"pct=100, sample out of range clamped",
       {"hanoi.gov.vn", reject, false, false, false, "fail", "", {}},
       7.0,
       Result::fail,
       Policy::reject,
       false,
       false},
      {"no record",
       {"hanoi.gov.vn", std::nullopt, false, false, false, "pass", "hanoi.gov.vn", {}},
       0.5,
       Result::none,
       Policy::none,
       false,
       false},
      {"temperror",
       {"hanoi.gov.vn", std::nullopt, false, true, false, "pass", "hanoi.gov.vn", {}},
       0.5,
       Result::temperror,
       Policy::none,
       false,
       false},
      {"invalid record",
       {"hanoi.gov.vn", std::nullopt, false, false, true, "pass", "", {}},
       0.5,
       Result::permerror,
       Policy::none,
       false,
       false},
      {"no From domain",
       {"", reject, false, false, false, "pass", "hanoi.gov.vn", {}},
       0.5,
       Result::permerror,
       Policy::none,
       false,
       false},
  };
  for (const Case& c : cases) {
    dmarc::Evaluation ev = dmarc::evaluate(c.in, c.sample);
    EXPECT_EQ(ev.result, c.result) << c.name << ": " << ev.reason;
    EXPECT_EQ(ev.policy, c.policy) << c.name << ": " << ev.reason;
    EXPECT_EQ(ev.aligned_spf, c.aligned_spf) << c.name;
    EXPECT_EQ(ev.aligned_dkim, c.aligned_dkim) << c.name;
    EXPECT_FALSE(ev.reason.empty()) << c.name;
  }
}

TEST(DmarcEvaluate, PctSamplingIsProportional) {
  dmarc::Input in{
      "hanoi.gov.vn", record("v=DMARC1; p=reject; pct=20"), false, false, false, "fail", "", {}};
  int full = 0;
  for (int i = 0; i < 1000; ++i) {
    if (dmarc::evaluate(in, i / 1000.0).policy == Policy::reject) ++full;
  }
  EXPECT_EQ(full, 200);
}

TEST(DmarcEvaluate, ToString) {
  EXPECT_EQ(dmarc::to_string(Result::temperror), "temperror");
  EXPECT_EQ(dmarc::to_string(Result::pass), "pass");
  EXPECT_EQ(dmarc::to_string(Policy::quarantine), "quarantine");
}

// ---- Authentication-Results --------------------------------------------------------------------

TEST(AuthResults, Format) {
  const std::vector<auth_results::Method> methods = {
      {"dkim",
       "pass",
       "",
       {{"header.d", "hanoi.gov.vn"}, {"header.s", "s2026"}, {"header.b", "AbCdEfGh"}}},
      {"spf", "pass", "", {{"smtp.mailfrom", "hanoi.gov.vn"}}},
      {"dmarc", "pass", "", {{"header.from", "hanoi.gov.vn"}}},
  };
  EXPECT_EQ(auth_results::header("mx.so.gov.vn", methods),
            "Authentication-Results: mx.so.gov.vn;\r\n"
            "\tdkim=pass header.d=hanoi.gov.vn header.s=s2026 header.b=AbCdEfGh;\r\n"
            "\tspf=pass smtp.mailfrom=hanoi.gov.vn;\r\n"
            "\tdmarc=pass header.from=hanoi.gov.vn\r\n");
  EXPECT_EQ(auth_results::header("mx.so.gov.vn", {}),
            "Authentication-Results: mx.so.gov.vn; none\r\n");
}

TEST(AuthResults, ValuesAndComments) {
  const std::vector<auth_results::Method> methods = {
      {"spf",
       "fail",
       "a (nested) \\ comment\r\nX-Injected: 1",
       {{"smtp.mailfrom", "user@x.example"}}},
      {"dkim",
       "pass",
       "",
       {{"header.b", "ab/+c="},
        {"header.d", "a\"b\\c\r\nd"},
        {"bad", "x"},
        {"header.i", "@x.example"},
        {"header.x", ""}}},
      {"bad method", "pass", "", {}},
      {"dmarc", "fail;", "", {}},
  };
  const std::string h = auth_results::header("mx.so.gov.vn", methods);
  EXPECT_EQ(h,
            "Authentication-Results: mx.so.gov.vn;\r\n"
            "\tspf=fail (a \\(nested\\) \\\\ comment  X-Injected: 1)\r\n"
            "\tsmtp.mailfrom=user@x.example;\r\n"
            "\tdkim=pass header.b=\"ab/+c=\" header.d=\"a\\\"b\\\\c??d\" header.i=@x.example\r\n"
            "\theader.x=\"\"\r\n");
}

TEST(AuthResults, FoldsUnder78AndBoundsLength) {
  std::vector<auth_results::Method> methods;
  for (int i = 0; i < 100; ++i) {
    methods.push_back({"dkim",
                       "fail",
                       std::string(500, 'c'),
                       {{"header.d", std::string(40, 'd') + ".example"},
                        {"header.s", std::string(30, 's')},
                        {"header.b", std::string(1000, 'b')}}});
  }
  const std::string h = auth_results::header("mx.so.gov.vn", methods);
  std::size_t lines = 0, start = 0;
  while (start < h.size()) {
    std::size_t crlf = h.find("\r\n", start);
    ASSERT_NE(crlf, std::string::npos);
    const std::string line = h.substr(start, crlf - start);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(line.find('\r'), std::string::npos);
    EXPECT_LT(line.size(), 998u);
    // A line over 78 holds a single part that cannot be split.
    if (line.size() > 78) {
      EXPECT_EQ(line.find(' '), std::string::npos) << line;
    }
    ++lines;
    start = crlf + 2;
  }
  EXPECT_EQ(lines, 1 + 64 * 5u);  // at most 64 methods, 5 lines each here
  // Short parts share a line.
  const std::string small = auth_results::header(
      "mx.so.gov.vn",
      {{"spf",
        "pass",
        "",
        {{"smtp.mailfrom", std::string(60, 'a') + ".example"}, {"smtp.helo", "b.example"}}}});
  EXPECT_EQ(small, "Authentication-Results: mx.so.gov.vn;\r\n\tspf=pass\r\n\tsmtp.mailfrom=" +
                       std::string(60, 'a') + ".example\r\n\tsmtp.helo=b.example\r\n");
}

TEST(AuthResults, StripOwn) {
  const std::string message =
      "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
      "Authentication-Results: mx.so.gov.vn; spf=pass smtp.mailfrom=evil.example\r\n"
      "authentication-results: MX.SO.GOV.VN.;\r\n"
      "\tdkim=pass header.d=hanoi.gov.vn;\r\n"
      " dmarc=pass header.from=hanoi.gov.vn\r\n"
      "Authentication-Results: (comment) \"mx.so.gov.vn\"; dkim=pass\r\n"
      "Authentication-Results:\r\n mx.so.gov.vn; dkim=pass\r\n"
      "Authentication-Results : mx.so.gov.vn; dkim=pass\r\n"
      "Authentication-Results: mx.so.gov.vn/1; dkim=pass\r\n"
      "Authentication-Results: mx.other.example (via mx.so.gov.vn); spf=pass\r\n"
      "Authentication-Results: mx.so.gov.vn.example; spf=pass\r\n"
      "X-Note: Authentication-Results: mx.so.gov.vn; spf=pass\r\n"
      "Subject: hi\r\n"
      "  folded subject\r\n"
      "\r\n"
      "Authentication-Results: mx.so.gov.vn; in the body\r\n";
  EXPECT_EQ(auth_results::strip_own(message, "mx.so.gov.vn"),
            "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
            "Authentication-Results: mx.other.example (via mx.so.gov.vn); spf=pass\r\n"
            "Authentication-Results: mx.so.gov.vn.example; spf=pass\r\n"
            "X-Note: Authentication-Results: mx.so.gov.vn; spf=pass\r\n"
            "Subject: hi\r\n"
            "  folded subject\r\n"
            "\r\n"
            "Authentication-Results: mx.so.gov.vn; in the body\r\n");
}

TEST(AuthResults, StripOwnEdges) {
  // Nothing of ours: byte-exact, whatever the line endings.
  const std::string others = "A: 1\nAuthentication-Results: x.example; none\n\nbody\r\n\r\n";
  EXPECT_EQ(auth_results::strip_own(others, "mx.so.gov.vn"), others);
  // LF endings, last field ours.
  EXPECT_EQ(auth_results::strip_own("A: 1\nAuthentication-Results: mx.so.gov.vn; none\n\nb\n",
                                    "mx.so.gov.vn"),
            "A: 1\n\nb\n");
  // No body, no final line break.
  EXPECT_EQ(
      auth_results::strip_own("A: 1\r\nAuthentication-Results: mx.so.gov.vn; none", "mx.so.gov.vn"),
      "A: 1\r\n");
  EXPECT_EQ(auth_results::strip_own("", "mx.so.gov.vn"), "");
  // An empty own id strips nothing.
  const std::string empty_id = "Authentication-Results: ; none\r\n\r\n";
  EXPECT_EQ(auth_results::strip_own(empty_id, ""), empty_id);
  // Unbalanced comment: the id is inside it, kept; an unterminated quoted-string holding our id
  // is removed (removing too much is harmless, too little is not).
  const std::string broken =
      "Authentication-Results: (mx.so.gov.vn; none\r\n"
      "Authentication-Results: \"mx.so.gov.vn\\\r\n\r\n";
  EXPECT_EQ(auth_results::strip_own(broken, "mx.so.gov.vn"),
            "Authentication-Results: (mx.so.gov.vn; none\r\n\r\n");
  // Our own header round-trips: strip_own(header + rest) == rest.
  const std::string ours = auth_results::header("mx.so.gov.vn", {{"spf", "pass", "c", {}}});
  EXPECT_EQ(auth_results::strip_own(ours + "B: 2\r\n\r\nx", "MX.so.gov.vn"), "B: 2\r\n\r\nx");
}

}  // namespace
}  // namespace govmail::smtp
