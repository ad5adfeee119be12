// Modified UTF-7 mailbox names (RFC 3501 5.1.3): what clients without UTF8=ACCEPT send and expect.
#include "imap/proto.hpp"

namespace govmail::imap {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == ',') return 63;
  return -1;
}

// Next code point of UTF-8 text, or -1 for invalid input.
long next_code_point(std::string_view s, std::size_t& i) {
  unsigned char c = s[i];
  int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
  if (extra < 0) return -1;
  long cp = extra == 0 ? c : c & (0x3f >> extra);
  for (int k = 1; k <= extra; ++k) {
    if (i + k >= s.size()) return -1;
    unsigned char cc = s[i + k];
    if ((cc & 0xc0) != 0x80) return -1;
    cp = (cp << 6) | (cc & 0x3f);
  }
  i += extra + 1;
  return cp;
}

void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

void flush_utf16(std::string& out, const std::vector<std::uint16_t>& units) {
  std::uint32_t bits = 0;
  int nbits = 0;
  out += '&';
  for (auto u : units) {
    bits = (bits << 16) | u;
    nbits += 16;
    while (nbits >= 6) {
      nbits -= 6;
      out += kB64[(bits >> nbits) & 0x3f];
    }
  }
  if (nbits > 0) out += kB64[(bits << (6 - nbits)) & 0x3f];
  out += '-';
}

}  // namespace

std::string utf7_encode(std::string_view utf8) {
  std::string out;
  std::vector<std::uint16_t> units;
  for (std::size_t i = 0; i < utf8.size();) {
    unsigned char c = utf8[i];
    if (c >= 0x20 && c < 0x7f) {
      if (!units.empty()) flush_utf16(out, units), units.clear();
      out += c == '&' ? "&-" : std::string(1, static_cast<char>(c));
      ++i;
      continue;
    }
    long cp = next_code_point(utf8, i);
    if (cp < 0) {
      cp = 0xfffd;
      ++i;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push_back(static_cast<std::uint16_t>(0xd800 + (cp >> 10)));
      units.push_back(static_cast<std::uint16_t>(0xdc00 + (cp & 0x3ff)));
    } else {
      units.push_back(static_cast<std::uint16_t>(cp));
    }
  }
  if (!units.empty()) flush_utf16(out, units);
  return out;
}

std::optional<std::string> utf7_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size();) {
    unsigned char c = in[i];
    if (c < 0x20 || c >= 0x7f) return std::nullopt;
    if (c != '&') {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    auto end = in.find('-', i + 1);
    if (end == std::string_view::npos) return std::nullopt;
    if (end == i + 1) {
      out += '&';
      i = end + 1;
      continue;
    }
    std::uint32_t bits = 0;
    int nbits = 0;
    std::uint32_t high = 0;
    for (std::size_t k = i + 1; k < end; ++k) {
      int v = b64_value(in[k]);
      if (v < 0) return std::nullopt;
      bits = (bits << 6) | static_cast<std::uint32_t>(v);
      nbits += 6;
      if (nbits < 16) continue;
      nbits -= 16;
      std::uint32_t u = (bits >> nbits) & 0xffff;
      if (u >= 0xd800 && u < 0xdc00) {
        if (high) return std::nullopt;
        high = u;
      } else if (u >= 0xdc00 && u < 0xe000) {
        if (!high) return std::nullopt;
        append_utf8(out, 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00));
        high = 0;
      } else {
        if (high || (u >= 0x20 && u < 0x7f)) return std::nullopt;  // ASCII must not be encoded
        append_utf8(out, u);
      }
    }
    if (high || nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0) return std::nullopt;
    i = end + 1;
  }
  return out;
}

}  // namespace govmail::imap
