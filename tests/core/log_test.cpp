#include "core/log.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

namespace govmail::core {
namespace {

TEST(LogSafe, KeepsPrintableAsciiAndUtf8) {
  EXPECT_EQ(log_safe("MAIL FROM:<a@b.vn>"), "MAIL FROM:<a@b.vn>");
  EXPECT_EQ(log_safe("Nguyễn Văn Á"), "Nguyễn Văn Á");
}

TEST(LogSafe, EscapesControlsBackslashAndBadUtf8) {
  // A client must not be able to forge a second log line.
  EXPECT_EQ(log_safe("a\r\nFAKE: admin logged in"), "a\\r\\nFAKE: admin logged in");
  EXPECT_EQ(log_safe(std::string_view("x\0y\x1b[31m\t\\", 10)), "x\\x00y\\x1b[31m\\t\\\\");
  EXPECT_EQ(log_safe("\xff\xfe ok"), "\\xff\\xfe ok");
  EXPECT_EQ(log_safe("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(log_safe("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // UTF-16 surrogate
  EXPECT_EQ(log_safe("\xc2\x85"), "\\u0085");              // C1 next-line
  EXPECT_EQ(log_safe("\x7f"), "\\x7f");
}

TEST(LogSafe, CutsLongInputOnACharacterBoundary) {
  EXPECT_EQ(log_safe(std::string(500, 'a')), std::string(100, 'a') + "...");
  EXPECT_EQ(log_safe("abcdef", 3), "abc...");
  EXPECT_EQ(log_safe("abc", 3), "abc");
  // "ễ" is 3 bytes: a cut inside it drops the whole character.
  EXPECT_EQ(log_safe("Nguyễn", 5), "Nguy...");
  EXPECT_EQ(log_safe("Nguyễn", 7), "Nguyễ...");
}

std::string capture(const LogConfig& cfg, auto&& write) {
  std::ostringstream out;
  init_logging(cfg, std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  write();
  spdlog::default_logger()->flush();
  init_logging(LogConfig{}, std::make_shared<spdlog::sinks::ostream_sink_mt>(std::cerr));
  return out.str();
}

TEST(Logging, JsonLinesEscapeTheMessage) {
  const std::string out = capture(LogConfig{"info", "json"}, [] {
    spdlog::info("login \"{}\" from {}", "a\\b", "ip\n2");
    spdlog::debug("not shown at info");
  });
  EXPECT_EQ(out.find("not shown"), std::string::npos);
  ASSERT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_EQ(out.rfind("{\"time\":\"", 0), 0u) << out;
  EXPECT_NE(out.find("\"level\":\"info\""), std::string::npos) << out;
  EXPECT_NE(out.find(R"("msg":"login \"a\\b\" from ip\u000a2"})"), std::string::npos) << out;
}

TEST(Logging, TextFormatAndLevel) {
  const std::string out = capture(LogConfig{"warn", "text"}, [] {
    spdlog::info("quiet");
    spdlog::warn("loud {}", 42);
  });
  EXPECT_EQ(out.find("quiet"), std::string::npos);
  EXPECT_NE(out.find("warning"), std::string::npos) << out;
  EXPECT_NE(out.find("loud 42\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace govmail::core
