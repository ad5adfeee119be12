// Quoted-printable and base64 decoding written out (RFC 2045 6.7, 6.8): BINARY (RFC 3516) must
// return exactly the decoded bytes, and GMime's decoders keep transport padding, drop malformed
// '=' sequences and read on past base64 padding.
#include "mime/transfer.hpp"

namespace govmail::store::mime {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;  // lowercase: the robust reading (6.7 (1))
  return -1;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// One line without its break: '=XX' decoded, anything else after '=' kept as written.
void decode_qp_line(std::string_view line, std::string& out) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '=' && i + 2 < line.size() && hex_value(line[i + 1]) >= 0 &&
        hex_value(line[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(line[i + 1]) * 16 + hex_value(line[i + 2]));
      i += 2;
    } else {
      out += line[i];
    }
  }
}

}  // namespace

std::string decode_quoted_printable(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto nl = body.find('\n', pos);
    const bool has_break = nl != std::string_view::npos;
    auto end = has_break ? nl : body.size();
    std::string_view line_break = has_break ? "\n" : "";
    if (has_break && end > pos && body[end - 1] == '\r') {
      --end;
      line_break = "\r\n";
    }
    auto line = body.substr(pos, end - pos);
    // Transport padding: whitespace at the end of a line is not part of the data (6.7 (3)).
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (!line.empty() && line.back() == '=') {  // soft line break (6.7 (5))
      line.remove_suffix(1);
      decode_qp_line(line, out);
    } else {
      decode_qp_line(line, out);
      out += line_break;
    }
    pos = has_break ? nl + 1 : body.size();
  }
  return out;
}

std::string decode_base64(std::string_view body) {
  std::string out;
  out.reserve(body.size() / 4 * 3);
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : body) {
    if (c == '=') break;  // padding ends the data (6.8)
    int v = base64_value(c);
    if (v < 0) continue;  // line breaks, whitespace and stray characters are ignored
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    if (++count == 4) {
      out += static_cast<char>((bits >> 16) & 0xff);
      out += static_cast<char>((bits >> 8) & 0xff);
      out += static_cast<char>(bits & 0xff);
      bits = 0;
      count = 0;
    }
  }
  // A final group of 2 or 3 characters carries 1 or 2 bytes; a lone one carries none.
  if (count == 2) out += static_cast<char>((bits >> 4) & 0xff);
  if (count == 3) {
    out += static_cast<char>((bits >> 10) & 0xff);
    out += static_cast<char>((bits >> 2) & 0xff);
  }
  return out;
}

}  // namespace govmail::store::mime
