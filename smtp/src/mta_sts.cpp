#include "smtp/mta_sts.hpp"

#include "smtp/command.hpp"

namespace govmail::smtp::mta_sts {
namespace {

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim_wsp(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

// sts-ext-name / sts-policy-ext-name: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
bool valid_field_name(std::string_view s) {
  if (s.empty() || s.size() > 32 || !(is_alpha(s[0]) || is_digit(s[0]))) return false;
  for (char c : s)
    if (!(is_alpha(c) || is_digit(c) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

// sts-ext-value: 1*(%x21-3A / %x3C / %x3E-7E), i.e. visible ASCII except ';' and '='.
bool valid_ext_value(std::string_view s) {
  if (s.empty()) return false;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c > 0x7e || c == ';' || c == '=') return false;
  }
  return true;
}

// RFC 5321 Domain: sub-domain *("." sub-domain), sub-domain = Let-dig [Ldh-str].
bool valid_domain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t dot = s.find('.', start);
    const std::string_view label =
        s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!(is_alpha(c) || is_digit(c) || c == '-')) return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

// sts-policy-ext-value: visible characters (or UTF-8) with inner spaces, no control characters.
bool valid_policy_value(std::string_view s) {
  if (s.empty()) return false;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

std::optional<std::int64_t> parse_max_age(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;  // 1*10(DIGIT)
  std::int64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return std::min(v, kMaxAge);
}

std::optional<Mode> parse_mode(std::string_view s) {
  if (s == "enforce") return Mode::enforce;
  if (s == "testing") return Mode::testing;
  if (s == "none") return Mode::none;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> parse_record(std::string_view txt) {
  constexpr std::string_view kVersion = "v=STSv1";
  if (!txt.starts_with(kVersion)) return std::nullopt;
  std::string_view rest = txt.substr(kVersion.size());
  std::optional<std::string> id;
  bool fields = false;
  // Each round: *WSP ";" *WSP then a field, or the optional final delimiter.
  while (!rest.empty()) {
    rest = trim_wsp(rest);
    if (rest.empty() || rest.front() != ';') return std::nullopt;
    rest = trim_wsp(rest.substr(1));
    if (rest.empty()) break;  // [field-delim] at the end
    const std::size_t end = rest.find(';');
    const std::string_view field =
        trim_wsp(rest.substr(0, end == std::string_view::npos ? rest.size() : end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    const std::size_t eq = field.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view name = field.substr(0, eq), value = field.substr(eq + 1);
    if (name == "id") {
      if (value.empty() || value.size() > 32) return std::nullopt;
      for (char c : value)
        if (!is_alpha(c) && !is_digit(c)) return std::nullopt;
      if (!id) id = std::string(value);
    } else if (!valid_field_name(name) || !valid_ext_value(value)) {
      return std::nullopt;
    }
    fields = true;
  }
  if (!fields) return std::nullopt;  // 1*(field-delim sts-field)
  return id;
}

Discovery select_record(const std::vector<std::string>& txts) {
  Discovery d;
  const std::string* found = nullptr;
  for (const auto& t : txts) {
    const std::string_view v(t);
    // "v=STSv1" then a delimiter: "v=STSv10" is another version, not ours.
    if (!v.starts_with("v=STSv1")) continue;
    if (v.size() > 7 && v[7] != ';' && !is_wsp(v[7])) continue;
    if (found) {
      d.status = Discovery::Status::multiple;
      return d;
    }
    found = &t;
  }
  if (!found) return d;
  auto id = parse_record(*found);
  if (!id) {
    d.status = Discovery::Status::invalid;
    return d;
  }
  d.status = Discovery::Status::record;
  d.id = std::move(*id);
  return d;
}

std::string_view to_string(Mode mode) {
  switch (mode) {
    case Mode::enforce:
      return "enforce";
    case Mode::testing:
      return "testing";
    case Mode::none:
      return "none";
  }
  return "none";
}

Result<Policy, std::string> parse_policy(std::string_view text) {
  if (text.size() > kMaxPolicyBytes) return unexpected(std::string("policy larger than 64 KiB"));
  Policy p;
  bool version = false, mode = false, max_age = false;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (trim_wsp(line).empty()) continue;
    const std::string where = "line " + std::to_string(line_no) + ": ";
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return unexpected(where + "no ':'");
    const std::string_view key = line.substr(0, colon);
    const std::string_view value = trim_wsp(line.substr(colon + 1));
    if (!valid_field_name(key)) return unexpected(where + "invalid key");
    if (key == "version") {
      if (version) return unexpected(where + "version given twice");
      if (value != "STSv1") return unexpected(where + "version is not STSv1");
      version = true;
    } else if (key == "mode") {
      if (mode) return unexpected(where + "mode given twice");
      auto m = parse_mode(value);
      if (!m) return unexpected(where + "mode is not enforce, testing or none");
      p.mode = *m;
      mode = true;
    } else if (key == "max_age") {
      if (max_age) return unexpected(where + "max_age given twice");
      auto age = parse_max_age(value);
      if (!age) return unexpected(where + "max_age is not 1 to 10 digits");
      p.max_age = *age;
      max_age = true;
    } else if (key == "mx") {
      const std::string_view domain = value.starts_with("*.") ? value.substr(2) : value;
      if (!valid_domain(domain)) return unexpected(where + "mx is not a host name pattern");
      p.mx.push_back(lower_ascii(value));
    } else if (!valid_policy_value(value)) {
      return unexpected(where + "invalid value");
    }
  }
  if (!version) return unexpected(std::string("no version"));
  if (!mode) return unexpected(std::string("no mode"));
  if (!max_age) return unexpected(std::string("no max_age"));
  if (p.mx.empty() && p.mode != Mode::none) return unexpected(std::string("no mx"));
  return p;
}

bool mx_matches(std::string_view pattern, std::string_view host) {
  if (host.ends_with('.')) host.remove_suffix(1);
  const std::string h = lower_ascii(host), pat = lower_ascii(pattern);
  if (!pat.starts_with("*.")) return !pat.empty() && h == pat;
  const std::string_view suffix = std::string_view(pat).substr(1);  // ".example.com"
  if (h.size() <= suffix.size() || !h.ends_with(suffix)) return false;
  const std::string_view label = std::string_view(h).substr(0, h.size() - suffix.size());
  return label.find('.') == std::string_view::npos;  // one label, non-empty
}

bool allows_mx(const Policy& policy, std::string_view host) {
  for (const auto& pattern : policy.mx)
    if (mx_matches(pattern, host)) return true;
  return false;
}

}  // namespace govmail::smtp::mta_sts
