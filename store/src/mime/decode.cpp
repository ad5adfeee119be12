#include "mime/decode.hpp"

#include <iconv.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <mutex>

#include "core/text.hpp"
#include "mime/gmime_ptr.hpp"
#include "mime/transfer.hpp"

namespace govmail::store::mime {
namespace {

// GMime wants NUL-terminated strings: NUL bytes inside a header cannot be passed anyway.
std::string c_string(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c != '\0') out.push_back(c);
  }
  return out;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return out;
}

bool is_utf8_name(std::string_view cs) {
  return cs.empty() || cs == "utf-8" || cs == "utf8" || cs == "us-ascii" || cs == "ascii" ||
         cs == "ansi_x3.4-1968" || cs == "iso646-us";
}

// Names seen in Vietnamese mail that glibc does not know under that spelling.
std::string iconv_name(const std::string& cs) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kAliases{{
      {"x-viet-vps", "VISCII"},  // not identical; the nearest glibc has
      {"x-viet-viscii", "VISCII"},
      {"viscii1.1-1", "VISCII"},
      {"x-viet-tcvn", "TCVN5712-1"},
      {"x-viet-tcvn5712", "TCVN5712-1"},
      {"tcvn-5712", "TCVN5712-1"},
      {"x-cp1258", "CP1258"},
      {"vietnamese", "CP1258"},
  }};
  for (const auto& [alias, name] : kAliases) {
    if (cs == alias) return std::string(name);
  }
  return cs;
}

iconv_t open_to_utf8(const std::string& charset) {
  iconv_t cd = iconv_open("UTF-8", iconv_name(charset).c_str());
  if (cd != reinterpret_cast<iconv_t>(-1)) return cd;
  const char* gname = g_mime_charset_iconv_name(charset.c_str());
  if (gname != nullptr) cd = iconv_open("UTF-8", gname);
  return cd;
}

struct IconvCloser {
  iconv_t cd;
  ~IconvCloser() { iconv_close(cd); }
};

// Converts with glibc iconv; an invalid byte becomes U+FFFD and conversion goes on.
std::string convert(iconv_t cd, std::string_view bytes, bool* lossy) {
  std::string out;
  out.resize(bytes.size() * 2 + 16);
  std::size_t used = 0;
  char* in = const_cast<char*>(bytes.data());
  std::size_t in_left = bytes.size();
  bool flushing = false;
  for (;;) {
    if (out.size() - used < 16) out.resize(out.size() * 2);
    char* dst = out.data() + used;
    std::size_t dst_left = out.size() - used;
    const std::size_t rc = flushing ? iconv(cd, nullptr, nullptr, &dst, &dst_left)
                                    : iconv(cd, &in, &in_left, &dst, &dst_left);
    used = static_cast<std::size_t>(dst - out.data());
    if (rc != static_cast<std::size_t>(-1)) {
      if (flushing) break;
      flushing = true;  // stateful converters (CP1258, TCVN) hold back a base letter
      continue;
    }
    if (errno == E2BIG) {
      out.resize(out.size() * 2);
    } else if (errno == EILSEQ || errno == EINVAL) {
      *lossy = true;
      out.resize(std::max(out.size(), used + 3));
      out.replace(used, 3, "\xEF\xBF\xBD");
      used += 3;
      if (in_left == 0) {
        flushing = true;
      } else {
        ++in, --in_left;
      }
    } else {
      *lossy = true;
      break;
    }
  }
  out.resize(used);
  return out;
}

bool valid_utf8(std::string_view s) {
  for (char c : s) {
    if (c == '\0') return false;
  }
  return core::sanitize_utf8(s) == s;
}

}  // namespace

void ensure_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

std::string decode_header_text(std::string_view raw) {
  ensure_gmime();
  const std::string in = c_string(raw);
  GCharPtr decoded(g_mime_utils_header_decode_text(nullptr, in.c_str()));
  return core::nfc(decoded ? std::string_view(decoded.get()) : std::string_view(in));
}

std::optional<std::int64_t> parse_date(std::string_view raw) {
  ensure_gmime();
  const std::string in = c_string(raw);
  GDateTimePtr date(g_mime_utils_header_decode_date(in.c_str()));
  if (!date) return std::nullopt;
  return static_cast<std::int64_t>(g_date_time_to_unix(date.get()));
}

std::optional<std::string> decoded_param(std::string_view header_value, bool disposition,
                                         const char* name) {
  ensure_gmime();
  const std::string in = c_string(header_value);
  const char* value = nullptr;
  GObjectPtr<GMimeContentDisposition> disp;
  GObjectPtr<GMimeContentType> type;
  if (disposition) {
    disp.reset(g_mime_content_disposition_parse(nullptr, in.c_str()));
    if (disp) value = g_mime_content_disposition_get_parameter(disp.get(), name);
  } else {
    type.reset(g_mime_content_type_parse(nullptr, in.c_str()));
    if (type) value = g_mime_content_type_get_parameter(type.get(), name);
  }
  if (value == nullptr) return std::nullopt;
  return core::nfc(value);
}

std::string decode_transfer(std::string_view body, std::string_view encoding) {
  ensure_gmime();
  const std::string enc = c_string(encoding);
  const GMimeContentEncoding e = g_mime_content_encoding_from_string(enc.c_str());
  if (e != GMIME_CONTENT_ENCODING_BASE64 && e != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE &&
      e != GMIME_CONTENT_ENCODING_UUENCODE) {
    return std::string(body);
  }
  if (e == GMIME_CONTENT_ENCODING_BASE64) return decode_base64(body);
  if (e == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE) return decode_quoted_printable(body);
  GMimeEncoding state;
  g_mime_encoding_init_decode(&state, e);
  std::string out;
  out.resize(g_mime_encoding_outlen(&state, body.size()) + 16);
  const std::size_t n = g_mime_encoding_flush(&state, body.data(), body.size(), out.data());
  out.resize(std::min(n, out.size()));
  return out;
}

std::string to_utf8(std::string_view bytes, std::string_view charset, std::string* warning) {
  std::string cs = lower_ascii(c_string(charset));
  if (is_utf8_name(cs)) {
    if (valid_utf8(bytes)) return core::nfc(bytes);
    // 8-bit text that is not UTF-8 under no or an ASCII label: in this deployment it is most
    // often legacy Vietnamese Windows text.
    if (warning != nullptr) *warning = "8-bit text without charset, read as windows-1258";
    cs = "cp1258";
  }
  ensure_gmime();
  const iconv_t cd = open_to_utf8(cs);
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    if (warning != nullptr)
      *warning = "unknown charset '" + core::sanitize_utf8(cs.substr(0, 40)) + "'";
    return core::nfc(bytes);
  }
  IconvCloser closer{cd};
  bool lossy = false;
  std::string out = convert(cd, bytes, &lossy);
  if (lossy && warning != nullptr)
    *warning = "invalid bytes for charset '" + core::sanitize_utf8(cs.substr(0, 40)) + "'";
  return core::nfc(out);
}

namespace {

// Named entities worth decoding for search; anything else is left as written.
constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kEntities{
    {{"amp", "&"},
     {"lt", "<"},
     {"gt", ">"},
     {"quot", "\""},
     {"apos", "'"},
     {"nbsp", " "},
     {"copy", "\u00a9"},
     {"reg", "\u00ae"},
     {"ndash", "\u2013"},
     {"mdash", "\u2014"},
     {"hellip", "\u2026"},
     {"euro", "\u20ac"}}};

bool starts_with_ci(std::string_view s, std::size_t pos, std::string_view prefix) {
  if (s.size() - pos < prefix.size()) return false;
  return lower_ascii(s.substr(pos, prefix.size())) == prefix;
}

// Appends the entity at html[pos] ('&'); returns the position after it.
std::size_t decode_entity(std::string_view html, std::size_t pos, std::string& out) {
  const std::size_t semi = html.find(';', pos);
  if (semi == std::string_view::npos || semi - pos > 10 || semi == pos + 1) {
    out.push_back('&');
    return pos + 1;
  }
  const std::string_view name = html.substr(pos + 1, semi - pos - 1);
  if (name[0] == '#') {
    unsigned long cp = 0;
    bool ok = name.size() > 1;
    const bool hex = ok && (name[1] == 'x' || name[1] == 'X');
    for (std::size_t i = hex ? 2 : 1; ok && i < name.size(); ++i) {
      const char c = name[i];
      int digit = -1;
      if (c >= '0' && c <= '9')
        digit = c - '0';
      else if (hex && c >= 'a' && c <= 'f')
        digit = c - 'a' + 10;
      else if (hex && c >= 'A' && c <= 'F')
        digit = c - 'A' + 10;
      ok = digit >= 0;
      cp = cp * (hex ? 16 : 10) + static_cast<unsigned long>(ok ? digit : 0);
    }
    if (ok && cp > 0 && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF)) {
      std::string utf8;
      if (cp < 0x80) {
        utf8.push_back(static_cast<char>(cp));
      } else if (cp < 0x800) {
        utf8 += static_cast<char>(0xC0 | (cp >> 6));
        utf8 += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        utf8 += static_cast<char>(0xE0 | (cp >> 12));
        utf8 += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        utf8 += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        utf8 += static_cast<char>(0xF0 | (cp >> 18));
        utf8 += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        utf8 += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        utf8 += static_cast<char>(0x80 | (cp & 0x3F));
      }
      out += utf8;
      return semi + 1;
    }
  } else {
    for (const auto& [entity, text] : kEntities) {
      if (name == entity) {
        out += text;
        return semi + 1;
      }
    }
  }
  out.push_back('&');
  return pos + 1;
}

bool is_block_tag(std::string_view tag) {
  static constexpr std::array<std::string_view, 16> kBlock{
      "br", "p",  "div", "tr",    "li",         "h1",    "h2", "h3",
      "h4", "h5", "h6",  "table", "blockquote", "title", "ul", "ol"};
  for (std::string_view b : kBlock) {
    if (tag == b) return true;
  }
  return false;
}

}  // namespace

std::string html_to_text(std::string_view html) {
  std::string out;
  out.reserve(html.size() / 2);
  std::size_t pos = 0;
  while (pos < html.size()) {
    const char c = html[pos];
    if (c == '&') {
      pos = decode_entity(html, pos, out);
      continue;
    }
    if (c != '<') {
      out.push_back(c);
      ++pos;
      continue;
    }
    if (html.compare(pos, 4, "<!--") == 0) {
      const std::size_t end = html.find("-->", pos + 4);
      pos = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    const std::size_t close = html.find('>', pos);
    if (close == std::string_view::npos) break;  // a cut tag: drop the rest
    std::size_t name_start = pos + 1;
    const bool end_tag_seen = name_start < close && html[name_start] == '/';
    if (end_tag_seen) ++name_start;
    const bool self_closing = close > pos + 1 && html[close - 1] == '/';
    std::size_t name_end = name_start;
    while (name_end < close && std::isalnum(static_cast<unsigned char>(html[name_end]))) ++name_end;
    const std::string tag = lower_ascii(html.substr(name_start, name_end - name_start));
    pos = close + 1;
    if ((tag == "script" || tag == "style") && !end_tag_seen && !self_closing) {
      // Skip to the matching end tag: its content is never text.
      const std::string end_tag = "</" + tag;
      std::size_t search = pos;
      for (;;) {
        const std::size_t found = html.find("</", search);
        if (found == std::string_view::npos) {
          pos = html.size();
          break;
        }
        if (starts_with_ci(html, found, end_tag)) {
          const std::size_t gt = html.find('>', found);
          pos = gt == std::string_view::npos ? html.size() : gt + 1;
          break;
        }
        search = found + 2;
      }
      continue;
    }
    if (is_block_tag(tag))
      out.push_back('\n');
    else if (tag == "td" || tag == "th")
      out.push_back(' ');
  }
  return out;
}

}  // namespace govmail::store::mime
