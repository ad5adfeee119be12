// The POP3 wire pieces: command lines, numbers, unique-ids, dot-stuffing (RETR and TOP) and
// SASL PLAIN responses.
#include "pop3/proto.hpp"

#include <gtest/gtest.h>

namespace govmail::pop3 {
namespace {

TEST(Pop3Proto, CommandKeywordIsUpperCasedAndArgumentsSplit) {
  auto c = parse_command("retr 12");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->keyword, "RETR");
  ASSERT_EQ(c->args.size(), 1u);
  EXPECT_EQ(c->args[0], "12");
  auto t = parse_command("TOP  3   10");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->args, (std::vector<std::string>{"3", "10"}));
}

TEST(Pop3Proto, PassKeepsTheWholeRestOfTheLine) {
  auto c = parse_command("PASS correct horse  battery");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->rest, "correct horse  battery");
}

TEST(Pop3Proto, BadLinesHaveAReason) {
  EXPECT_EQ(parse_command("").error(), "Empty command");
  EXPECT_EQ(parse_command("RETRIEVE 1").error(), "Unknown command");
  EXPECT_EQ(parse_command("R3TR 1").error(), "Unknown command");
  EXPECT_EQ(parse_command(std::string("USER a\0b", 8)).error(),
            "Control character in command line");
  EXPECT_EQ(parse_command("USER a\rb").error(), "Control character in command line");
}

TEST(Pop3Proto, NumbersAreDigitsOnly) {
  EXPECT_EQ(parse_number("42"), 42u);
  EXPECT_EQ(parse_number("0"), 0u);
  EXPECT_FALSE(parse_number(""));
  EXPECT_FALSE(parse_number("-1"));
  EXPECT_FALSE(parse_number("+1"));
  EXPECT_FALSE(parse_number("1x"));
  EXPECT_FALSE(parse_number("1234567890"));  // 10 digits: could overflow
}

TEST(Pop3Proto, UniqueIdIsUidThenUidvalidityInHex) {
  EXPECT_EQ(unique_id(0x5f00a1b2, 7), "000000075F00A1B2");
  EXPECT_EQ(unique_id(1, 0xffffffff), "FFFFFFFF00000001");
}

TEST(Pop3Proto, RetrStuffsDotsAtLineStartsOnly) {
  EXPECT_EQ(dot_stuffed("a\r\n.b\r\n..\r\nc.d\r\n.\r\n"), "a\r\n..b\r\n...\r\nc.d\r\n..\r\n.\r\n");
  EXPECT_EQ(dot_stuffed(".first\r\n"), "..first\r\n.\r\n");
}

TEST(Pop3Proto, RetrEndsWithCrlfBeforeTheTerminator) {
  EXPECT_EQ(dot_stuffed("no newline"), "no newline\r\n.\r\n");
  EXPECT_EQ(dot_stuffed("bare lf\n"), "bare lf\n\r\n.\r\n");
  EXPECT_EQ(dot_stuffed(""), ".\r\n");
}

TEST(Pop3Proto, RetrKeepsEightBitAndBareLfBytes) {
  const std::string msg = "Subject: \xe1\xba\xa1\r\n\r\nbody\nline\x80\xff\r\n";
  EXPECT_EQ(dot_stuffed(msg), msg + ".\r\n");
}

TEST(Pop3Proto, TopSendsTheHeaderAndNBodyLines) {
  const std::string msg = "A: 1\r\nB: 2\r\n\r\nl1\r\n.l2\r\nl3\r\n";
  EXPECT_EQ(dot_stuffed(msg, 0), "A: 1\r\nB: 2\r\n\r\n.\r\n");
  EXPECT_EQ(dot_stuffed(msg, 2), "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n.\r\n");
  EXPECT_EQ(dot_stuffed(msg, 99), dot_stuffed(msg));
  EXPECT_EQ(dot_stuffed("A: 1\r\nno body", 5), "A: 1\r\nno body\r\n.\r\n");
}

TEST(Pop3Proto, StuffingFedInPiecesEqualsWhole) {
  const std::string msg = "X: y\r\n\r\n.a\r\n\r\n.\r\n..b\r\nc\r\nend";
  for (std::optional<std::uint64_t> top :
       {std::optional<std::uint64_t>{}, std::optional<std::uint64_t>{2}}) {
    std::string out;
    DotStuffer d(top);
    for (char ch : msg)
      if (!d.feed(std::string_view(&ch, 1), out)) break;
    d.finish(out);
    EXPECT_EQ(out, dot_stuffed(msg, top));
  }
}

TEST(Pop3Proto, SaslPlainHasThreeParts) {
  auto c = decode_sasl_plain("AHVzZXIAcGFzcyB3b3Jk");  // "\0user\0pass word"
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->authzid, "");
  EXPECT_EQ(c->authcid, "user");
  EXPECT_EQ(c->password, "pass word");
  EXPECT_EQ(decode_sasl_plain("dXNlcg==").error(), "Invalid PLAIN response");  // "user"
  EXPECT_EQ(decode_sasl_plain("not base64!").error(), "Invalid base64");
}

}  // namespace
}  // namespace govmail::pop3
