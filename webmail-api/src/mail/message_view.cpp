#include "mail/message_view.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "core/ascii.hpp"
#include "store/address.hpp"
#include "store/mime.hpp"

namespace govmail::webmail::mail {
namespace {

std::string unfold_trim(std::string_view raw) {
  std::string out;
  for (char c : raw)
    if (c != '\r' && c != '\n') out += c;
  const auto b = out.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = out.find_last_not_of(" \t");
  return out.substr(b, e - b + 1);
}

Json address_json(const store::Address& a) {
  Json name = a.name ? Json(store::decode_header_text(*a.name)) : Json();
  return Json{{"name", name}, {"email", store::addr_spec(a)}};
}

Json addresses(std::string_view raw) {
  Json out = Json::array();
  for (const auto& a : store::parse_address_list(raw).items)
    if (a.mailbox && a.host) out.push_back(address_json(a));
  return out;
}

Json grouped_addresses(std::string_view raw) {
  Json out = Json::array();
  Json* group = nullptr;
  for (const auto& a : store::parse_address_list(raw).items) {
    if (a.mailbox && !a.host) {  // group start
      out.push_back(
          {{"name", store::decode_header_text(*a.mailbox)}, {"addresses", Json::array()}});
      group = &out.back()["addresses"];
    } else if (!a.mailbox && !a.host) {  // group end
      group = nullptr;
    } else {
      if (!group) {
        out.push_back({{"name", nullptr}, {"addresses", Json::array()}});
        group = &out.back()["addresses"];
        group->push_back(address_json(a));
        group = nullptr;
        continue;
      }
      group->push_back(address_json(a));
    }
  }
  return out;
}

Json message_ids(std::string_view raw) {
  Json out = Json::array();
  std::size_t p = 0;
  while ((p = raw.find('<', p)) != std::string_view::npos) {
    auto e = raw.find('>', p);
    if (e == std::string_view::npos) break;
    std::string id = unfold_trim(raw.substr(p + 1, e - p - 1));
    if (!id.empty()) out.push_back(id);
    p = e + 1;
  }
  if (out.empty()) {
    auto t = unfold_trim(raw);
    if (!t.empty() && t.find(' ') == std::string::npos && t.find('@') != std::string::npos)
      out.push_back(t);
  }
  return out.empty() ? Json() : out;
}

// "[Day,] DD Mon YYYY HH:MM[:SS] +ZZZZ" (RFC 5322 3.3); nullopt when it does not read.
std::optional<std::pair<std::int64_t, int>> parse_date(std::string_view raw) {
  std::string s = unfold_trim(raw);
  if (auto c = s.find(','); c != std::string::npos) s = s.substr(c + 1);
  int d = 0, y = 0, h = 0, mi = 0, sec = 0;
  char mon[4] = {}, zone[8] = {};
  int n = std::sscanf(s.c_str(), " %d %3s %d %d:%d:%d %7s", &d, mon, &y, &h, &mi, &sec, zone);
  if (n < 7) {
    sec = 0;
    n = std::sscanf(s.c_str(), " %d %3s %d %d:%d %7s", &d, mon, &y, &h, &mi, zone);
    if (n < 6) return std::nullopt;
  }
  static const char* kMonths = "janfebmaraprmayjunjulaugsepoctnovdec";
  const auto mpos = std::string(kMonths).find(core::ascii_lower(mon));
  if (mpos == std::string::npos || mpos % 3 != 0) return std::nullopt;
  if (y < 100) y += y < 50 ? 2000 : 1900;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = static_cast<int>(mpos / 3);
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  int offset = 0;
  if ((zone[0] == '+' || zone[0] == '-') && std::strlen(zone) == 5) {
    const int v = std::atoi(zone + 1);
    offset = (v / 100) * 60 + v % 100;
    if (zone[0] == '-') offset = -offset;
  }
  return std::make_pair(static_cast<std::int64_t>(timegm(&tm)) - offset * 60, offset);
}

std::string rfc3339(std::int64_t unix, int offset_minutes) {
  std::time_t t = static_cast<std::time_t>(unix + offset_minutes * 60);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (offset_minutes == 0) return out + "Z";
  const int a = std::abs(offset_minutes);
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', a / 60, a % 60);
  return out + buf;
}

Json urls(std::string_view raw) {
  Json out = Json::array();
  std::size_t p = 0;
  while ((p = raw.find('<', p)) != std::string_view::npos) {
    auto e = raw.find('>', p);
    if (e == std::string_view::npos) break;
    out.push_back(unfold_trim(raw.substr(p + 1, e - p - 1)));
    p = e + 1;
  }
  return out.empty() ? Json() : out;
}

Json one_form(const std::string& raw, std::string_view form) {
  if (form == "asRaw") return raw;
  if (form == "asText") return store::decode_header_text(unfold_trim(raw));
  if (form == "asAddresses") return addresses(raw);
  if (form == "asGroupedAddresses") return grouped_addresses(raw);
  if (form == "asMessageIds") return message_ids(raw);
  if (form == "asDate") {
    auto d = parse_date(raw);
    return d ? Json(rfc3339(d->first, d->second)) : Json();
  }
  if (form == "asURLs") return urls(raw);
  return Json();
}

const Json* find_part(const Json& part, const std::string& section) {
  if (part.value("section", "") == section && !part.contains("parts")) return &part;
  if (auto p = part.find("parts"); p != part.end())
    for (const auto& c : *p)
      if (auto f = find_part(c, section)) return f;
  return nullptr;
}

bool inline_media(const std::string& type) {
  return type.rfind("image/", 0) == 0 || type.rfind("audio/", 0) == 0 ||
         type.rfind("video/", 0) == 0;
}

void parse_structure(const Json& parts, const std::string& multipart_type, bool in_alternative,
                     std::vector<Json>* html, std::vector<Json>* text,
                     std::vector<Json>& attachments) {
  const long text_len = text ? static_cast<long>(text->size()) : -1;
  const long html_len = html ? static_cast<long>(html->size()) : -1;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const Json& part = parts[i];
    const std::string type = part.value("type", "");
    const bool multipart = type.rfind("multipart/", 0) == 0;
    const bool is_inline =
        part.value("disposition", Json()) != "attachment" &&
        (type == "text/plain" || type == "text/html" || inline_media(type)) &&
        (i == 0 || (multipart_type != "related" && (inline_media(type) || part["name"].is_null())));
    if (multipart) {
      const std::string sub = type.substr(10);
      parse_structure(part["subParts"], sub, in_alternative || sub == "alternative", html, text,
                      attachments);
    } else if (is_inline) {
      if (multipart_type == "alternative") {
        if (type == "text/plain" && text)
          text->push_back(part);
        else if (type == "text/html" && html)
          html->push_back(part);
        else
          attachments.push_back(part);
        continue;
      }
      if (in_alternative) {
        if (type == "text/plain") html = nullptr;
        if (type == "text/html") text = nullptr;
      }
      if (text) text->push_back(part);
      if (html) html->push_back(part);
      if ((!text || !html) && inline_media(type)) attachments.push_back(part);
    } else {
      attachments.push_back(part);
    }
  }
  if (multipart_type == "alternative" && text && html) {
    if (text_len == static_cast<long>(text->size()) && html_len != static_cast<long>(html->size()))
      for (auto i = static_cast<std::size_t>(html_len); i < html->size(); ++i)
        text->push_back((*html)[i]);
    if (html_len == static_cast<long>(html->size()) && text_len != static_cast<long>(text->size()))
      for (auto i = static_cast<std::size_t>(text_len); i < text->size(); ++i)
        html->push_back((*text)[i]);
  }
}

std::uint64_t decoded_size(const Json& p) {
  const auto size = p.value("size", std::uint64_t{0});
  return p.value("encoding", "") == "BASE64" ? size * 3 / 4 : size;
}

Json param_value(const Json& params, const char* name) {
  if (!params.is_array()) return Json();
  for (const auto& kv : params)
    if (kv.is_array() && kv.size() == 2 && core::ascii_lower(kv[0].get<std::string>()) == name)
      return kv[1];
  return Json();
}

}  // namespace

std::vector<HeaderField> parse_header_block(std::string_view block) {
  std::vector<HeaderField> out;
  std::size_t p = 0;
  while (p < block.size()) {
    auto eol = block.find('\n', p);
    if (eol == std::string_view::npos) eol = block.size();
    std::string_view line = block.substr(p, eol - p);
    if (line.empty() || line == "\r") break;  // the blank line ends the header
    if ((line[0] == ' ' || line[0] == '\t') && !out.empty()) {
      out.back().raw += "\r\n";
      out.back().raw += line.substr(0, line.size() - (line.back() == '\r' ? 1 : 0));
    } else if (auto c = line.find(':'); c != std::string_view::npos) {
      auto value = line.substr(c + 1);
      if (!value.empty() && value.back() == '\r') value.remove_suffix(1);
      auto name = line.substr(0, c);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
      out.push_back({std::string(name), std::string(value)});
    }
    p = eol + 1;
  }
  return out;
}

Json header_as(const std::vector<HeaderField>& headers, std::string_view name,
               std::string_view form) {
  const std::string want = core::ascii_lower(name);
  for (auto it = headers.rbegin(); it != headers.rend(); ++it)
    if (core::ascii_lower(it->name) == want) return one_form(it->raw, form);
  return Json();
}

std::optional<Json> header_property(const std::vector<HeaderField>& headers,
                                    const std::string& property) {
  // header:Name[:form][:all]
  std::vector<std::string> bits;
  std::size_t p = 0;
  while (true) {
    auto c = property.find(':', p);
    bits.push_back(property.substr(p, c == std::string::npos ? std::string::npos : c - p));
    if (c == std::string::npos) break;
    p = c + 1;
  }
  if (bits.size() < 2 || bits.size() > 4 || bits[1].empty()) return std::nullopt;
  bool all = false;
  std::string form = "asRaw";
  if (bits.size() >= 3) {
    if (bits.back() == "all") {
      all = true;
      bits.pop_back();
    }
    if (bits.size() == 3) form = bits[2];
  }
  static const char* kForms[] = {"asRaw",        "asText", "asAddresses", "asGroupedAddresses",
                                 "asMessageIds", "asDate", "asURLs"};
  if (std::none_of(std::begin(kForms), std::end(kForms), [&](const char* f) { return form == f; }))
    return std::nullopt;
  const std::string want = core::ascii_lower(bits[1]);
  if (!all) return header_as(headers, want, form);
  Json out = Json::array();
  for (const auto& h : headers)
    if (core::ascii_lower(h.name) == want) out.push_back(one_form(h.raw, form));
  return out;
}

Json body_structure(const Json& bs, store::MessageId message) {
  Json out;
  const std::string type =
      bs.value("type", "application") + "/" + bs.value("subtype", "octet-stream");
  const std::string section = bs.value("section", "");
  const bool multipart = bs.contains("parts");
  out["partId"] = multipart ? Json() : Json(section.empty() ? "1" : section);
  out["blobId"] = multipart ? Json()
                            : Json("B" + std::to_string(message) + "_" +
                                   (section.empty() ? "1" : section));  // mail/blob.hpp
  out["size"] = multipart ? 0 : decoded_size(bs);
  out["name"] = bs.value("filename", Json());
  out["type"] = type;
  out["charset"] = bs.value("charset", Json());
  const Json disp = bs.value("disposition", Json());
  out["disposition"] = disp.is_object() ? disp.value("type", Json()) : Json();
  Json cid = bs.value("id", Json());
  if (cid.is_string()) {
    auto s = cid.get<std::string>();
    if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
    cid = s;
  }
  out["cid"] = cid;
  out["language"] = bs.value("language", Json());
  out["location"] = bs.value("location", Json());
  if (multipart) {
    out["subParts"] = Json::array();
    for (const auto& c : bs["parts"]) out["subParts"].push_back(body_structure(c, message));
  }
  (void)param_value;
  return out;
}

Json body_part_subset(const Json& part, const std::vector<std::string>& props) {
  Json out = Json::object();
  for (const auto& p : props) {
    if (p == "subParts") {
      if (part.contains("subParts")) {
        Json subs = Json::array();
        for (const auto& c : part["subParts"]) subs.push_back(body_part_subset(c, props));
        out["subParts"] = subs;
      }
    } else if (part.contains(p)) {
      out[p] = part[p];
    } else {
      out[p] = nullptr;
    }
  }
  return out;
}

BodyLists body_lists(const Json& structure) {
  BodyLists l;
  parse_structure(Json::array({structure}), "mixed", false, &l.html, &l.text, l.attachments);
  return l;
}

bool has_attachment(const Json& bs) {
  if (bs.value("filename", Json()).is_string()) return true;
  const Json disp = bs.value("disposition", Json());
  if (disp.is_object() && disp.value("type", "") == "attachment") return true;
  if (auto p = bs.find("parts"); p != bs.end())
    for (const auto& c : *p)
      if (has_attachment(c)) return true;
  if (auto m = bs.find("message"); m != bs.end() && m->is_object() && m->contains("body"))
    return has_attachment((*m)["body"]);
  return false;
}

std::string part_text(std::string_view raw, const Json& bs, const std::string& part_id) {
  const Json* part =
      find_part(bs, part_id == "1" && !bs.contains("parts") ? bs.value("section", "") : part_id);
  if (!part) return "";
  const auto b = part->value("body_offset", std::size_t{0});
  const auto e = std::min(part->value("end_offset", std::size_t{0}), raw.size());
  if (b >= e) return "";
  const Json cs = part->value("charset", Json());
  return store::decode_text_part(raw.substr(b, e - b), part->value("encoding", "7BIT"),
                                 cs.is_string() ? cs.get<std::string>() : "us-ascii");
}

std::string utf8_truncate(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s;
}

std::string preview(std::string_view raw, const Json& bs) {
  auto lists = body_lists(body_structure(bs, 0));
  for (const auto& p : lists.text) {
    const std::string type = p.value("type", "");
    if (type != "text/plain" && type != "text/html") continue;
    std::string t = part_text(raw, bs, p["partId"].get<std::string>());
    if (type == "text/html") t = store::html_text(t);
    std::string out;
    bool space = false;
    for (char c : t) {
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        space = !out.empty();
        continue;
      }
      if (space) out += ' ';
      space = false;
      out += c;
      if (out.size() > 1200) break;
    }
    // 256 characters, not bytes.
    std::size_t chars = 0, i = 0;
    for (; i < out.size() && chars < 256; ++i)
      if ((static_cast<unsigned char>(out[i]) & 0xC0) != 0x80) ++chars;
    while (i < out.size() && (static_cast<unsigned char>(out[i]) & 0xC0) == 0x80) ++i;
    out.resize(i);
    return out;
  }
  return "";
}

std::optional<std::string> rfc3339_of_header_date(std::string_view raw,
                                                  std::optional<std::int64_t> unix) {
  auto d = parse_date(raw);
  if (d) return rfc3339(unix.value_or(d->first), d->second);
  if (unix) return rfc3339(*unix, 0);
  return std::nullopt;
}

}  // namespace govmail::webmail::mail
