#include "store/auto_reply.hpp"

#include <algorithm>

#include "core/ascii.hpp"
#include "core/base64.hpp"
#include "store/header_fields.hpp"
#include "store/mime.hpp"

namespace govmail::store {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// The first value of a header, trimmed and lower-cased; nullopt when absent.
std::optional<std::string> first_value(std::string_view message, std::string_view field) {
  auto v = header_values(message, field);
  if (v.empty()) return std::nullopt;
  return core::ascii_lower(trim(v.front()));
}

// The message ids (with <>) of a References or In-Reply-To value.
std::vector<std::string> message_ids(std::string_view v) {
  std::vector<std::string> out;
  for (std::size_t at = v.find('<'); at != std::string_view::npos; at = v.find('<', at + 1)) {
    const auto end = v.find('>', at);
    if (end == std::string_view::npos) break;
    const auto id = v.substr(at, end - at + 1);
    if (id.find_first_of(" \t\r\n") == std::string_view::npos && id.size() > 2)
      out.emplace_back(id);
    at = end;
  }
  return out;
}

// A header value that cannot break the header block (CR, LF and NUL dropped).
std::string one_line(std::string_view v) {
  std::string out;
  for (char c : v)
    if (c != '\r' && c != '\n' && c != '\0') out += c;
  return out;
}

std::string text_part(const std::string& type, const std::string& body) {
  return "Content-Type: " + type + "; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
         core::base64_encode(body, true);
}

// References (RFC 5322 3.6.4): the original's References (or In-Reply-To) then its Message-ID;
// the oldest dropped past 20 so that a long thread does not grow the header without bound.
std::string references(std::string_view original, const std::string& id) {
  auto refs = header_values(original, "References");
  std::vector<std::string> ids = message_ids(refs.empty() ? "" : refs.front());
  if (ids.empty()) {
    auto irt = header_values(original, "In-Reply-To");
    if (!irt.empty()) ids = message_ids(irt.front());
  }
  ids.push_back(id);
  if (ids.size() > 20) ids.erase(ids.begin(), ids.end() - 20);
  std::string out;
  for (const auto& r : ids) out += (out.empty() ? "" : "\r\n ") + r;
  return out;
}

}  // namespace

bool may_auto_reply(std::string_view envelope_from, std::string_view message) {
  if (envelope_from.empty()) return false;
  const std::string local = core::ascii_lower(envelope_from.substr(0, envelope_from.rfind('@')));
  if (local == "mailer-daemon" || local.starts_with("owner-") || local.ends_with("-request"))
    return false;
  if (auto a = first_value(message, "Auto-Submitted"); a && a->substr(0, a->find(';')) != "no")
    return false;
  if (auto p = first_value(message, "Precedence");
      p && (*p == "bulk" || *p == "list" || *p == "junk"))
    return false;
  return header_values(message, "List-Id").empty() &&
         header_values(message, "List-Unsubscribe").empty();
}

bool names_recipient(std::string_view message, const std::vector<std::string>& addresses) {
  auto named = header_addresses(message, "To");
  auto cc = header_addresses(message, "Cc");
  named.insert(named.end(), cc.begin(), cc.end());
  for (const auto& n : named)
    for (const auto& a : addresses)
      if (core::ascii_lower(n) == core::ascii_lower(a)) return true;
  return false;
}

std::string build_auto_reply(const AutoReply& r, std::string_view original) {
  std::string subject = one_line(r.subject);
  if (subject.empty()) {
    auto s = header_values(original, "Subject");
    subject = "Auto: " + one_line(s.empty() ? "" : decode_header_text(s.front()));
  }
  std::string h = "From: <" + r.from + ">\r\nTo: <" + r.to + ">\r\n";
  h += "Subject: " + core::encode_words(subject) + "\r\n";
  h += "Date: " + r.date + "\r\nMessage-ID: <" + r.message_id + ">\r\n";
  auto ids = header_values(original, "Message-ID");
  const auto original_id = ids.empty() ? std::vector<std::string>() : message_ids(ids.front());
  if (!original_id.empty()) {
    h += "In-Reply-To: " + original_id.front() + "\r\n";
    h += "References: " + references(original, original_id.front()) + "\r\n";
  }
  h += "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n";
  if (!r.html_body) return h + text_part("text/plain", r.text_body);
  const std::string boundary = "=_auto_" + r.message_id.substr(0, r.message_id.find('@'));
  return h + "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n--" +
         boundary + "\r\n" + text_part("text/plain", r.text_body) + "--" + boundary + "\r\n" +
         text_part("text/html", *r.html_body) + "--" + boundary + "--\r\n";
}

}  // namespace govmail::store
