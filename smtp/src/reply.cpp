#include "smtp/reply.hpp"

namespace govmail::smtp {
namespace {

void append_line(std::string& out, int code, char sep, std::string_view enhanced,
                 std::string_view text) {
  out += std::to_string(code);
  out += sep;
  if (!enhanced.empty()) {
    out += enhanced;
    out += ' ';
  }
  for (char c : text)
    if (c != '\r' && c != '\n') out += c;
  out += "\r\n";
}

}  // namespace

std::string Reply::wire() const {
  std::string out;
  append_line(out, code, ' ', enhanced, text);
  return out;
}

std::string multiline(int code, std::string_view enhanced, const std::vector<std::string>& lines) {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i)
    append_line(out, code, i + 1 == lines.size() ? ' ' : '-', enhanced, lines[i]);
  return out;
}

}  // namespace govmail::smtp
