// FETCH items (RFC 3501 6.4.5, RFC 3516 BINARY, RFC 7162 MODSEQ): macros, sections, partials.
#include <charconv>

#include "imap/proto.hpp"

namespace govmail::imap {
namespace {

using Kind = FetchAtt::Kind;

bool valid_part(std::string_view p) {
  if (p.empty()) return true;
  std::size_t start = 0;
  for (;;) {
    auto dot = p.find('.', start);
    auto n = p.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (n.empty() || n.size() > 6 || n[0] == '0') return false;
    for (char c : n)
      if (c < '0' || c > '9') return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// Inside the brackets: "", "1.2", "HEADER", "1.2.MIME", "HEADER.FIELDS (A B)".
std::optional<Section> parse_section(std::string_view spec) {
  Section s;
  std::size_t i = 0;
  while (i < spec.size() && ((spec[i] >= '0' && spec[i] <= '9') || spec[i] == '.')) {
    // A dot followed by a letter ends the part number.
    if (spec[i] == '.' && i + 1 < spec.size() && !(spec[i + 1] >= '0' && spec[i + 1] <= '9')) break;
    ++i;
  }
  s.part = std::string(spec.substr(0, i));
  auto rest = spec.substr(i);
  if (!rest.empty() && !s.part.empty()) {
    if (rest[0] != '.') return std::nullopt;
    rest.remove_prefix(1);
  }
  if (!valid_part(s.part)) return std::nullopt;
  auto sp = rest.find(' ');
  auto word = upper(rest.substr(0, sp));
  if (word.empty())
    s.kind = Section::Kind::full;
  else if (word == "HEADER")
    s.kind = Section::Kind::header;
  else if (word == "TEXT")
    s.kind = Section::Kind::text;
  else if (word == "MIME" && !s.part.empty())
    s.kind = Section::Kind::mime;
  else if (word == "HEADER.FIELDS")
    s.kind = Section::Kind::header_fields;
  else if (word == "HEADER.FIELDS.NOT")
    s.kind = Section::Kind::header_fields_not;
  else
    return std::nullopt;
  bool fields =
      s.kind == Section::Kind::header_fields || s.kind == Section::Kind::header_fields_not;
  if (!fields) return sp == std::string_view::npos ? std::optional<Section>(s) : std::nullopt;
  if (sp == std::string_view::npos) return std::nullopt;
  auto list = rest.substr(sp + 1);
  if (list.size() < 3 || list.front() != '(' || list.back() != ')') return std::nullopt;
  list = list.substr(1, list.size() - 2);
  std::size_t start = 0;
  while (start <= list.size()) {
    auto end = list.find(' ', start);
    auto f = list.substr(start, end == std::string_view::npos ? end : end - start);
    if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = f.substr(1, f.size() - 2);
    if (f.empty()) return std::nullopt;
    for (unsigned char c : f)
      if (c <= ' ' || c >= 0x7f || c == ':') return std::nullopt;
    s.fields.push_back(upper(f));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return s;
}

std::optional<Partial> parse_partial(std::string_view p) {
  if (p.size() < 5 || p.front() != '<' || p.back() != '>') return std::nullopt;
  p = p.substr(1, p.size() - 2);
  auto dot = p.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  Partial out;
  auto a = p.substr(0, dot), b = p.substr(dot + 1);
  auto r1 = std::from_chars(a.data(), a.data() + a.size(), out.offset);
  auto r2 = std::from_chars(b.data(), b.data() + b.size(), out.length);
  if (a.empty() || b.empty() || r1.ec != std::errc() || r2.ec != std::errc() ||
      r1.ptr != a.data() + a.size() || r2.ptr != b.data() + b.size() || out.length == 0)
    return std::nullopt;
  return out;
}

Result<FetchAtt, std::string> parse_one(const Arg& arg) {
  if (arg.type != Arg::Type::atom) return unexpected("Bad fetch item");
  const auto& v = arg.value;
  auto open = v.find('[');
  auto name = upper(v.substr(0, open));
  if (open == std::string::npos) {
    static const std::pair<const char*, Kind> simple[] = {{"FLAGS", Kind::flags},
                                                          {"UID", Kind::uid},
                                                          {"INTERNALDATE", Kind::internaldate},
                                                          {"RFC822.SIZE", Kind::rfc822_size},
                                                          {"ENVELOPE", Kind::envelope},
                                                          {"BODYSTRUCTURE", Kind::bodystructure},
                                                          {"BODY", Kind::body},
                                                          {"RFC822", Kind::rfc822},
                                                          {"RFC822.HEADER", Kind::rfc822_header},
                                                          {"RFC822.TEXT", Kind::rfc822_text},
                                                          {"MODSEQ", Kind::modseq}};
    for (auto& [n, k] : simple)
      if (name == n) return FetchAtt{.kind = k};
    return unexpected("Unknown fetch item " + name.substr(0, 40));
  }
  FetchAtt att;
  if (name == "BODY" || name == "BODY.PEEK")
    att.kind = Kind::body_section;
  else if (name == "BINARY" || name == "BINARY.PEEK")
    att.kind = Kind::binary;
  else if (name == "BINARY.SIZE")
    att.kind = Kind::binary_size;
  else
    return unexpected("Unknown fetch item " + name.substr(0, 40));
  att.peek = name.ends_with(".PEEK");
  auto close = v.rfind(']');
  if (close == std::string::npos || close < open) return unexpected("Missing ']'");
  auto section = parse_section(std::string_view(v).substr(open + 1, close - open - 1));
  if (!section) return unexpected("Bad section");
  att.section = std::move(*section);
  if (att.kind != Kind::body_section && att.section.kind != Section::Kind::full)
    return unexpected("BINARY takes a part number only");
  auto tail = std::string_view(v).substr(close + 1);
  if (!tail.empty()) {
    if (att.kind == Kind::binary_size) return unexpected("BINARY.SIZE takes no partial");
    att.partial = parse_partial(tail);
    if (!att.partial) return unexpected("Bad partial <offset.length>");
  }
  return att;
}

}  // namespace

Result<std::vector<FetchAtt>, std::string> parse_fetch_atts(const Arg& arg) {
  std::vector<FetchAtt> out;
  if (arg.type == Arg::Type::atom) {
    auto m = upper(arg.value);
    auto macro = [&](std::initializer_list<Kind> kinds) {
      for (auto k : kinds) out.push_back({.kind = k});
      return out;
    };
    if (m == "ALL")
      return macro({Kind::flags, Kind::internaldate, Kind::rfc822_size, Kind::envelope});
    if (m == "FAST") return macro({Kind::flags, Kind::internaldate, Kind::rfc822_size});
    if (m == "FULL")
      return macro(
          {Kind::flags, Kind::internaldate, Kind::rfc822_size, Kind::envelope, Kind::body});
    auto one = parse_one(arg);
    if (!one) return unexpected(one.error());
    out.push_back(std::move(*one));
    return out;
  }
  if (!arg.is_list() || arg.list.empty()) return unexpected(std::string("Bad fetch items"));
  for (const auto& a : arg.list) {
    auto one = parse_one(a);
    if (!one) return unexpected(one.error());
    out.push_back(std::move(*one));
  }
  return out;
}

std::string fetch_att_response_name(const FetchAtt& att) {
  std::string out = att.kind == Kind::binary        ? "BINARY["
                    : att.kind == Kind::binary_size ? "BINARY.SIZE["
                                                    : "BODY[";
  out += att.section.part;
  static const char* kinds[] = {"", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME"};
  const char* k = kinds[static_cast<int>(att.section.kind)];
  if (*k) {
    if (!att.section.part.empty()) out += '.';
    out += k;
  }
  if (!att.section.fields.empty()) {
    out += " (";
    for (std::size_t i = 0; i < att.section.fields.size(); ++i)
      out += (i ? " " : "") + att.section.fields[i];
    out += ')';
  }
  out += ']';
  if (att.partial) out += "<" + std::to_string(att.partial->offset) + ">";
  return out;
}

}  // namespace govmail::imap
