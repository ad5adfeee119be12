// Small wire helpers: ASCII case folding and how strings are written in responses.
#include <cctype>

#include "imap/proto.hpp"

namespace govmail::imap {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string quote_string(std::string_view s, bool utf8) {
  bool needs_literal = false;
  for (unsigned char c : s)
    if (c == '\r' || c == '\n' || c == '\0' || (c >= 0x80 && !utf8)) needs_literal = true;
  if (needs_literal) return "{" + std::to_string(s.size()) + "}\r\n" + std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string nstring(const std::optional<std::string>& s, bool utf8) {
  return s ? quote_string(*s, utf8) : std::string("NIL");
}

}  // namespace govmail::imap
