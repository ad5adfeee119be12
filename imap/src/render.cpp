#include "render.hpp"

#include <algorithm>

#include "imap/proto.hpp"
#include "imap/stored_forms.hpp"
#include "message_cache.hpp"

namespace govmail::imap {
namespace {

using json = nlohmann::json;

// Every string of ENVELOPE and BODYSTRUCTURE goes through nstr: raw 8-bit header bytes (mail
// from senders that ignore RFC 2047) become literals unless the client enabled UTF8=ACCEPT.
std::string nstr(const json& j, bool utf8) {
  if (j.is_string()) return quote_string(j.get<std::string>(), utf8);
  return "NIL";
}

std::string raw_field(const json& env, const char* key, bool utf8) {
  auto it = env.find(key);
  if (it == env.end() || !it->is_object()) return "NIL";
  return nstr(it->value("raw", json()), utf8);
}

std::string addresses(const json& env, const char* key, bool utf8) {
  auto it = env.find(key);
  if (it == env.end() || !it->is_array() || it->empty()) return "NIL";
  std::string out = "(";
  for (const auto& a : *it)
    out += "(" + nstr(a.value("name", json()), utf8) + " " + nstr(a.value("adl", json()), utf8) +
           " " + nstr(a.value("mailbox", json()), utf8) + " " +
           nstr(a.value("host", json()), utf8) + ")";
  return out + ")";
}

std::string params(const json& p, bool utf8) {
  if (!p.is_array() || p.empty()) return "NIL";
  std::string out = "(";
  for (const auto& kv : p) {
    if (!kv.is_array() || kv.size() != 2) continue;
    out += (out.size() > 1 ? " " : "") + nstr(kv[0], utf8) + " " + nstr(kv[1], utf8);
  }
  return out == "(" ? "NIL" : out + ")";
}

std::string disposition(const json& d, bool utf8) {
  if (!d.is_object()) return "NIL";
  return "(" + quote_string(upper(d.value("type", std::string())), utf8) + " " +
         params(d.value("params", json()), utf8) + ")";
}

std::string language(const json& l, bool utf8) {
  if (!l.is_array() || l.empty()) return "NIL";
  if (l.size() == 1) return nstr(l[0], utf8);
  std::string out = "(";
  for (const auto& x : l) out += (out.size() > 1 ? " " : "") + nstr(x, utf8);
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

json parse_object(std::string_view text) {
  auto j = json::parse(text, nullptr, false);
  return j.is_object() ? j : json::object();
}

std::string render_envelope(const json& env, bool utf8) {
  return "(" + raw_field(env, "date", utf8) + " " + raw_field(env, "subject", utf8) + " " +
         addresses(env, "from", utf8) + " " + addresses(env, "sender", utf8) + " " +
         addresses(env, "reply_to", utf8) + " " + addresses(env, "to", utf8) + " " +
         addresses(env, "cc", utf8) + " " + addresses(env, "bcc", utf8) + " " +
         raw_field(env, "in_reply_to", utf8) + " " + raw_field(env, "message_id", utf8) + ")";
}

std::string render_body(const json& part, bool ext, bool utf8) {
  // Extension data common to multiparts and leaves: disposition, language, location.
  auto tail = [&] {
    return disposition(part.value("disposition", json()), utf8) + " " +
           language(part.value("language", json()), utf8) + " " +
           nstr(part.value("location", json()), utf8);
  };
  if (auto it = part.find("parts"); it != part.end() && it->is_array() && !it->empty()) {
    std::string out = "(";
    for (const auto& c : *it) out += render_body(c, ext, utf8);
    out += " " + quote_string(upper(part.value("subtype", std::string("mixed"))), utf8);
    if (ext) out += " " + params(part.value("params", json()), utf8) + " " + tail();
    return out + ")";
  }
  auto type = upper(part.value("type", std::string("text")));
  auto subtype = upper(part.value("subtype", std::string("plain")));
  std::string out = "(" + quote_string(type, utf8) + " " + quote_string(subtype, utf8) + " " +
                    params(part.value("params", json()), utf8) + " " +
                    nstr(part.value("id", json()), utf8) + " " +
                    nstr(part.value("description", json()), utf8) + " " +
                    quote_string(part.value("encoding", std::string("7BIT")), utf8) + " " +
                    num(part.value("size", json()));
  if (auto m = part.find("message"); m != part.end() && m->is_object()) {
    out += " " + render_envelope(m->value("envelope", json::object()), utf8) + " " +
           render_body(m->value("body", json::object()), ext, utf8) + " " +
           num(part.value("lines", json()));
  } else if (type == "TEXT") {
    out += " " + num(part.value("lines", json()));
  }
  if (ext) out += " " + nstr(part.value("md5", json()), utf8) + " " + tail();
  return out + ")";
}

std::shared_ptr<MessageCache> make_message_cache() {
  return std::make_shared<MessageCache>();
}

store::IngestForms ingest_forms(std::shared_ptr<MessageCache> cache) {
  store::IngestForms forms;
  forms.version = kStoredFormsVersion;
  forms.render = [](std::string_view raw, std::string_view envelope_json,
                    std::string_view bodystructure_json) {
    const auto envelope = parse_object(envelope_json);
    const auto root = parse_object(bodystructure_json);
    store::ImapForms out;
    out.envelope = render_envelope(envelope, false);
    out.bodystructure = render_body(root, true, false);
    const auto header_end = root.value("body_offset", std::uint64_t{0});
    if (header_end <= raw.size() && header_end <= kStoredHeaderMax)
      out.header = std::string(raw.substr(0, header_end));
    return out;
  };
  if (cache)
    forms.stored = [cache](const store::ImapForms& f) {
      using Part = MessageCache::Part;
      if (f.envelope) cache->put(f.message, Part::envelope, *f.envelope);
      if (f.bodystructure) cache->put(f.message, Part::bodystructure, *f.bodystructure);
      if (f.header) cache->put(f.message, Part::header, *f.header);
    };
  return forms;
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

namespace {

// `name` (a field name as written, trailing blanks ignored) is `field`, whatever the case.
bool field_named(std::string_view name, std::string_view field) {
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  return iequals(name, field);
}

}  // namespace

void append_filtered_header(std::string& out, std::string_view header,
                            const std::vector<std::string>& fields, bool exclude) {
  bool keep = false;
  std::size_t pos = 0;
  while (pos < header.size()) {
    auto eol = header.find('\n', pos);
    auto line = header.substr(pos, eol == std::string_view::npos ? eol : eol + 1 - pos);
    pos = eol == std::string_view::npos ? header.size() : eol + 1;
    if (line == "\r\n" || line == "\n") break;
    if (line[0] != ' ' && line[0] != '\t') {
      auto colon = line.find(':');
      auto name = line.substr(0, colon == std::string_view::npos ? 0 : colon);
      bool listed = std::any_of(fields.begin(), fields.end(),
                                [&](const std::string& f) { return field_named(name, f); });
      keep = colon != std::string_view::npos && listed != exclude;
    }
    if (keep) out += line;
  }
  out += "\r\n";
}

std::string filter_header(std::string_view header, const std::vector<std::string>& fields,
                          bool exclude) {
  std::string out;
  append_filtered_header(out, header, fields, exclude);
  return out;
}

}  // namespace govmail::imap
