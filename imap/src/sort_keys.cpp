#include "sort_keys.hpp"

#include <cctype>

namespace govmail::imap {
namespace {

using json = nlohmann::json;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool strip_prefix(std::string& s) {
  // subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
  std::size_t i = 0;
  if (s.compare(0, 2, "re") == 0)
    i = 2;
  else if (s.compare(0, 3, "fwd") == 0)
    i = 3;
  else if (s.compare(0, 2, "fw") == 0)
    i = 2;
  if (i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (i < s.size() && s[i] == '[') {
      auto close = s.find(']', i);
      if (close != std::string::npos) i = close + 1;
    }
    if (i < s.size() && s[i] == ':') {
      s.erase(0, i + 1);
      return true;
    }
  }
  if (!s.empty() && s[0] == '[') {  // subj-blob, only if something remains after it
    auto close = s.find(']');
    if (close != std::string::npos && close + 1 < s.size()) {
      s.erase(0, close + 1);
      return true;
    }
  }
  return false;
}

void trim(std::string& s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  s.erase(0, i);
}

}  // namespace

std::string base_subject(const json& env) {
  auto subj = env.value("subject", json::object());
  std::string s = subj.is_object() ? text(subj, "decoded") : std::string();
  std::string collapsed;
  for (char c : s) {
    if (c == '\t' || c == '\r' || c == '\n') c = ' ';
    if (c == ' ' && !collapsed.empty() && collapsed.back() == ' ') continue;
    collapsed += c;
  }
  s = lower(collapsed);
  for (bool changed = true; changed;) {
    changed = false;
    trim(s);
    while (s.size() >= 5 && s.compare(s.size() - 5, 5, "(fwd)") == 0) {
      s.resize(s.size() - 5);
      trim(s);
      changed = true;
    }
    while (strip_prefix(s)) {
      trim(s);
      changed = true;
    }
    if (s.size() > 6 && s.compare(0, 5, "[fwd:") == 0 && s.back() == ']') {
      s = s.substr(5, s.size() - 6);
      changed = true;
    }
  }
  return s;
}

std::int64_t sent_date(const json& env, const store::MailboxEntry& entry) {
  auto d = env.value("date", json::object());
  auto u = d.is_object() ? d.value("unix", json()) : json();
  return u.is_number() ? u.get<std::int64_t>() : entry.internal_date;
}

std::string first_address(const json& env, const char* field, bool display) {
  auto list = env.value(field, json());
  if (!list.is_array() || list.empty() || !list[0].is_object()) return {};
  const auto& a = list[0];
  if (display) {
    auto name = text(a, "name_decoded");
    if (!name.empty()) return lower(name);
  }
  return lower(text(a, "mailbox"));
}

}  // namespace govmail::imap
