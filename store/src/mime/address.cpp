#include "mime/address.hpp"

namespace govmail::store::mime {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string trim_copy(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// Position after the quoted string starting at s[pos] == '"'; its content goes to *out.
std::size_t read_quoted(std::string_view s, std::size_t pos, std::string* out) {
  ++pos;
  while (pos < s.size() && s[pos] != '"') {
    if (s[pos] == '\\' && pos + 1 < s.size()) ++pos;
    if (out != nullptr) out->push_back(s[pos]);
    ++pos;
  }
  return pos < s.size() ? pos + 1 : pos;
}

// Position after the comment starting at s[pos] == '('; its content goes to *out.
std::size_t read_comment(std::string_view s, std::size_t pos, std::string* out) {
  int depth = 0;
  do {
    const char c = s[pos];
    if (c == '\\' && pos + 1 < s.size()) {
      if (out != nullptr) out->push_back(s[pos + 1]);
      pos += 2;
      continue;
    }
    if (c == '(') {
      if (depth > 0 && out != nullptr) out->push_back(c);
      ++depth;
    } else if (c == ')') {
      --depth;
      if (depth > 0 && out != nullptr) out->push_back(c);
    } else if (out != nullptr) {
      out->push_back(c);
    }
    ++pos;
  } while (pos < s.size() && depth > 0);
  return pos;
}

// Text with quoted strings unquoted and comments dropped (a phrase or an addr-spec).
std::string unquote(std::string_view s, std::string* comment) {
  std::string out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    if (s[pos] == '"') {
      pos = read_quoted(s, pos, &out);
    } else if (s[pos] == '(') {
      std::string text;
      pos = read_comment(s, pos, &text);
      if (comment != nullptr && comment->empty()) *comment = trim_copy(text);
    } else {
      out.push_back(s[pos++]);
    }
  }
  return trim_copy(out);
}

void split_addr_spec(std::string_view spec, Address& a) {
  std::string s = trim_copy(spec);
  if (!s.empty() && s.front() == '@') {  // obsolete source route: "@a,@b:user@host"
    const std::size_t colon = s.find(':');
    if (colon != std::string::npos) {
      a.adl = s.substr(0, colon);
      s.erase(0, colon + 1);
    }
  }
  // The last '@' outside quotes separates the domain.
  std::size_t at = std::string::npos;
  bool quoted = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && quoted) {
      ++i;
    } else if (s[i] == '"') {
      quoted = !quoted;
    } else if (s[i] == '@' && !quoted) {
      at = i;
    }
  }
  std::string local = at == std::string::npos ? s : s.substr(0, at);
  std::string host = at == std::string::npos ? std::string() : s.substr(at + 1);
  std::string clean_local = unquote(local, nullptr);
  std::string clean_host;
  for (char c : host) {
    if (!is_space(c)) clean_host.push_back(c);
  }
  a.mailbox = std::move(clean_local);
  a.host = std::move(clean_host);
}

void add_item(std::string_view item, std::vector<Address>& out) {
  // Find '<' outside quotes and comments.
  std::size_t angle = std::string_view::npos;
  for (std::size_t pos = 0; pos < item.size() && angle == std::string_view::npos;) {
    if (item[pos] == '"') {
      pos = read_quoted(item, pos, nullptr);
    } else if (item[pos] == '(') {
      pos = read_comment(item, pos, nullptr);
    } else if (item[pos] == '<') {
      angle = pos;
    } else {
      ++pos;
    }
  }
  Address a;
  std::string comment;
  if (angle != std::string_view::npos) {
    std::string phrase = unquote(item.substr(0, angle), nullptr);
    if (!phrase.empty()) a.name = std::move(phrase);
    std::size_t close = item.find('>', angle);
    if (close == std::string_view::npos) close = item.size();
    std::string spec = unquote(item.substr(angle + 1, close - angle - 1), nullptr);
    if (spec.empty() && !a.name) return;
    split_addr_spec(spec, a);
  } else {
    std::string spec = unquote(item, &comment);
    if (spec.empty()) return;
    split_addr_spec(spec, a);
    if (!comment.empty()) a.name = std::move(comment);  // "user@host (Name)"
  }
  out.push_back(std::move(a));
}

}  // namespace

std::vector<Address> parse_address_list(std::string_view s) {
  std::vector<Address> out;
  bool in_group = false;
  bool in_angle = false;
  std::size_t item_start = 0;
  std::size_t pos = 0;
  while (pos < s.size()) {
    const char c = s[pos];
    if (c == '"') {
      pos = read_quoted(s, pos, nullptr);
      continue;
    }
    if (c == '(') {
      pos = read_comment(s, pos, nullptr);
      continue;
    }
    if (in_angle) {
      in_angle = c != '>';
    } else if (c == '<') {
      in_angle = true;
    } else if (c == ',') {
      add_item(s.substr(item_start, pos - item_start), out);
      item_start = pos + 1;
    } else if (c == ':' && !in_group) {
      Address start;
      start.mailbox = unquote(s.substr(item_start, pos - item_start), nullptr);
      out.push_back(std::move(start));
      in_group = true;
      item_start = pos + 1;
    } else if (c == ';' && in_group) {
      add_item(s.substr(item_start, pos - item_start), out);
      out.push_back(Address{});
      in_group = false;
      item_start = pos + 1;
    }
    ++pos;
  }
  add_item(s.substr(std::min(item_start, s.size())), out);
  if (in_group) out.push_back(Address{});
  return out;
}

std::vector<std::string> parse_msg_ids(std::string_view s, std::size_t max) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  bool any_angle = false;
  while (pos < s.size() && out.size() < max) {
    const std::size_t open = s.find('<', pos);
    if (open == std::string_view::npos) break;
    any_angle = true;
    const std::size_t close = s.find('>', open + 1);
    if (close == std::string_view::npos) break;
    std::string id;
    for (char c : s.substr(open + 1, close - open - 1)) {
      if (!is_space(c)) id.push_back(c);
    }
    if (!id.empty()) out.push_back(std::move(id));
    pos = close + 1;
  }
  if (!any_angle) {  // "id@host" written without brackets
    std::size_t start = 0;
    while (start < s.size() && out.size() < max) {
      while (start < s.size() && (is_space(s[start]) || s[start] == ',')) ++start;
      std::size_t end = start;
      while (end < s.size() && !is_space(s[end]) && s[end] != ',') ++end;
      if (end > start) out.emplace_back(s.substr(start, end - start));
      start = end;
    }
  }
  return out;
}

}  // namespace govmail::store::mime
