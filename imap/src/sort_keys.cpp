#include "sort_keys.hpp"

#include <cctype>

#include "text_match.hpp"

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

bool wsp(char c) {
  return c == ' ' || c == '\t';
}

std::size_t skip_wsp(std::string_view s, std::size_t i) {
  while (i < s.size() && wsp(s[i])) ++i;
  return i;
}

// subj-blob = "[" *BLOBCHAR "]" *WSP; the position after it, or npos.
std::size_t blob_end(std::string_view s, std::size_t i) {
  if (i >= s.size() || s[i] != '[') return std::string_view::npos;
  for (std::size_t j = i + 1; j < s.size(); ++j) {
    if (s[j] == '[') return std::string_view::npos;
    if (s[j] == ']') return skip_wsp(s, j + 1);
  }
  return std::string_view::npos;
}

// subj-leader = (*subj-blob subj-refwd) / WSP, with
// subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"; the length it covers, 0 if none.
std::size_t leader_end(std::string_view s, bool& refwd) {
  if (!s.empty() && wsp(s[0])) return skip_wsp(s, 0);
  std::size_t i = 0;
  for (auto b = blob_end(s, i); b != std::string_view::npos; b = blob_end(s, i)) i = b;
  if (s.substr(i, 3) == "fwd")
    i += 3;
  else if (s.substr(i, 2) == "fw" || s.substr(i, 2) == "re")
    i += 2;
  else
    return 0;
  i = skip_wsp(s, i);
  if (auto b = blob_end(s, i); b != std::string_view::npos) i = b;
  if (i >= s.size() || s[i] != ':') return 0;
  refwd = true;
  return i + 1;
}

// Step 2: subj-trailer = "(fwd)" / WSP, removed from the end.
void strip_trailers(std::string& s, bool& reply) {
  for (;;) {
    if (!s.empty() && wsp(s.back())) {
      s.pop_back();
    } else if (s.size() >= 5 && s.compare(s.size() - 5, 5, "(fwd)") == 0) {
      s.resize(s.size() - 5);
      reply = true;
    } else {
      return;
    }
  }
}

// Steps 3 to 5: leaders, and a leading blob when something remains after it.
void strip_leaders(std::string& s, bool& reply) {
  for (bool changed = true; changed;) {
    changed = false;
    while (auto n = leader_end(s, reply)) {
      s.erase(0, n);
      changed = true;
    }
    auto b = blob_end(s, 0);
    if (b != std::string::npos && b < s.size()) {
      s.erase(0, b);
      changed = true;
    }
  }
}

}  // namespace

BaseSubject extract_base_subject(std::string_view decoded) {
  BaseSubject out;
  std::string& s = out.text;
  for (char c : decoded) {  // step 1: tabs and line breaks to spaces, runs of spaces to one
    if (c == '\t' || c == '\r' || c == '\n') c = ' ';
    if (c == ' ' && !s.empty() && s.back() == ' ') continue;
    s += c;
  }
  s = fold_case(s);
  for (;;) {
    strip_trailers(s, out.reply);
    strip_leaders(s, out.reply);
    // Step 6: "[fwd:" ... "]" around the whole subject.
    if (s.size() < 6 || s.compare(0, 5, "[fwd:") != 0 || s.back() != ']') break;
    s = s.substr(5, s.size() - 6);
    s.erase(0, skip_wsp(s, 0));
    out.reply = true;
  }
  return out;
}

std::string decoded_subject(const json& env) {
  auto subj = env.value("subject", json::object());
  return subj.is_object() ? text(subj, "decoded") : std::string();
}

std::string base_subject(const json& env) {
  return extract_base_subject(decoded_subject(env)).text;
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
    if (!name.empty()) return fold_case(name);  // "Đào" and "đào" sort together
  }
  return lower(text(a, "mailbox"));
}

}  // namespace govmail::imap
