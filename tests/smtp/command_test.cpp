// Tables of wire strings -> parsed commands (STYLE.md 16).
#include <gtest/gtest.h>

#include <algorithm>

#include "smtp/command.hpp"
#include "smtp/headers.hpp"
#include "smtp/reply.hpp"

namespace govmail::smtp {
namespace {

TEST(SmtpCommand, VerbsAreCaseInsensitiveAndArgsTrimmed) {
  struct Case {
    const char* line;
    Verb verb;
    const char* arg;
  } cases[] = {
      {"EHLO client.example", Verb::ehlo, "client.example"},
      {"ehlo   client.example  ", Verb::ehlo, "client.example"},
      {"HeLo x", Verb::helo, "x"},
      {"MAIL FROM:<a@b.c>", Verb::mail, "FROM:<a@b.c>"},
      {"rcpt to:<a@b.c>", Verb::rcpt, "to:<a@b.c>"},
      {"DATA", Verb::data, ""},
      {"BDAT 10 LAST", Verb::bdat, "10 LAST"},
      {"STARTTLS", Verb::starttls, ""},
      {"AUTH PLAIN AGFAYg==", Verb::auth, "PLAIN AGFAYg=="},
      {"QUIT", Verb::quit, ""},
      {"XYZZY", Verb::unknown, ""},
      {"", Verb::unknown, ""},
      {"DATAX", Verb::unknown, ""},
  };
  for (const auto& c : cases) {
    auto cmd = parse_command(c.line);
    EXPECT_EQ(cmd.verb, c.verb) << c.line;
    EXPECT_EQ(cmd.arg, c.arg) << c.line;
  }
}

TEST(SmtpCommand, MailFromWithParameters) {
  auto m = parse_mail_from(
      "FROM:<Nguyen.Van.A@So-TTTT.gov.vn> SIZE=12345 BODY=8BITMIME SMTPUTF8 "
      "RET=hdrs ENVID=QQ+2B1");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->address, "Nguyen.Van.A@So-TTTT.gov.vn");
  EXPECT_EQ(m->size, 12345u);
  EXPECT_EQ(m->body, Body::eight_bit_mime);
  EXPECT_TRUE(m->smtputf8);
  EXPECT_EQ(m->ret, "HDRS");
  EXPECT_EQ(m->envid, "QQ+2B1");

  auto null_path = parse_mail_from("FROM:<>");
  ASSERT_TRUE(null_path.ok());
  EXPECT_EQ(null_path->address, "");
  auto spaced = parse_mail_from("FROM: <a@b.c>");
  ASSERT_TRUE(spaced.ok());
  EXPECT_EQ(spaced->address, "a@b.c");
  auto routed = parse_mail_from("FROM:<@relay.example:a@b.c>");
  ASSERT_TRUE(routed.ok());
  EXPECT_EQ(routed->address, "a@b.c");
  auto quoted = parse_mail_from("FROM:<\"john doe>\"@b.c>");
  ASSERT_TRUE(quoted.ok());
  EXPECT_EQ(quoted->address, "\"john doe>\"@b.c");
}

TEST(SmtpCommand, MailFromRefusals) {
  struct Case {
    const char* arg;
    int code;
    const char* enhanced;
  } cases[] = {
      {"FROM:a@b.c", 501, "5.5.4"},
      {"TO:<a@b.c>", 501, "5.5.4"},
      {"FROM:<a@b.c", 501, "5.5.4"},
      {"FROM:<a@b.c>x", 501, "5.5.4"},
      {"FROM:<a b@c.d>", 553, "5.1.7"},
      {"FROM:<a..b@c.d>", 553, "5.1.7"},
      {"FROM:<ab@-c.d>", 553, "5.1.7"},
      {"FROM:<@b.c>", 501, "5.5.4"},
      {"FROM:<a@b.c> SIZE=abc", 501, "5.5.4"},
      {"FROM:<a@b.c> BODY=BINARYMIME", 555, "5.5.4"},
      {"FROM:<a@b.c> FOO=1", 555, "5.5.4"},
      {"FROM:<a@b.c> RET=SOME", 501, "5.5.4"},
      {"FROM:<a@b.c> ENVID=a=b", 501, "5.5.4"},
      {"FROM:<a@b.c> ENVID=a+zz", 501, "5.5.4"},
  };
  for (const auto& c : cases) {
    auto m = parse_mail_from(c.arg);
    ASSERT_FALSE(m.ok()) << c.arg;
    EXPECT_EQ(m.error().code, c.code) << c.arg;
    EXPECT_EQ(m.error().enhanced, c.enhanced) << c.arg;
  }
}

TEST(SmtpCommand, RcptToWithDsn) {
  auto r = parse_rcpt_to("TO:<b@c.d> NOTIFY=success,Failure ORCPT=rfc822;b@c.d");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->address, "b@c.d");
  EXPECT_EQ(r->notify, "SUCCESS,FAILURE");
  EXPECT_EQ(r->orcpt, "rfc822;b@c.d");
  EXPECT_TRUE(parse_rcpt_to("TO:<Postmaster>").ok());
  auto utf8 = parse_rcpt_to("TO:<nguyễn@bộ.gov.vn>");
  ASSERT_TRUE(utf8.ok());
  EXPECT_FALSE(is_ascii(utf8->address));
  for (const char* bad : {"TO:<b@c.d> NOTIFY=NEVER,SUCCESS", "TO:<b@c.d> NOTIFY=SOMETIMES",
                          "TO:<b@c.d> NOTIFY=SUCCESS,", "TO:<b@c.d> ORCPT=b@c.d",
                          "TO:<b@c.d> SIZE=1", "TO:<bc.d>", "TO:<>"})
    EXPECT_FALSE(parse_rcpt_to(bad).ok()) << bad;
}

TEST(SmtpCommand, Bdat) {
  auto b = parse_bdat("1024 LAST");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->size, 1024u);
  EXPECT_TRUE(b->last);
  EXPECT_FALSE(parse_bdat("12")->last);
  EXPECT_EQ(parse_bdat("0 last")->size, 0u);
  for (const char* bad : {"", "x", "-1", "12 FIRST", "99999999999999999999", "1 2"})
    EXPECT_FALSE(parse_bdat(bad)) << bad;
}

TEST(SmtpReply, WireFormat) {
  EXPECT_EQ((Reply{250, "2.1.0", "Ok"}.wire()), "250 2.1.0 Ok\r\n");
  EXPECT_EQ((Reply{550, "5.1.1", "a\r\nb"}.wire()), "550 5.1.1 ab\r\n");
  EXPECT_EQ(multiline(250, "", {"host", "PIPELINING", "SMTPUTF8"}),
            "250-host\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n");
}

TEST(SmtpHeaders, FromAddresses) {
  struct Case {
    const char* message;
    std::vector<std::string> want;
  } cases[] = {
      {"From: a@b.c\r\nTo: x@y.z\r\n\r\nFrom: body@x.y\r\n", {"a@b.c"}},
      {"Subject: x\r\nfrom: \"Nguyễn, Văn\" <nv@b.c> (work)\r\n\r\n", {"nv@b.c"}},
      {"From: A <a@b.c>,\r\n\tB <b@b.c>\r\n\r\n", {"a@b.c", "b@b.c"}},
      {"From: a@b.c (comment <x@y.z>)\n\n", {"a@b.c"}},
      {"From: team: a@b.c, b@b.c;\r\n\r\n", {"a@b.c", "b@b.c"}},
      {"To: a@b.c\r\n\r\n", {}},
      {"From: a@b.c\r\nFrom: d@e.f\r\n\r\n", {"a@b.c", "d@e.f"}},
  };
  for (const auto& c : cases) EXPECT_EQ(header_addresses(c.message, "From"), c.want) << c.message;
}

// Domains named by the sender fields, "field:how:domain" (a = address, n = display name,
// u = unparseable field).
std::vector<std::string> named(std::string_view message) {
  std::vector<std::string> out;
  for (const auto& d : sender_fields(message).domains) {
    const char how = d.how == Naming::address ? 'a' : d.how == Naming::display_name ? 'n' : 'u';
    out.push_back(d.field + ":" + how + ":" + d.domain);
  }
  return out;
}

TEST(SmtpHeaders, SenderFieldsNameEveryDomainAsDisplayed) {
  using V = std::vector<std::string>;
  EXPECT_EQ(named("From: boss@ local.gov.vn\r\n\r\n"), V{"From:a:local.gov.vn"});
  EXPECT_EQ(named("From: Boss <boss@\r\n local.gov.vn>\r\n\r\n"), V{"From:a:local.gov.vn"});
  EXPECT_EQ(named("From: boss(x)@LOCAL.Gov.VN.\r\n\r\n"), V{"From:a:local.gov.vn"});
  EXPECT_EQ(named("From: \"boss\"@local.gov.vn\r\n\r\n"), V{"From:a:local.gov.vn"});
  EXPECT_EQ(named("From: Team: a@x.vn, boss@local.gov.vn;\r\n\r\n"),
            (V{"From:a:x.vn", "From:a:local.gov.vn"}));
  EXPECT_EQ(named("From: <@relay.vn:boss@local.gov.vn>\r\n\r\n"),
            (V{"From:a:local.gov.vn", "From:n:relay.vn"}));  // the route's text counts too
  EXPECT_EQ(named("From: =?UTF-8?Q?boss=40local.gov.vn?= <x@evil.vn>\r\n\r\n"),
            (V{"From:n:local.gov.vn", "From:a:evil.vn"}));
  EXPECT_EQ(named("From: x@evil.vn (boss@local.gov.vn)\r\n\r\n"),
            (V{"From:n:local.gov.vn", "From:a:evil.vn"}));
  EXPECT_EQ(named("From: a@x.vn\r\nSender: boss@local.gov.vn\r\n"
                  "Reply-To: r@local.gov.vn\r\n\r\n"),
            (V{"From:a:x.vn", "Sender:a:local.gov.vn"}));  // each domain once
  EXPECT_EQ(named("From: a@x.vn\r\nReply-To: r@local.gov.vn\r\n\r\n"),
            (V{"From:a:x.vn", "Reply-To:a:local.gov.vn"}));
  EXPECT_EQ(named("From: boss@\xEF\xBD\x8Cocal.gov.vn\r\n\r\n"), V{"From:a:local.gov.vn"});
  EXPECT_EQ(named("From: a@x.vn\r\n\r\nFrom: boss@local.gov.vn\r\n"), V{"From:a:x.vn"});
  EXPECT_EQ(named("From: A <a@x.vn> (boss@local.gov.vn)\r\n\r\n"),
            (V{"From:a:x.vn", "From:n:local.gov.vn"}));
  EXPECT_EQ(named("From: A <a@x.vn> (=?UTF-8?Q?boss=40local.gov.vn?=)\r\n\r\n"),
            (V{"From:a:x.vn", "From:n:local.gov.vn"}));
  EXPECT_EQ(named("From: =?UTF-8?B?Ym9zc++8oGxvY2FsLmdvdi52bg==?= <x@evil.vn>\r\n\r\n"),
            (V{"From:n:local.gov.vn", "From:a:evil.vn"}));  // full-width @
  EXPECT_EQ(named("From: boss@local\xE3\x80\x82gov\xE3\x80\x82vn\r\n\r\n"),
            V{"From:a:local.gov.vn"});  // ideographic full stops
}

TEST(SmtpHeaders, UnparseableSenderFieldsNameEveryDomainLikeText) {
  auto names_local = [](const std::vector<std::string>& v) {
    return std::any_of(v.begin(), v.end(), [](const std::string& d) {
      return d.size() > 13 && d.substr(d.size() - 13) == ":local.gov.vn";
    });
  };
  for (const std::string& m : {std::string("From: boss@local.gov.vn@evil.vn\r\n\r\n"),
                               std::string("From: <boss@loc(x)al.gov.vn\r\n\r\n"),
                               std::string("From: boss@local") + '\0' + ".gov.vn\r\n\r\n",
                               std::string("From: \"boss@local.gov.vn\r\n\r\n"),
                               std::string("From: (boss@local.gov.vn\r\n\r\n"),
                               std::string("Sender: a\\b@local.gov.vn\r\n\r\n")})
    EXPECT_TRUE(names_local(named(m))) << m;
  EXPECT_EQ(named("From: \"boss@local.gov.vn\r\n\r\n"),
            std::vector<std::string>{"From:n:local.gov.vn"});  // after an '@' in the field's text
  const SenderFields f = sender_fields("From: a@b.vn\r\nFrom: c@d.vn\r\nSender: x\r\n\r\n");
  EXPECT_EQ(f.from_fields, 2u);
  EXPECT_EQ(f.from, (std::vector<std::string>{"a@b.vn", "c@d.vn"}));
  EXPECT_TRUE(f.from_valid);
  EXPECT_FALSE(f.sender_valid);
}

}  // namespace
}  // namespace govmail::smtp
