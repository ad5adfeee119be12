#include "core/line_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace govmail::core {
namespace {

// One event rendered as text so a whole session compares as a vector: "L:text", "L*:text"
// (bare LF involved), "TOOLONG".
std::string render(const LineReader::Event& e) {
  switch (e.kind) {
    case LineReader::Kind::line:
      return (e.bare_lf ? "L*:" : "L:") + std::string(e.text);
    case LineReader::Kind::too_long:
      return "TOOLONG";
    case LineReader::Kind::need_more:
      return "MORE";
  }
  return "?";
}

std::vector<std::string> drain(LineReader& r) {
  std::vector<std::string> out;
  for (auto e = r.next(); e.kind != LineReader::Kind::need_more; e = r.next()) {
    out.push_back(render(e));
  }
  return out;
}

std::vector<std::string> feed_whole(LineReader r, std::string_view input) {
  r.feed(input);
  return drain(r);
}

std::vector<std::string> feed_bytewise(LineReader r, std::string_view input) {
  std::vector<std::string> out;
  for (char c : input) {
    r.feed(std::string_view(&c, 1));
    for (auto& s : drain(r)) out.push_back(s);
  }
  return out;
}

struct Case {
  const char* name;
  std::string input;
  std::size_t max_line;
  LineEnding ending;
  std::vector<std::string> expected;
};

const std::vector<Case>& cases() {
  using V = std::vector<std::string>;
  static const std::vector<Case> table = {
      {"empty", "", 10, LineEnding::crlf_or_lf, V{}},
      {"one_line", "EHLO x\r\n", 10, LineEnding::crlf_or_lf, V{"L:EHLO x"}},
      {"partial_kept", "EHLO x\r\nMAIL", 10, LineEnding::crlf_or_lf, V{"L:EHLO x"}},
      {"empty_line", "\r\n\r\n", 10, LineEnding::crlf_or_lf, V{"L:", "L:"}},
      {"two_lines", "A\r\nB\r\n", 10, LineEnding::crlf_or_lf, V{"L:A", "L:B"}},
      {"bare_lf_accepted", "A\nB\r\n", 10, LineEnding::crlf_or_lf, V{"L*:A", "L:B"}},
      {"bare_lf_kept_in_crlf_only", "A\nB\r\nC\r\n", 10, LineEnding::crlf_only,
       V{"L*:A\nB", "L:C"}},
      {"smuggling_dot_not_a_line", "x\n.\nz\r\n", 10, LineEnding::crlf_only, V{"L*:x\n.\nz"}},
      {"cr_inside_line", "A\rB\r\n", 10, LineEnding::crlf_or_lf, V{"L:A\rB"}},
      {"nul_passed_through", std::string("A\0B\r\n", 5), 10, LineEnding::crlf_or_lf,
       V{std::string("L:A\0B", 5)}},
      {"exactly_max", "0123456789\r\n", 10, LineEnding::crlf_or_lf, V{"L:0123456789"}},
      {"max_plus_one", "0123456789X\r\nok\r\n", 10, LineEnding::crlf_or_lf, V{"TOOLONG", "L:ok"}},
      {"too_long_reported_once", std::string(100, 'a') + "\r\nnext\r\n", 10, LineEnding::crlf_or_lf,
       V{"TOOLONG", "L:next"}},
      {"too_long_then_bare_lf_resyncs", std::string(30, 'a') + "\nB\r\n", 10,
       LineEnding::crlf_or_lf, V{"TOOLONG", "L:B"}},
      {"two_too_long", std::string(20, 'a') + "\r\n" + std::string(20, 'b') + "\r\nc\r\n", 10,
       LineEnding::crlf_or_lf, V{"TOOLONG", "TOOLONG", "L:c"}},
      {"utf8_untouched", "Ch\xC3\xA0o\r\n", 10, LineEnding::crlf_or_lf, V{"L:Ch\xC3\xA0o"}},
  };
  return table;
}

TEST(LineReader, TableWholeInput) {
  for (const auto& c : cases()) {
    EXPECT_EQ(feed_whole(LineReader(c.max_line, c.ending), c.input), c.expected) << c.name;
  }
}

// STYLE.md 17: a byte at a time proves need-more and CRLF split across reads.
TEST(LineReader, TableByteAtATime) {
  for (const auto& c : cases()) {
    EXPECT_EQ(feed_bytewise(LineReader(c.max_line, c.ending), c.input), c.expected) << c.name;
  }
}

TEST(LineReader, CrlfSplitAcrossFeedsIsOneLine) {
  LineReader r(10);
  r.feed("ABCDEFGHIJ\r");  // 10 bytes + CR: not too long yet, the LF may follow
  EXPECT_EQ(r.next().kind, LineReader::Kind::need_more);
  r.feed("\n");
  auto e = r.next();
  ASSERT_EQ(e.kind, LineReader::Kind::line);
  EXPECT_EQ(e.text, "ABCDEFGHIJ");
  EXPECT_FALSE(e.bare_lf);
}

TEST(LineReader, TooLongReportedBeforeTheLineEnds) {
  LineReader r(8);
  r.feed(std::string(9, 'x'));
  EXPECT_EQ(r.next().kind, LineReader::Kind::too_long);
  // The rest of the long line streams in and is dropped without further reports.
  for (int i = 0; i < 100; ++i) {
    r.feed(std::string(1000, 'y'));
    EXPECT_EQ(r.next().kind, LineReader::Kind::need_more);
    EXPECT_LE(r.buffered(), 1000u);  // bounded while discarding
  }
  r.feed("y\r\nNOOP\r\n");
  auto e = r.next();
  ASSERT_EQ(e.kind, LineReader::Kind::line);
  EXPECT_EQ(e.text, "NOOP");
}

TEST(LineReader, RawModeTakesExactlyTheLiteral) {
  // IMAP: "A1 APPEND INBOX {12}\r\n" + 12 literal bytes (a CRLF inside) + the rest of the command.
  LineReader r(64);
  r.feed("A1 APPEND INBOX {12}\r\nHello\r\nWor");
  auto e = r.next();
  ASSERT_EQ(e.kind, LineReader::Kind::line);
  EXPECT_EQ(e.text, "A1 APPEND INBOX {12}");
  std::string literal(r.take_bytes(12));
  EXPECT_EQ(literal, "Hello\r\nWor");
  EXPECT_TRUE(r.take_bytes(12 - literal.size()).empty());  // need more
  r.feed("ld)\r\nA2 NOOP\r\n");
  literal += r.take_bytes(12 - literal.size());
  EXPECT_EQ(literal, "Hello\r\nWorld");
  e = r.next();
  ASSERT_EQ(e.kind, LineReader::Kind::line);
  EXPECT_EQ(e.text, ")");
  EXPECT_EQ(r.next().text, "A2 NOOP");
}

TEST(LineReader, RawModeThenLinesResume) {
  LineReader r(64);
  r.feed("BDAT 5\r\nabcdeQUIT\r\n");
  ASSERT_EQ(r.next().text, "BDAT 5");
  EXPECT_EQ(r.take_bytes(5), "abcde");
  auto e = r.next();
  ASSERT_EQ(e.kind, LineReader::Kind::line);
  EXPECT_EQ(e.text, "QUIT");
}

TEST(LineReader, RawModeByteAtATime) {
  LineReader r(64);
  const std::string input("X {4}\r\n\r\n\0\nNEXT\r\n", 17);
  std::string got;
  std::vector<std::string> lines;
  bool raw = false;
  for (char c : input) {
    r.feed(std::string_view(&c, 1));
    for (;;) {
      if (raw) {
        got += r.take_bytes(4 - got.size());
        if (got.size() < 4) break;
        raw = false;
      }
      auto e = r.next();
      if (e.kind == LineReader::Kind::need_more) break;
      lines.emplace_back(e.text);
      if (e.text == "X {4}") raw = true;
    }
  }
  EXPECT_EQ(got, std::string("\r\n\0\n", 4));
  EXPECT_EQ(lines, (std::vector<std::string>{"X {4}", "NEXT"}));
}

TEST(LineReader, DiscardBufferedDropsPipelinedBytes) {
  LineReader r(64);
  r.feed("STARTTLS\r\nMAIL FROM:<evil@x>\r\n");
  ASSERT_EQ(r.next().text, "STARTTLS");
  EXPECT_EQ(r.discard_buffered(), 20u);
  EXPECT_EQ(r.next().kind, LineReader::Kind::need_more);
  r.feed("EHLO tls\r\n");
  EXPECT_EQ(r.next().text, "EHLO tls");
}

TEST(LineReader, LineViewSurvivesUntilNextFeed) {
  LineReader r(64);
  r.feed("A\r\n");
  auto e = r.next();
  EXPECT_EQ(r.next().kind, LineReader::Kind::need_more);
  EXPECT_EQ(e.text, "A");  // still valid: nothing fed since
}

TEST(LineReader, ReleaseBufferKeepsUnreadBytes) {
  LineReader r(4096);
  r.feed(std::string(1000, 'a') + "\r\nB");
  ASSERT_EQ(r.next().text.size(), 1000u);
  r.release_buffer();  // "B" is unread: kept
  r.feed("\r\n");
  EXPECT_EQ(r.next().text, "B");
  EXPECT_GE(r.allocated(), 1000u);
  r.release_buffer();  // nothing unread: freed, and the reader works on
  EXPECT_LT(r.allocated(), 100u);
  r.feed("C\r\n");
  EXPECT_EQ(r.next().text, "C");
}

}  // namespace
}  // namespace govmail::core

namespace govmail::core {
namespace {

TEST(LineReaderMidLine, TrueWhileALineIsBufferedOrDiscarded) {
  LineReader r(8);
  EXPECT_FALSE(r.mid_line());
  r.feed("abc");
  EXPECT_EQ(r.next().kind, LineReader::Kind::need_more);
  EXPECT_TRUE(r.mid_line());
  r.feed("defghijkl");
  EXPECT_EQ(r.next().kind, LineReader::Kind::too_long);
  EXPECT_EQ(r.buffered(), 0u);
  EXPECT_TRUE(r.mid_line());  // still inside the over-long line
  r.feed("x\r\n");
  EXPECT_EQ(r.next().kind, LineReader::Kind::need_more);
  EXPECT_FALSE(r.mid_line());
}

}  // namespace
}  // namespace govmail::core
