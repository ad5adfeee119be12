// parse_message: the scanner's part tree (offsets) + GMime decoding -> the cached JSON views.
#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/text.hpp"
#include "mime/address.hpp"
#include "mime/decode.hpp"
#include "mime/scanner.hpp"
#include "store/mime.hpp"

namespace govmail::store {
namespace {

using json = nlohmann::ordered_json;
using mime::Header;
using mime::Node;
using mime::NodeKind;
using mime::Tree;

// JSON depth is about twice the nesting depth: keep recursion far from the stack limit whatever
// the configuration says.
constexpr std::size_t kDepthCeiling = 200;
constexpr std::size_t kMaxIds = 1000;  // References entries kept
constexpr std::size_t kMaxWarnings = 60;

json raw_or_null(const Header* h) {
  return h ? json(core::sanitize_utf8(h->value)) : json(nullptr);
}

json params_json(const mime::Params& params) {
  json arr = json::array();
  for (const auto& [name, value] : params)
    arr.push_back(json::array({core::sanitize_utf8(name), core::sanitize_utf8(value)}));
  return arr;
}

bool has_param_prefix(const mime::Params& params, std::string_view prefix) {
  for (const auto& [name, value] : params) {
    if (name.size() >= prefix.size() && mime::iequals(name.substr(0, prefix.size()), prefix))
      return true;
  }
  return false;
}

// Cuts s to at most max bytes without splitting a UTF-8 sequence.
void truncate_utf8(std::string& s, std::size_t max) {
  if (s.size() <= max) return;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
}

class Builder {
 public:
  Builder(std::string_view raw, const Tree& tree, const MimeLimits& limits, ParsedMessage& out)
      : raw_(raw), tree_(tree), limits_(limits), out_(out), sections_(tree.nodes.size()) {}

  void run() {
    assign_sections();
    out_.bodystructure_json = dump(part_json(0));
    out_.envelope_json = dump(envelope_json(node(0)));
    fill_top_level(node(0));
    walk_parts();
    for (const std::string& w : tree_.warnings) warn(w);
  }

 private:
  const Node& node(int id) const { return tree_.nodes[static_cast<std::size_t>(id)]; }

  static std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  void warn(std::string text) {
    if (out_.warnings.size() < kMaxWarnings) out_.warnings.push_back(core::sanitize_utf8(text));
  }

  static std::string join(const std::string& prefix, std::size_t index) {
    return prefix.empty() ? std::to_string(index) : prefix + "." + std::to_string(index);
  }

  // IMAP section numbers (RFC 3501 6.4.5). A multipart that is the body of a message has the
  // number of that message ("" at the top); a single-part body of a message is <message>.1.
  void assign_sections() {
    sections_[0] = node(0).kind == NodeKind::multipart ? "" : "1";
    for (std::size_t i = 0; i < tree_.nodes.size(); ++i) {
      const Node& n = tree_.nodes[i];
      if (n.kind == NodeKind::multipart) {
        for (std::size_t k = 0; k < n.children.size(); ++k)
          sections_[static_cast<std::size_t>(n.children[k])] = join(sections_[i], k + 1);
      } else if (n.kind == NodeKind::message && !n.children.empty()) {
        const int e = n.children[0];
        sections_[static_cast<std::size_t>(e)] =
            node(e).kind == NodeKind::multipart ? sections_[i] : join(sections_[i], 1);
      }
    }
  }

  std::string filename(const Node& n) const {
    if (const Header* cd = mime::find_header(n, "Content-Disposition")) {
      if (has_param_prefix(mime::parse_disposition(cd->value).params, "filename")) {
        if (auto f = mime::decoded_param(cd->value, true, "filename"); f && !f->empty()) return *f;
      }
    }
    if (const Header* ct = mime::find_header(n, "Content-Type");
        ct && has_param_prefix(n.params, "name")) {
      if (auto f = mime::decoded_param(ct->value, false, "name"); f && !f->empty()) return *f;
    }
    return {};
  }

  static bool rewritten(const Node& n) {
    return n.opaque && (n.type == "multipart" || n.type == "message");
  }

  json part_json(int id) {
    const Node& n = node(id);
    json j;
    j["section"] = sections_[static_cast<std::size_t>(id)];
    const bool rewrite = rewritten(n);
    j["type"] = rewrite ? "application" : core::sanitize_utf8(n.type);
    j["subtype"] = rewrite ? "octet-stream" : core::sanitize_utf8(n.subtype);
    j["params"] = params_json(n.params);
    j["id"] = raw_or_null(mime::find_header(n, "Content-ID"));
    j["description"] = raw_or_null(mime::find_header(n, "Content-Description"));
    j["encoding"] = core::sanitize_utf8(n.encoding);
    j["size"] = n.end_offset - n.body_offset;
    const bool has_lines = !rewrite && (n.type == "text" || n.kind == NodeKind::message);
    j["lines"] =
        has_lines ? json(tree_.count_lines(raw_, n.body_offset, n.end_offset)) : json(nullptr);
    j["md5"] = raw_or_null(mime::find_header(n, "Content-MD5"));
    j["disposition"] = disposition_json(n);
    j["language"] = language_json(n);
    j["location"] = raw_or_null(mime::find_header(n, "Content-Location"));
    j["header_offset"] = n.header_offset;
    j["body_offset"] = n.body_offset;
    j["end_offset"] = n.end_offset;
    const std::string name = filename(n);
    j["filename"] = name.empty() ? json(nullptr) : json(name);
    const std::string* cs = mime::find_param(n.params, "charset");
    if (cs != nullptr) {
      j["charset"] = core::sanitize_utf8(lower(*cs));
    } else {
      j["charset"] = n.type == "text" ? json("us-ascii") : json(nullptr);
    }
    if (n.opaque) {
      j["opaque"] = true;
      j["opaque_type"] = core::sanitize_utf8(n.type + "/" + n.subtype);
    }
    if (n.kind == NodeKind::multipart) {
      json parts = json::array();
      for (int c : n.children) parts.push_back(part_json(c));
      j["parts"] = std::move(parts);
    } else if (n.kind == NodeKind::message && !n.children.empty()) {
      const Node& e = node(n.children[0]);
      j["message"] = {{"envelope", envelope_json(e)},
                      {"body", part_json(n.children[0])},
                      {"header_offset", e.header_offset},
                      {"body_offset", e.body_offset}};
    }
    return j;
  }

  static std::string lower(std::string s) {
    for (char& c : s) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
    }
    return s;
  }

  static json disposition_json(const Node& n) {
    const Header* h = mime::find_header(n, "Content-Disposition");
    if (h == nullptr) return nullptr;
    mime::ParsedType d = mime::parse_disposition(h->value);
    if (!d.valid) return nullptr;
    return {{"type", core::sanitize_utf8(d.type)}, {"params", params_json(d.params)}};
  }

  static json language_json(const Node& n) {
    const Header* h = mime::find_header(n, "Content-Language");
    if (h == nullptr) return nullptr;
    json arr = json::array();
    std::string tag;
    auto flush = [&] {
      if (!tag.empty()) arr.push_back(core::sanitize_utf8(tag));
      tag.clear();
    };
    for (char c : h->value) {
      if (c == ',')
        flush();
      else if (c != ' ' && c != '\t')
        tag.push_back(c);
    }
    flush();
    return arr.empty() ? json(nullptr) : arr;
  }

  static json string_field(const Header* h, bool decode) {
    if (h == nullptr) return {{"raw", nullptr}, {"decoded", nullptr}};
    return {{"raw", core::sanitize_utf8(h->value)},
            {"decoded", decode ? mime::decode_header_text(h->value) : core::nfc(h->value)}};
  }

  static json address_field(const Header* h) {
    if (h == nullptr) return nullptr;
    json arr = json::array();
    for (const mime::Address& a : mime::parse_address_list(h->value).items) {
      auto opt = [](const std::optional<std::string>& s) {
        return s ? json(core::sanitize_utf8(*s)) : json(nullptr);
      };
      arr.push_back(
          {{"name", opt(a.name)},
           {"name_decoded", a.name ? json(mime::decode_header_text(*a.name)) : json(nullptr)},
           {"adl", opt(a.adl)},
           {"mailbox", opt(a.mailbox)},
           {"host", opt(a.host)}});
    }
    return arr.empty() ? json(nullptr) : arr;
  }

  static json envelope_json(const Node& n) {
    json j;
    const Header* date = mime::find_header(n, "Date");
    j["date"] = string_field(date, false);
    std::optional<std::int64_t> unix_time = date ? mime::parse_date(date->value) : std::nullopt;
    j["date"]["unix"] = unix_time ? json(*unix_time) : json(nullptr);
    j["subject"] = string_field(mime::find_header(n, "Subject"), true);
    json from = address_field(mime::find_header(n, "From"));
    json sender = address_field(mime::find_header(n, "Sender"));
    json reply_to = address_field(mime::find_header(n, "Reply-To"));
    j["from"] = from;
    j["sender"] = sender.is_null() ? from : sender;  // RFC 3501 7.4.2
    j["reply_to"] = reply_to.is_null() ? from : reply_to;
    j["to"] = address_field(mime::find_header(n, "To"));
    j["cc"] = address_field(mime::find_header(n, "Cc"));
    j["bcc"] = address_field(mime::find_header(n, "Bcc"));
    j["in_reply_to"] = string_field(mime::find_header(n, "In-Reply-To"), false);
    j["message_id"] = string_field(mime::find_header(n, "Message-ID"), false);
    return j;
  }

  void fill_top_level(const Node& root) {
    if (const Header* h = mime::find_header(root, "Subject"))
      out_.subject = mime::decode_header_text(h->value);
    if (const Header* h = mime::find_header(root, "From")) {
      for (const mime::Address& a : mime::parse_address_list(h->value).items) {
        if (a.mailbox && a.host && !a.mailbox->empty()) {
          out_.from_address = core::sanitize_utf8(store::addr_spec(a));
          break;
        }
      }
    }
    auto first_id = [&](const char* name) -> std::string {
      const Header* h = mime::find_header(root, name);
      if (h == nullptr) return {};
      auto ids = mime::parse_msg_ids(h->value, 1);
      return ids.empty() ? std::string() : core::sanitize_utf8(ids[0]);
    };
    out_.message_id = first_id("Message-ID");
    out_.in_reply_to = first_id("In-Reply-To");
    if (const Header* h = mime::find_header(root, "References")) {
      for (std::string& id : mime::parse_msg_ids(h->value, kMaxIds))
        out_.references.push_back(core::sanitize_utf8(id));
    }
    if (const Header* h = mime::find_header(root, "Date")) out_.date = mime::parse_date(h->value);
  }

  // multipart/alternative: only the text/plain child (else the last child) is indexed, so the
  // same text is not indexed twice.
  int preferred_alternative(const Node& n) const {
    for (int c : n.children) {
      if (node(c).type == "text" && node(c).subtype == "plain") return c;
    }
    return n.children.back();
  }

  static std::uint64_t decoded_size(std::string_view body, const std::string& encoding) {
    if (encoding != "BASE64") return body.size();
    std::uint64_t chars = 0;
    for (char c : body) {
      if (c != '\r' && c != '\n' && c != ' ' && c != '\t' && c != '=') ++chars;
    }
    return chars * 3 / 4;
  }

  // Node ids are in document order with parents first, so one forward pass sees every part.
  void walk_parts() {
    std::vector<char> skip_text(tree_.nodes.size(), 0);
    std::vector<char> in_attachment(tree_.nodes.size(), 0);
    std::vector<std::string> names;
    for (std::size_t i = 0; i < tree_.nodes.size(); ++i) {
      const Node& n = tree_.nodes[i];
      if (n.parent >= 0) {
        skip_text[i] = skip_text[i] || skip_text[static_cast<std::size_t>(n.parent)];
        in_attachment[i] = in_attachment[static_cast<std::size_t>(n.parent)];
      }
      if (n.kind == NodeKind::multipart && n.subtype == "alternative") {
        const int keep = preferred_alternative(n);
        for (int c : n.children) {
          if (c != keep) skip_text[static_cast<std::size_t>(c)] = 1;
        }
      }
      if (n.kind == NodeKind::multipart) continue;
      const std::string name = filename(n);
      const mime::Header* cd = mime::find_header(n, "Content-Disposition");
      const bool attachment =
          !name.empty() ||
          (cd != nullptr && mime::parse_disposition(cd->value).type == "attachment");
      if (attachment && !in_attachment[i]) {
        const std::string_view body = raw_.substr(n.body_offset, n.end_offset - n.body_offset);
        out_.attachments.push_back({sections_[i], name,
                                    core::sanitize_utf8(n.type + "/" + n.subtype),
                                    decoded_size(body, n.encoding)});
        if (!name.empty()) names.push_back(name);
        if (n.kind == NodeKind::message) in_attachment[i] = 1;
      }
      if (n.kind == NodeKind::leaf && !skip_text[i] && !n.opaque && n.type == "text" &&
          (n.subtype == "plain" || n.subtype == "html")) {
        add_text(n);
      }
    }
    for (const std::string& name : names) append_search(name);
  }

  void add_text(const Node& n) {
    if (out_.search_text.size() >= limits_.max_search_text) return;
    const std::size_t room = limits_.max_search_text - out_.search_text.size();
    std::string_view body = raw_.substr(n.body_offset, n.end_offset - n.body_offset);
    body = body.substr(0, std::min(body.size(), room * 4 + 64));  // enough input for the room
    std::string decoded = mime::decode_transfer(body, n.encoding);
    const std::string* cs = mime::find_param(n.params, "charset");
    std::string warning;
    std::string text = mime::to_utf8(decoded, cs ? *cs : std::string_view(), &warning);
    if (!warning.empty())
      warn("section " + sections_[static_cast<std::size_t>(&n - tree_.nodes.data())] + ": " +
           warning);
    if (n.subtype == "html") text = core::nfc(mime::html_to_text(text));
    append_search(text);
  }

  void append_search(std::string_view text) {
    if (text.empty() || out_.search_text.size() >= limits_.max_search_text) return;
    if (!out_.search_text.empty()) out_.search_text.push_back('\n');
    out_.search_text.append(text);
    truncate_utf8(out_.search_text, limits_.max_search_text);
  }

  std::string_view raw_;
  const Tree& tree_;
  const MimeLimits& limits_;
  ParsedMessage& out_;
  std::vector<std::string> sections_;
};

// Used if building the full view failed (memory): one opaque part over the whole message.
void fallback(std::string_view raw, ParsedMessage& out) {
  out = ParsedMessage{};
  out.warnings.push_back("MIME parse failed: message kept as one opaque part");
  json part = {{"section", "1"},
               {"type", "application"},
               {"subtype", "octet-stream"},
               {"params", json::array()},
               {"id", nullptr},
               {"description", nullptr},
               {"encoding", "7BIT"},
               {"size", raw.size()},
               {"lines", nullptr},
               {"md5", nullptr},
               {"disposition", nullptr},
               {"language", nullptr},
               {"location", nullptr},
               {"header_offset", 0},
               {"body_offset", 0},
               {"end_offset", raw.size()},
               {"filename", nullptr},
               {"charset", nullptr},
               {"opaque", true}};
  out.bodystructure_json = part.dump();
  json empty = {{"raw", nullptr}, {"decoded", nullptr}};
  out.envelope_json =
      json{{"date", empty},        {"subject", empty},   {"from", nullptr}, {"sender", nullptr},
           {"reply_to", nullptr},  {"to", nullptr},      {"cc", nullptr},   {"bcc", nullptr},
           {"in_reply_to", empty}, {"message_id", empty}}
          .dump();
}

}  // namespace

ParsedMessage parse_message(std::string_view raw, const MimeLimits& limits) {
  ParsedMessage out;
  try {
    MimeLimits effective = limits;
    effective.max_depth = std::min(effective.max_depth, kDepthCeiling);
    effective.max_parts = std::max<std::size_t>(effective.max_parts, 1);
    mime::ensure_gmime();
    const Tree tree = mime::scan(raw, effective);
    Builder(raw, tree, effective, out).run();
  } catch (...) {
    try {
      fallback(raw, out);
    } catch (...) {
      out = ParsedMessage{};
    }
  }
  return out;
}

}  // namespace govmail::store
