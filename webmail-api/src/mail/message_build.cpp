#include "mail/message_build.hpp"

#include <stdexcept>

namespace govmail::webmail::mail {
namespace {

bool is_bcc(std::string_view l) {
  if (l.size() < 4 || (l[0] | 0x20) != 'b' || (l[1] | 0x20) != 'c' || (l[2] | 0x20) != 'c')
    return false;
  const auto k = l.find_first_not_of(" \t", 3);
  return k != std::string_view::npos && l[k] == ':';
}

bool plain_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

std::string part_headers(const BuildPart& p, bool text) {
  std::string h = "Content-Type: " + p.type;
  if (text) h += "; charset=utf-8";
  if (!p.name.empty()) h += "; name=\"" + encode_words(p.name) + "\"";
  h += "\r\nContent-Transfer-Encoding: base64\r\n";
  if (!p.disposition.empty()) {
    h += "Content-Disposition: " + p.disposition;
    if (!p.name.empty()) h += "; filename=\"" + encode_words(p.name) + "\"";
    h += "\r\n";
  }
  if (!p.cid.empty()) h += "Content-ID: <" + p.cid + ">\r\n";
  return h;
}

std::string leaf(const BuildPart& p) {
  const bool text = p.type.rfind("text/", 0) == 0;
  return part_headers(p, text) + "\r\n" + base64_encode(p.data, true);
}

std::string multipart(const std::string& subtype, const std::vector<std::string>& parts,
                      const std::string& boundary) {
  std::string out =
      "Content-Type: multipart/" + subtype + "; boundary=\"" + boundary + "\"\r\n\r\n";
  for (const auto& p : parts) out += "--" + boundary + "\r\n" + p + "\r\n";
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace

std::string address_list(const nlohmann::json& list) {
  if (!list.is_array()) throw std::invalid_argument("address list");
  std::string out;
  for (const auto& a : list) {
    if (!a.is_object() || !a.contains("email") || !a["email"].is_string())
      throw std::invalid_argument("address");
    const std::string email = a["email"];
    if (email.find_first_of("<>\r\n, ") != std::string::npos ||
        email.find('@') == std::string::npos)
      throw std::invalid_argument("address");
    if (!out.empty()) out += ",\r\n ";
    const std::string name =
        a.value("name", nlohmann::json()).is_string() ? a["name"].get<std::string>() : "";
    if (name.empty()) {
      out += email;
    } else if (plain_ascii(name)) {
      std::string q;
      for (char c : name) {
        if (c == '"' || c == '\\') q += '\\';
        q += c;
      }
      out += "\"" + q + "\" <" + email + ">";
    } else {
      out += encode_words(name) + " <" + email + ">";
    }
  }
  return out;
}

std::string build_message(const BuildInput& in, const std::string& seed) {
  std::string out;
  for (const auto& [name, value] : in.headers) out += name + ": " + value + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  std::vector<std::string> body;
  auto leaves = [](const std::vector<BuildPart>& v) {
    std::vector<std::string> s;
    for (const auto& p : v) s.push_back(leaf(p));
    return s;
  };
  std::string main;
  const auto text = leaves(in.text), html = leaves(in.html);
  if (!text.empty() && !html.empty()) {
    std::vector<std::string> alt;
    alt.push_back(text.size() == 1 ? text[0] : multipart("mixed", text, "t-" + seed));
    alt.push_back(html.size() == 1 ? html[0] : multipart("mixed", html, "h-" + seed));
    main = multipart("alternative", alt, "a-" + seed);
  } else if (!text.empty() || !html.empty()) {
    const auto& one = text.empty() ? html : text;
    main = one.size() == 1 ? one[0] : multipart("mixed", one, "b-" + seed);
  } else {
    main = leaf(BuildPart{"text/plain", "", "", "", ""});
  }
  if (in.attachments.empty()) return out + main;
  std::vector<std::string> mixed{main};
  for (const auto& a : leaves(in.attachments)) mixed.push_back(a);
  return out + multipart("mixed", mixed, "m-" + seed);
}

std::string without_bcc(const std::string& raw) {
  std::string out;
  std::size_t p = 0;
  bool skipping = false;
  while (p < raw.size()) {
    auto eol = raw.find('\n', p);
    const std::size_t end = eol == std::string::npos ? raw.size() : eol + 1;
    std::string_view line(raw.data() + p, end - p);
    if (line == "\r\n" || line == "\n") {  // end of the header: the rest is the body
      out.append(raw, p, std::string::npos);
      return out;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (!skipping) out += line;
    } else {
      skipping = is_bcc(line);
      if (!skipping) out += line;
    }
    p = end;
  }
  return out;
}

}  // namespace govmail::webmail::mail
