#include "smtp/headers.hpp"

#include <cctype>

namespace govmail::smtp {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// Splits an address list on commas outside quotes, comments and angle brackets; takes the
// <addr-spec> of each item, or the whole item (comments removed) when it has no brackets.
void parse_list(std::string_view v, std::vector<std::string>& out) {
  std::string item, angle;
  bool quoted = false, in_angle = false, had_angle = false;
  int comment = 0;
  auto flush = [&] {
    std::string a = had_angle ? trim(angle) : trim(item);
    if (!a.empty()) out.push_back(std::move(a));
    item.clear();
    angle.clear();
    had_angle = false;
  };
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (quoted) {
      if (c == '\\' && i + 1 < v.size()) {
        item += c;
        c = v[++i];
      } else if (c == '"') {
        quoted = false;
      }
      (in_angle ? angle : item) += c;
      continue;
    }
    if (comment) {
      if (c == '\\')
        ++i;
      else if (c == '(')
        ++comment;
      else if (c == ')')
        --comment;
      continue;
    }
    if (c == '(') {
      ++comment;
    } else if (c == '"') {
      quoted = true;
      (in_angle ? angle : item) += c;
    } else if (c == '<') {
      in_angle = had_angle = true;
      angle.clear();
    } else if (c == '>') {
      in_angle = false;
    } else if (in_angle) {
      angle += c;
    } else if (c == ',') {
      flush();
    } else if (c == ':') {
      item.clear();  // group syntax "name: a@b, c@d;": the name is not an address
    } else if (c == ';') {
      flush();
    } else {
      item += c;
    }
  }
  flush();
}

}  // namespace

std::vector<std::string> header_addresses(std::string_view message, std::string_view field) {
  std::vector<std::string> out;
  std::string value;  // unfolded value of the current matching field
  bool matching = false;
  auto finish = [&] {
    if (matching) parse_list(value, out);
    matching = false;
    value.clear();
  };
  std::size_t pos = 0;
  while (pos < message.size()) {
    auto lf = message.find('\n', pos);
    auto line = message.substr(pos, lf == std::string_view::npos ? message.size() - pos : lf - pos);
    pos = lf == std::string_view::npos ? message.size() : lf + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header block
    if (line.front() == ' ' || line.front() == '\t') {
      if (matching) value.append(line);
      continue;
    }
    finish();
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (iequals(name, field)) {
      matching = true;
      value.assign(line.substr(colon + 1));
    }
  }
  finish();
  return out;
}

}  // namespace govmail::smtp
