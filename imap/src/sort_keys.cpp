#include "sort_keys.hpp"

#include "text_match.hpp"

namespace govmail::imap {
namespace {

using json = nlohmann::json;

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

// subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" at i; the position after it, or 0.
std::size_t refwd_end(std::string_view s, std::size_t i) {
  if (s.substr(i, 3) == "fwd")
    i += 3;
  else if (s.substr(i, 2) == "fw" || s.substr(i, 2) == "re")
    i += 2;
  else
    return 0;
  i = skip_wsp(s, i);
  if (auto b = blob_end(s, i); b != std::string_view::npos) i = b;
  return i < s.size() && s[i] == ':' ? i + 1 : 0;
}

// Steps 3 to 5 from `pos`: subj-leader = (*subj-blob subj-refwd) / WSP removed, and a leading
// subj-blob when something remains after it, until none is left; returns the new start. One
// pass over the run of blobs stands for removing them one at a time, so that the time is linear
// whatever the subject ("[a][a][a]...", "re: re: re: ...").
std::size_t strip_leaders(std::string_view s, std::size_t pos, bool& reply) {
  for (;;) {
    const std::size_t start = skip_wsp(s, pos);
    std::size_t end = start, last_blob = std::string_view::npos;
    for (auto b = blob_end(s, end); b != std::string_view::npos; b = blob_end(s, end)) {
      last_blob = end;
      end = b;
    }
    if (auto r = refwd_end(s, end)) {
      pos = r;
      reply = true;
      continue;
    }
    // Blobs go while something follows them: all of them, or all but a last one that ends it.
    std::size_t cut = start;
    if (last_blob != std::string_view::npos) cut = end < s.size() ? end : last_blob;
    if (cut == pos) return pos;
    pos = cut;
  }
}

}  // namespace

BaseSubject extract_base_subject(std::string_view decoded) {
  BaseSubject out;
  std::string s;
  for (char c : decoded) {  // step 1: tabs and line breaks to spaces, runs of spaces to one
    if (c == '\t' || c == '\r' || c == '\n') c = ' ';
    if (c == ' ' && !s.empty() && s.back() == ' ') continue;
    s += c;
  }
  s = fold_case(s);
  // The base subject is s[begin, end): indexes move, nothing is copied until the end.
  std::size_t begin = 0, end = s.size();
  for (;;) {
    for (;;) {  // step 2: subj-trailer = "(fwd)" / WSP, removed from the end
      if (end > begin && wsp(s[end - 1])) {
        --end;
      } else if (end - begin >= 5 && s.compare(end - 5, 5, "(fwd)") == 0) {
        end -= 5;
        out.reply = true;
      } else {
        break;
      }
    }
    begin = strip_leaders(std::string_view(s.data(), end), begin, out.reply);
    // Step 6: "[fwd:" ... "]" around the whole subject.
    if (end - begin < 6 || s.compare(begin, 5, "[fwd:") != 0 || s[end - 1] != ']') break;
    begin += 5;
    --end;
    out.reply = true;
  }
  out.text = s.substr(begin, end - begin);
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
    if (!name.empty()) return casemap_key(name);  // "Đào" and "đào" sort together
    // Without a display name, mailbox@host when both are there (RFC 5957 3).
    if (a.value("mailbox", json()).is_string() && a.value("host", json()).is_string())
      return casemap_key(text(a, "mailbox") + "@" + text(a, "host"));
  }
  return casemap_key(text(a, "mailbox"));
}

}  // namespace govmail::imap
