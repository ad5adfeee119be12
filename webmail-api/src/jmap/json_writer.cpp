#include "jmap/json_writer.hpp"

#include <charconv>
#include <string_view>

namespace govmail::webmail::jmap {

namespace {

using Json = nlohmann::json;

// The length of the well-formed UTF-8 sequence at s[i] (Unicode 15, table 3-7: no overlong forms,
// no surrogates, nothing above U+10FFFF, as nlohmann's automaton), or 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = at(i);
  const std::size_t left = s.size() - i;
  auto cont = [&](std::size_t k) { return (at(i + k) & 0xC0) == 0x80; };
  if (b >= 0xC2 && b <= 0xDF) return left >= 2 && cont(1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    if (left < 3 || !cont(1) || !cont(2)) return 0;
    const unsigned char b1 = at(i + 1);
    if (b == 0xE0 && b1 < 0xA0) return 0;  // overlong
    if (b == 0xED && b1 > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    if (left < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
    const unsigned char b1 = at(i + 1);
    if (b == 0xF0 && b1 < 0x90) return 0;  // overlong
    if (b == 0xF4 && b1 > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

void escape_control(unsigned char c, std::string& out) {
  switch (c) {
    case '\b':
      out += "\\b";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\r':
      out += "\\r";
      return;
    default:
      break;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  const char u[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
  out.append(u, sizeof u);
}

// Whether `s` was written (well-formed UTF-8); else `out` is as it was.
bool write_string(std::string_view s, std::string& out) {
  const std::size_t start = out.size();
  out += '"';
  std::size_t run = 0;  // start of the bytes not yet copied
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence(s, i);
      if (n == 0) {
        out.resize(start);
        return false;
      }
      i += n;
      continue;
    }
    out.append(s.data() + run, i - run);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      escape_control(c, out);
    }
    run = ++i;
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
  return true;
}

void write_text(std::string_view s, std::string& out) {
  if (!write_string(s, out)) out += Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
}

template <typename Int>
void write_integer(Int v, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

void dump_json_to(const Json& value, std::string& out) {
  switch (value.type()) {
    case Json::value_t::null:
      out += "null";
      return;
    case Json::value_t::boolean:
      out += value.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::number_integer:
      write_integer(value.get<Json::number_integer_t>(), out);
      return;
    case Json::value_t::number_unsigned:
      write_integer(value.get<Json::number_unsigned_t>(), out);
      return;
    case Json::value_t::string:
      write_text(value.get_ref<const Json::string_t&>(), out);
      return;
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& v : value) {
        if (!first) out += ',';
        first = false;
        dump_json_to(v, out);
      }
      out += ']';
      return;
    }
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (!first) out += ',';
        first = false;
        write_text(it.key(), out);
        out += ':';
        dump_json_to(it.value(), out);
      }
      out += '}';
      return;
    }
    default:  // floats, binary, discarded: rare in a response, and formatted as nlohmann does
      out += value.dump(-1, ' ', false, Json::error_handler_t::replace);
      return;
  }
}

std::string dump_json(const Json& value) {
  std::string out;
  out.reserve(4096);
  dump_json_to(value, out);
  return out;
}

}  // namespace govmail::webmail::jmap
