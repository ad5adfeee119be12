#include "render.hpp"

#include "imap/proto.hpp"

namespace govmail::imap {
namespace {

using json = nlohmann::json;

std::string nstr(const json& j) {
  if (j.is_string()) return quote_string(j.get<std::string>());
  return "NIL";
}

std::string raw_field(const json& env, const char* key) {
  auto it = env.find(key);
  if (it == env.end() || !it->is_object()) return "NIL";
  return nstr(it->value("raw", json()));
}

std::string addresses(const json& env, const char* key) {
  auto it = env.find(key);
  if (it == env.end() || !it->is_array() || it->empty()) return "NIL";
  std::string out = "(";
  for (const auto& a : *it)
    out += "(" + nstr(a.value("name", json())) + " " + nstr(a.value("adl", json())) + " " +
           nstr(a.value("mailbox", json())) + " " + nstr(a.value("host", json())) + ")";
  return out + ")";
}

std::string params(const json& p) {
  if (!p.is_array() || p.empty()) return "NIL";
  std::string out = "(";
  for (const auto& kv : p) {
    if (!kv.is_array() || kv.size() != 2) continue;
    out += (out.size() > 1 ? " " : "") + nstr(kv[0]) + " " + nstr(kv[1]);
  }
  return out == "(" ? "NIL" : out + ")";
}

std::string disposition(const json& d) {
  if (!d.is_object()) return "NIL";
  return "(" + quote_string(upper(d.value("type", std::string()))) + " " +
         params(d.value("params", json())) + ")";
}

std::string language(const json& l) {
  if (!l.is_array() || l.empty()) return "NIL";
  if (l.size() == 1) return nstr(l[0]);
  std::string out = "(";
  for (const auto& x : l) out += (out.size() > 1 ? " " : "") + nstr(x);
  return out + ")";
}

std::string num(const json& j) {
  return j.is_number() ? std::to_string(j.get<std::uint64_t>()) : std::string("0");
}

const json* find_in(const json& node, std::string_view part) {
  if (!node.is_object()) return nullptr;
  if (node.value("section", std::string()) == part) return &node;
  if (auto it = node.find("parts"); it != node.end() && it->is_array())
    for (const auto& c : *it)
      if (auto f = find_in(c, part)) return f;
  if (auto it = node.find("message"); it != node.end() && it->is_object())
    if (auto b = it->find("body"); b != it->end())
      if (auto f = find_in(*b, part)) return f;
  return nullptr;
}

}  // namespace

json parse_object(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  return j.is_object() ? j : json::object();
}

std::string render_envelope(const json& env) {
  return "(" + raw_field(env, "date") + " " + raw_field(env, "subject") + " " +
         addresses(env, "from") + " " + addresses(env, "sender") + " " +
         addresses(env, "reply_to") + " " + addresses(env, "to") + " " + addresses(env, "cc") +
         " " + addresses(env, "bcc") + " " + raw_field(env, "in_reply_to") + " " +
         raw_field(env, "message_id") + ")";
}

std::string render_body(const json& part, bool ext) {
  if (auto it = part.find("parts"); it != part.end() && it->is_array() && !it->empty()) {
    std::string out = "(";
    for (const auto& c : *it) out += render_body(c, ext);
    out += " " + quote_string(upper(part.value("subtype", std::string("mixed"))));
    if (ext)
      out += " " + params(part.value("params", json())) + " " +
             disposition(part.value("disposition", json())) + " " +
             language(part.value("language", json())) + " " + nstr(part.value("location", json()));
    return out + ")";
  }
  auto type = upper(part.value("type", std::string("text")));
  auto subtype = upper(part.value("subtype", std::string("plain")));
  std::string out = "(" + quote_string(type) + " " + quote_string(subtype) + " " +
                    params(part.value("params", json())) + " " + nstr(part.value("id", json())) +
                    " " + nstr(part.value("description", json())) + " " +
                    quote_string(part.value("encoding", std::string("7BIT"))) + " " +
                    num(part.value("size", json()));
  if (auto m = part.find("message"); m != part.end() && m->is_object()) {
    out += " " + render_envelope(m->value("envelope", json::object())) + " " +
           render_body(m->value("body", json::object()), ext) + " " +
           num(part.value("lines", json()));
  } else if (type == "TEXT") {
    out += " " + num(part.value("lines", json()));
  }
  if (ext)
    out += " " + nstr(part.value("md5", json())) + " " +
           disposition(part.value("disposition", json())) + " " +
           language(part.value("language", json())) + " " + nstr(part.value("location", json()));
  return out + ")";
}

const json* find_part(const json& root, std::string_view part) {
  return find_in(root, part);
}

std::optional<ByteRange> section_range(const json& root, const Section& sec, std::uint64_t size) {
  auto get = [](const json& j, const char* k) { return j.value(k, std::uint64_t{0}); };
  using K = Section::Kind;
  if (sec.part.empty()) {
    auto body = get(root, "body_offset");
    switch (sec.kind) {
      case K::full:
        return ByteRange{0, size};
      case K::header:
      case K::header_fields:
      case K::header_fields_not:
        return ByteRange{0, body};
      case K::text:
        return ByteRange{body, size};
      case K::mime:
        return std::nullopt;
    }
  }
  const json* p = find_in(root, sec.part);
  if (!p) return std::nullopt;
  if (sec.kind == K::full) return ByteRange{get(*p, "body_offset"), get(*p, "end_offset")};
  if (sec.kind == K::mime) return ByteRange{get(*p, "header_offset"), get(*p, "body_offset")};
  auto m = p->find("message");
  if (m == p->end() || !m->is_object()) return std::nullopt;
  if (sec.kind == K::text) return ByteRange{get(*m, "body_offset"), get(*p, "end_offset")};
  return ByteRange{get(*m, "header_offset"), get(*m, "body_offset")};
}

std::string filter_header(std::string_view header, const std::vector<std::string>& fields,
                          bool exclude) {
  std::string out;
  bool keep = false;
  std::size_t pos = 0;
  while (pos < header.size()) {
    auto eol = header.find('\n', pos);
    auto line = header.substr(pos, eol == std::string_view::npos ? eol : eol + 1 - pos);
    pos = eol == std::string_view::npos ? header.size() : eol + 1;
    if (line == "\r\n" || line == "\n") break;
    if (line[0] != ' ' && line[0] != '\t') {
      auto colon = line.find(':');
      auto name = upper(line.substr(0, colon == std::string_view::npos ? 0 : colon));
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
      bool listed = std::find(fields.begin(), fields.end(), name) != fields.end();
      keep = colon != std::string_view::npos && listed != exclude;
    }
    if (keep) out += line;
  }
  return out + "\r\n";
}

std::string decode_transfer(std::string_view body, std::string_view encoding) {
  std::string out;
  if (iequals(encoding, "BASE64")) {
    std::uint32_t bits = 0;
    int n = 0;
    for (char c : body) {
      int v = c >= 'A' && c <= 'Z'   ? c - 'A'
              : c >= 'a' && c <= 'z' ? c - 'a' + 26
              : c >= '0' && c <= '9' ? c - '0' + 52
              : c == '+'             ? 62
              : c == '/'             ? 63
                                     : -1;
      if (v < 0) continue;
      bits = (bits << 6) | static_cast<std::uint32_t>(v);
      if ((n += 6) >= 8) out += static_cast<char>((bits >> (n -= 8)) & 0xff);
    }
    return out;
  }
  if (iequals(encoding, "QUOTED-PRINTABLE")) {
    auto hex = [](char c) {
      return c >= '0' && c <= '9'   ? c - '0'
             : c >= 'A' && c <= 'F' ? c - 'A' + 10
             : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                    : -1;
    };
    for (std::size_t i = 0; i < body.size(); ++i) {
      if (body[i] != '=') {
        out += body[i];
        continue;
      }
      if (i + 2 < body.size() + 0 && body[i + 1] == '\r' && body[i + 2] == '\n') {
        i += 2;
      } else if (i + 1 < body.size() && body[i + 1] == '\n') {
        i += 1;
      } else if (i + 2 < body.size() && hex(body[i + 1]) >= 0 && hex(body[i + 2]) >= 0) {
        out += static_cast<char>(hex(body[i + 1]) * 16 + hex(body[i + 2]));
        i += 2;
      } else {
        out += '=';
      }
    }
    return out;
  }
  return std::string(body);
}

}  // namespace govmail::imap
