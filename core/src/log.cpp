#include "core/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace govmail::core {
namespace {

// Length of the valid UTF-8 sequence at s[i] (1..4), or 0 when the bytes there are not valid
// UTF-8 (overlong forms, surrogates and code points above U+10FFFF included).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = byte(0);
  if (c < 0x80) return 1;
  std::size_t n;
  std::uint32_t cp;
  if (c >= 0xc2 && c <= 0xdf)
    n = 2, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef)
    n = 3, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4)
    n = 4, cp = c & 0x07;
  else
    return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(k) & 0x3f);
  }
  const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  if (overlong || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return 0;
  return n;
}

void append_hex(std::string& out, const char* prefix, unsigned value, int width) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s%0*x", prefix, width, value);
  out += buf;
}

// JSON string body: escapes quotes, backslash and controls; invalid UTF-8 becomes U+FFFD.
std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const std::size_t n = utf8_sequence(s, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      append_hex(out, "\\u", c, 4);
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

class JsonMessageFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string escaped =
        json_escape(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

std::unique_ptr<spdlog::formatter> make_formatter(const LogConfig& config) {
  if (config.format == "json") {
    auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    f->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","thread":%t,"msg":"%*"})");
    return f;
  }
  return std::make_unique<spdlog::pattern_formatter>("%Y-%m-%d %H:%M:%S.%e %^%l%$ [%t] %v");
}

}  // namespace

void init_logging(const LogConfig& config, std::shared_ptr<spdlog::sinks::sink> sink) {
  if (!sink) {
    // Colours only help a person at a terminal; JSON goes to a collector.
    if (config.format == "json")
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    else
      sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  }
  sink->set_formatter(make_formatter(config));
  auto logger = std::make_shared<spdlog::logger>("govmail", std::move(sink));
  const auto level = spdlog::level::from_str(config.level == "warn" ? "warning" : config.level);
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

std::string log_safe(std::string_view untrusted, std::size_t max) {
  std::string out;
  const std::size_t shown = std::min(untrusted.size(), max);
  out.reserve(shown + 8);
  std::size_t i = 0;
  while (i < shown) {
    const unsigned char c = static_cast<unsigned char>(untrusted[i]);
    const std::size_t n = utf8_sequence(untrusted, i);
    if (n > 1 && i + n > shown) break;  // do not cut a character in half
    if (n == 0) {
      append_hex(out, "\\x", c, 2);
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c == 0x7f) {
      append_hex(out, "\\x", c, 2);
    } else if (n == 2 && c == 0xc2 && static_cast<unsigned char>(untrusted[i + 1]) < 0xa0) {
      append_hex(out, "\\u", static_cast<unsigned char>(untrusted[i + 1]), 4);  // C1 control
    } else {
      out.append(untrusted.substr(i, n));
    }
    i += n == 0 ? 1 : n;
  }
  if (i < untrusted.size()) out += "...";
  return out;
}

}  // namespace govmail::core
