#include "client/message.hpp"

namespace govmail::smtp::client {
namespace {

constexpr std::size_t kMaxLine = 998;  // RFC 5322 2.1.1, RFC 5321 4.5.3.1.6 (without CRLF)

}  // namespace

bool has_non_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  return false;
}

WireMessage prepare_message(std::string_view message, bool for_data) {
  WireMessage out;
  out.wire.reserve(message.size() + message.size() / 32 + 8);
  bool in_header = true;
  std::size_t number = 0;
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t lf = message.find('\n', pos);
    const std::size_t end = lf == std::string_view::npos ? message.size() : lf;
    std::string_view line = message.substr(pos, end - pos);
    pos = lf == std::string_view::npos ? message.size() : lf + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++number;
    if (line.size() > kMaxLine && out.long_line == 0) out.long_line = number;
    const bool non_ascii = has_non_ascii(line);
    out.eight_bit = out.eight_bit || non_ascii;
    if (in_header) {
      if (line.empty())
        in_header = false;
      else
        out.header_non_ascii = out.header_non_ascii || non_ascii;
    }
    if (for_data && !line.empty() && line.front() == '.') out.wire += '.';  // RFC 5321 4.5.2
    out.wire += line;
    out.wire += "\r\n";
    out.size += line.size() + 2;
  }
  if (for_data) out.wire += ".\r\n";
  return out;
}

}  // namespace govmail::smtp::client
