// MTA-STS (RFC 8461): the TXT record, the policy file and MX pattern matching.
#include "smtp/mta_sts.hpp"

#include <gtest/gtest.h>

namespace govmail::smtp::mta_sts {
namespace {

TEST(MtaStsRecord, ValidRecords) {
  EXPECT_EQ(parse_record("v=STSv1; id=20260101T000000"), "20260101T000000");
  EXPECT_EQ(parse_record("v=STSv1;id=abc123;"), "abc123");
  EXPECT_EQ(parse_record("v=STSv1; id=abc ; "), "abc");
  EXPECT_EQ(parse_record("v=STSv1; ext=some.value; id=X1"), "X1");
  EXPECT_EQ(parse_record("v=STSv1;\tid=a"), "a");
  EXPECT_EQ(parse_record("v=STSv1; id=" + std::string(32, 'z')), std::string(32, 'z'));
}

TEST(MtaStsRecord, InvalidRecords) {
  EXPECT_FALSE(parse_record(""));
  EXPECT_FALSE(parse_record("v=STSv1"));                              // no id
  EXPECT_FALSE(parse_record("v=STSv1;"));                             // no id
  EXPECT_FALSE(parse_record("v=STSv1; ext=1"));                       // no id
  EXPECT_FALSE(parse_record(" v=STSv1; id=a"));                       // v must come first
  EXPECT_FALSE(parse_record("id=a; v=STSv1"));                        // v must come first
  EXPECT_FALSE(parse_record("v=stsv1; id=a"));                        // case-sensitive
  EXPECT_FALSE(parse_record("v=STSv1 id=a"));                         // no delimiter
  EXPECT_FALSE(parse_record("v=STSv1; id="));                         // empty id
  EXPECT_FALSE(parse_record("v=STSv1; id=a-b"));                      // id is letters and digits
  EXPECT_FALSE(parse_record("v=STSv1; id=" + std::string(33, 'z')));  // at most 32
  EXPECT_FALSE(parse_record("v=STSv1; id=a;; x=1"));                  // empty field
  EXPECT_FALSE(parse_record("v=STSv1; id=a; bad"));                   // field without '='
  EXPECT_FALSE(parse_record("v=STSv1; id=a; _x=1"));   // extension name starts with a letter
  EXPECT_FALSE(parse_record("v=STSv1; id=a; x=a=b"));  // '=' not in an extension value
}

TEST(MtaStsRecord, Selection) {
  using S = Discovery::Status;
  EXPECT_EQ(select_record({}).status, S::none);
  EXPECT_EQ(select_record({"v=spf1 -all", "hello"}).status, S::none);
  auto one = select_record({"v=spf1 -all", "v=STSv1; id=42"});
  EXPECT_EQ(one.status, S::record);
  EXPECT_EQ(one.id, "42");
  // Two STS records, even identical: no policy (RFC 8461 3.1).
  EXPECT_EQ(select_record({"v=STSv1; id=1", "v=STSv1; id=1"}).status, S::multiple);
  EXPECT_EQ(select_record({"v=STSv1; id=1", "v=STSv1; id=bad-id"}).status, S::multiple);
  EXPECT_EQ(select_record({"v=STSv1; id=bad-id"}).status, S::invalid);
  // Another version is not ours and does not count.
  auto v10 = select_record({"v=STSv10; id=1", "v=STSv1; id=2"});
  EXPECT_EQ(v10.status, S::record);
  EXPECT_EQ(v10.id, "2");
}

constexpr std::string_view kPolicy =
    "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.Example.NET\r\n"
    "max_age: 604800\r\n";

TEST(MtaStsPolicy, Valid) {
  auto p = parse_policy(kPolicy);
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->mode, Mode::enforce);
  EXPECT_EQ(p->mx, (std::vector<std::string>{"mail.example.com", "*.example.net"}));
  EXPECT_EQ(p->max_age, 604800);

  // LF endings, no final newline, fields in another order, spaces after ':', unknown keys.
  auto q = parse_policy(
      "mode:testing\nversion:   STSv1\nmx: a.b\nfoo_bar: anything at all\n"
      "max_age: 86400 ");
  ASSERT_TRUE(q) << q.error();
  EXPECT_EQ(q->mode, Mode::testing);
  EXPECT_EQ(q->max_age, 86400);

  // mode none needs no mx.
  auto none = parse_policy("version: STSv1\nmode: none\nmax_age: 0\n\n");
  ASSERT_TRUE(none) << none.error();
  EXPECT_EQ(none->mode, Mode::none);
  EXPECT_TRUE(none->mx.empty());
}

TEST(MtaStsPolicy, MaxAgeBounded) {
  auto p = parse_policy("version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 9999999999\n");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->max_age, kMaxAge);
  EXPECT_FALSE(parse_policy("version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 99999999999\n"));
  EXPECT_FALSE(parse_policy("version: STSv1\nmode: enforce\nmx: a.b\nmax_age: -1\n"));
  EXPECT_FALSE(parse_policy("version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 1d\n"));
}

TEST(MtaStsPolicy, Invalid) {
  const std::string base = "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 100\n";
  EXPECT_TRUE(parse_policy(base));
  EXPECT_FALSE(parse_policy(""));
  EXPECT_FALSE(parse_policy("mode: enforce\nmx: a.example\nmax_age: 100\n"));    // no version
  EXPECT_FALSE(parse_policy("version: STSv1\nmx: a.example\nmax_age: 100\n"));   // no mode
  EXPECT_FALSE(parse_policy("version: STSv1\nmode: enforce\nmx: a.example\n"));  // no max_age
  EXPECT_FALSE(parse_policy("version: STSv1\nmode: enforce\nmax_age: 100\n"));   // no mx
  EXPECT_FALSE(parse_policy("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 100\n"));
  EXPECT_FALSE(parse_policy("version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 100\n"));
  // Keys are case-sensitive: "Version" is an unknown key, so there is no version.
  EXPECT_FALSE(parse_policy("Version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 100\n"));
  EXPECT_FALSE(parse_policy(base + "mode: testing\n"));  // twice
  EXPECT_FALSE(parse_policy(base + "garbage line\n"));
  EXPECT_FALSE(parse_policy(base + "mx: *.*.example\n"));
  EXPECT_FALSE(parse_policy(base + "mx: mail.example.\n"));
  EXPECT_FALSE(parse_policy(base + "mx: -bad.example\n"));
  EXPECT_FALSE(parse_policy(base + "mx: a*.example\n"));
  EXPECT_FALSE(parse_policy(base + "x: \x01\n"));
  EXPECT_FALSE(parse_policy(base + std::string(kMaxPolicyBytes, '\n')));
}

TEST(MtaStsMx, Patterns) {
  EXPECT_TRUE(mx_matches("mail.example.com", "mail.example.com"));
  EXPECT_TRUE(mx_matches("mail.example.com", "MAIL.Example.com."));
  EXPECT_FALSE(mx_matches("mail.example.com", "mail2.example.com"));
  EXPECT_FALSE(mx_matches("mail.example.com", "x.mail.example.com"));
  // The wildcard stands for exactly one left-most label (RFC 8461 4.1).
  EXPECT_TRUE(mx_matches("*.example.com", "mx1.example.com"));
  EXPECT_TRUE(mx_matches("*.example.com", "MX1.EXAMPLE.COM"));
  EXPECT_FALSE(mx_matches("*.example.com", "example.com"));
  EXPECT_FALSE(mx_matches("*.example.com", "a.b.example.com"));
  EXPECT_FALSE(mx_matches("*.example.com", ".example.com"));
  EXPECT_FALSE(mx_matches("*.example.com", "mx1.example.com.evil"));
  EXPECT_FALSE(mx_matches("*.example.com", "mx1-example.com"));
  EXPECT_FALSE(mx_matches("", ""));

  auto p = parse_policy(kPolicy);
  ASSERT_TRUE(p);
  EXPECT_TRUE(allows_mx(*p, "mail.example.com"));
  EXPECT_TRUE(allows_mx(*p, "mx7.example.net"));
  EXPECT_FALSE(allows_mx(*p, "mx7.example.com"));
  EXPECT_FALSE(allows_mx(*p, "example.net"));
}

}  // namespace
}  // namespace govmail::smtp::mta_sts
