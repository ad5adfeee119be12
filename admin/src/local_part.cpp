#include "admin/local_part.hpp"

#include <cctype>
#include <cstring>

#include "core/text.hpp"

namespace govmail::admin {
namespace {

struct NameParts {
  std::string given, surname, middle, initials, all;
};

NameParts split(const std::vector<std::string>& words) {
  NameParts p;
  if (words.empty()) return p;
  p.given = words.back();
  p.surname = words.front();
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    p.initials += words[i][0];
    if (i > 0) p.middle += words[i];
  }
  for (const auto& w : words) p.all += w;
  return p;
}

// Calls on_token(name) for each {name}, on_char(c) for other characters; false on a bad brace.
template <class T, class C>
bool walk(std::string_view pattern, T on_token, C on_char) {
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{') {
      auto end = pattern.find('}', i);
      if (end == std::string_view::npos) return false;
      if (!on_token(pattern.substr(i + 1, end - i - 1))) return false;
      i = end;
    } else if (pattern[i] == '}') {
      return false;
    } else {
      on_char(pattern[i]);
    }
  }
  return true;
}

const std::string* field(const NameParts& p, std::string_view token) {
  if (token == "given") return &p.given;
  if (token == "surname") return &p.surname;
  if (token == "middle") return &p.middle;
  if (token == "initials") return &p.initials;
  if (token == "all") return &p.all;
  return nullptr;
}

}  // namespace

std::vector<std::string> name_words(std::string_view full_name) {
  std::string folded = core::ascii_fold(core::nfc(full_name));
  std::vector<std::string> words;
  std::string cur;
  for (char c : folded) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!cur.empty()) {
      words.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

std::optional<std::string> validate_pattern(std::string_view pattern) {
  NameParts none;
  bool has_token = false;
  bool ok = walk(
      pattern,
      [&](std::string_view t) {
        has_token = true;
        return field(none, t) != nullptr;
      },
      [](char) {});
  if (!ok) return "unknown placeholder or unbalanced brace in '" + std::string(pattern) + "'";
  if (!has_token) return "the pattern has no placeholder such as {given}";
  for (char c : pattern)
    if (!std::isalnum(static_cast<unsigned char>(c)) && !std::strchr("{}._-", c))
      return std::string("character '") + c + "' is not allowed in a local part pattern";
  return std::nullopt;
}

std::string local_part_from_name(std::string_view full_name, std::string_view pattern) {
  auto parts = split(name_words(full_name));
  if (parts.given.empty()) return {};
  std::string out;
  bool ok = walk(
      pattern,
      [&](std::string_view t) {
        const std::string* f = field(parts, t);
        if (f) out += *f;
        return f != nullptr;
      },
      [&](char c) { out += c; });
  if (!ok) return {};
  // Separators left dangling by an empty field ("{given}.{middle}" of a two-word name).
  while (!out.empty() && std::strchr("._-", out.back())) out.pop_back();
  while (!out.empty() && std::strchr("._-", out.front())) out.erase(0, 1);
  return out;
}

std::string first_free(const std::string& base, const std::unordered_set<std::string>& taken) {
  if (!taken.contains(base)) return base;
  for (unsigned n = 2;; ++n) {
    std::string candidate = base + std::to_string(n);
    if (!taken.contains(candidate)) return candidate;
  }
}

}  // namespace govmail::admin
