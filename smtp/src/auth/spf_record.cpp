#include "auth/spf_record.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace govmail::smtp::spf::detail {

namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

bool is_delimiter(char c) {
  return std::strchr(".-+,/_=", c) != nullptr && c != '\0';
}

// The macro letters of RFC 7208 7.2; c, r and t only in explanation text.
bool is_macro_letter(char c, bool exp_letters) {
  const char l = lower(c);
  if (std::strchr("slodiphv", l) != nullptr && l != '\0') return true;
  return exp_letters && (l == 'c' || l == 'r' || l == 't');
}

// One macro-expand at s[i] == '%': its length, 0 when malformed.
std::size_t macro_expand_length(std::string_view s, std::size_t i, bool exp_letters) {
  if (i + 1 >= s.size()) return 0;
  const char next = s[i + 1];
  if (next == '%' || next == '_' || next == '-') return 2;
  if (next != '{') return 0;
  std::size_t j = i + 2;
  if (j >= s.size() || !is_macro_letter(s[j], exp_letters)) return 0;
  ++j;
  while (j < s.size() && is_digit(s[j])) ++j;
  if (j < s.size() && lower(s[j]) == 'r') ++j;
  while (j < s.size() && is_delimiter(s[j])) ++j;
  if (j >= s.size() || s[j] != '}') return 0;
  return j + 1 - i;
}

// RFC 7208 toplabel: alphanumerics and inner hyphens, not all digits.
bool valid_toplabel(std::string_view label) {
  if (label.empty() || label.front() == '-' || label.back() == '-') return false;
  bool alpha = false;
  for (char c : label) {
    if (!is_alnum(c) && c != '-') return false;
    alpha = alpha || is_alpha(c) || c == '-';
  }
  return alpha;
}

// "/N" with N in 0..max written without leading zeros; nullopt when malformed.
std::optional<int> parse_cidr(std::string_view digits, int max) {
  if (digits.empty() || digits.size() > 3) return std::nullopt;
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  int v = 0;
  for (char c : digits) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

// Splits off a trailing "/N" (N digits only) from `arg`: {rest, digits} or nullopt.
std::optional<std::pair<std::string_view, std::string_view>> split_slash_digits(
    std::string_view arg) {
  const std::size_t slash = arg.rfind('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view digits = arg.substr(slash + 1);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) return std::nullopt;
  return std::make_pair(arg.substr(0, slash), digits);
}

std::string quoted(std::string_view term) {
  constexpr std::size_t kMax = 64;
  std::string out = "'";
  out.append(term.substr(0, kMax));
  if (term.size() > kMax) out += "...";
  out += "'";
  return out;
}

// [":" domain-spec] [dual-cidr-length] of a and mx.
std::optional<std::string> parse_a_mx(std::string_view arg, Directive& d) {
  // dual-cidr-length = [ "/" ip4-cidr ] [ "//" ip6-cidr ], taken from the right.
  if (auto v6 = split_slash_digits(arg); v6 && v6->first.ends_with('/')) {
    auto len = parse_cidr(v6->second, 128);
    if (!len) return "bad IPv6 prefix length";
    d.cidr6 = *len;
    arg = v6->first.substr(0, v6->first.size() - 1);
  }
  if (auto v4 = split_slash_digits(arg)) {
    auto len = parse_cidr(v4->second, 32);
    if (!len) return "bad IPv4 prefix length";
    d.cidr4 = *len;
    arg = v4->first;
  }
  if (arg.empty()) return std::nullopt;
  if (arg[0] != ':' || !valid_domain_spec(arg.substr(1))) return "bad domain-spec";
  d.domain_spec = std::string(arg.substr(1));
  return std::nullopt;
}

std::optional<std::string> parse_ip_network(std::string_view arg, Directive& d, bool v6) {
  if (arg.empty() || arg[0] != ':') return "missing network";
  arg.remove_prefix(1);
  if (auto cidr = split_slash_digits(arg)) {
    auto len = parse_cidr(cidr->second, v6 ? 128 : 32);
    if (!len) return "bad prefix length";
    (v6 ? d.cidr6 : d.cidr4) = *len;
    arg = cidr->first;
  }
  if (arg.empty() || arg.size() > 45) return "bad network";
  const std::string text(arg);
  if (inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), d.network.data()) != 1) {
    return "bad network";
  }
  return std::nullopt;
}

// A mechanism term without its qualifier; nullopt when `name` is not a mechanism.
std::optional<std::optional<std::string>> parse_mechanism(std::string_view term, Directive& d) {
  struct Name {
    std::string_view name;
    Mechanism mechanism;
  };
  static constexpr Name kNames[] = {
      {"all", Mechanism::all}, {"include", Mechanism::include}, {"a", Mechanism::a},
      {"mx", Mechanism::mx},   {"ptr", Mechanism::ptr},         {"ip4", Mechanism::ip4},
      {"ip6", Mechanism::ip6}, {"exists", Mechanism::exists},
  };
  const std::size_t end = term.find_first_of(":/");
  const std::string_view name = term.substr(0, end);
  const std::string_view arg = end == std::string_view::npos ? "" : term.substr(end);
  const Name* found = nullptr;
  for (const Name& n : kNames) {
    if (iequals(n.name, name)) found = &n;
  }
  if (!found) return std::nullopt;
  d.mechanism = found->mechanism;
  switch (d.mechanism) {
    case Mechanism::all:
      if (!arg.empty()) return std::optional<std::string>("'all' takes no argument");
      return std::optional<std::string>();
    case Mechanism::include:
    case Mechanism::exists:
    case Mechanism::ptr:
      if (arg.empty() && d.mechanism == Mechanism::ptr) return std::optional<std::string>();
      if (arg.size() < 2 || arg[0] != ':' || !valid_domain_spec(arg.substr(1))) {
        return std::optional<std::string>("bad domain-spec");
      }
      d.domain_spec = std::string(arg.substr(1));
      return std::optional<std::string>();
    case Mechanism::a:
    case Mechanism::mx:
      return parse_a_mx(arg, d);
    case Mechanism::ip4:
      return parse_ip_network(arg, d, false);
    case Mechanism::ip6:
      return parse_ip_network(arg, d, true);
  }
  return std::optional<std::string>("unknown mechanism");
}

}  // namespace

bool is_spf1(std::string_view txt) {
  return txt.size() >= 6 && iequals(txt.substr(0, 6), "v=spf1") &&
         (txt.size() == 6 || txt[6] == ' ');
}

bool valid_macro_string(std::string_view s, bool exp_letters) {
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '%') {
      const std::size_t n = macro_expand_length(s, i, exp_letters);
      if (n == 0) return false;
      i += n;
    } else if (c >= 0x21 && c <= 0x7e) {
      ++i;
    } else {
      return false;
    }
  }
  return true;
}

bool valid_domain_spec(std::string_view s) {
  if (s.empty() || !valid_macro_string(s)) return false;
  // domain-end = ( "." toplabel [ "." ] ) / macro-expand
  if (s.back() == '}') return true;
  if (s.size() >= 2 && s[s.size() - 2] == '%' &&
      (s.back() == '%' || s.back() == '_' || s.back() == '-')) {
    // "%%", "%_" or "%-" at the end, unless that '%' is itself escaped ("%%%" cannot occur in a
    // valid macro-string ending this way, so counting '%' suffices).
    std::size_t percents = 0;
    for (std::size_t i = s.size() - 1; i-- > 0 && s[i] == '%';) ++percents;
    if (percents % 2 == 1) return true;
  }
  std::string_view rest = s;
  if (rest.back() == '.') rest.remove_suffix(1);
  const std::size_t dot = rest.rfind('.');
  if (dot == std::string_view::npos) return false;
  return valid_toplabel(rest.substr(dot + 1));
}

govmail::Result<Record, std::string> parse_record(std::string_view txt) {
  if (txt.size() > kMaxRecordLength) return unexpected(std::string("record too long"));
  if (!is_spf1(txt)) return unexpected(std::string("not an SPF record"));
  Record record;
  std::size_t pos = 6;
  while (pos < txt.size()) {
    if (txt[pos] == ' ') {
      ++pos;
      continue;
    }
    const std::size_t end = std::min(txt.find(' ', pos), txt.size());
    const std::string_view term = txt.substr(pos, end - pos);
    pos = end;
    for (char c : term) {
      if (c < 0x21 || c > 0x7e) return unexpected("bad character in " + quoted(term));
    }
    Directive d;
    d.text = std::string(term);
    std::string_view body = term;
    bool qualified = true;
    switch (body[0]) {
      case '+':
        d.qualifier = Qualifier::pass;
        break;
      case '-':
        d.qualifier = Qualifier::fail;
        break;
      case '~':
        d.qualifier = Qualifier::softfail;
        break;
      case '?':
        d.qualifier = Qualifier::neutral;
        break;
      default:
        qualified = false;
    }
    if (qualified) body.remove_prefix(1);
    if (auto mech = parse_mechanism(body, d)) {
      if (*mech) return unexpected(**mech + " in " + quoted(term));
      record.directives.push_back(std::move(d));
      continue;
    }
    // modifier = name "=" macro-string; name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
    const std::size_t eq = body.find('=');
    const std::string_view name = body.substr(0, eq);
    const bool good_name = !qualified && eq != std::string_view::npos && !name.empty() &&
                           is_alpha(name[0]) && std::all_of(name.begin(), name.end(), [](char c) {
                             return is_alnum(c) || c == '-' || c == '_' || c == '.';
                           });
    if (!good_name) return unexpected("unknown mechanism " + quoted(term));
    const std::string_view value = body.substr(eq + 1);
    const bool is_redirect = iequals(name, "redirect");
    const bool is_exp = iequals(name, "exp");
    if (is_redirect || is_exp) {
      std::optional<std::string>& slot = is_redirect ? record.redirect : record.exp;
      if (slot) return unexpected("duplicate modifier " + quoted(term));
      if (!valid_domain_spec(value)) return unexpected("bad domain-spec in " + quoted(term));
      slot = std::string(value);
    } else if (!valid_macro_string(value, true)) {
      return unexpected("bad macro in " + quoted(term));
    }
  }
  return record;
}

std::optional<ClientIp> parse_ip(std::string_view text, bool map_v4) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  const std::string s(text);
  ClientIp ip;
  if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) return ip;
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) != 1) return std::nullopt;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (map_v4 && std::equal(std::begin(kMapped), std::end(kMapped), ip.bytes.begin())) {
    std::array<std::uint8_t, 16> v4{};
    std::copy(ip.bytes.begin() + 12, ip.bytes.end(), v4.begin());
    ip.bytes = v4;
    return ip;
  }
  ip.v6 = true;
  return ip;
}

std::string macro_ip(const ClientIp& ip) {
  std::string out;
  if (!ip.v6) {
    for (int i = 0; i < 4; ++i) {
      if (i) out += '.';
      out += std::to_string(ip.bytes[i]);
    }
    return out;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::uint8_t b : ip.bytes) {
    if (!out.empty()) out += '.';
    out += kHex[b >> 4];
    out += '.';
    out += kHex[b & 0xf];
  }
  return out;
}

bool in_network(const ClientIp& ip, const std::array<std::uint8_t, 16>& network, int cidr) {
  const int bits = ip.v6 ? 128 : 32;
  cidr = std::clamp(cidr, 0, bits);
  for (int i = 0; i < cidr; ++i) {
    const int byte = i / 8;
    const int mask = 0x80 >> (i % 8);
    if ((ip.bytes[byte] & mask) != (network[byte] & mask)) return false;
  }
  return true;
}

namespace {

// RFC 7208 7.3: the value split on the delimiters, reversed on 'r', the rightmost `keep` parts,
// joined with '.'.
std::string transform(std::string_view value, std::string_view delimiters, std::size_t keep,
                      bool reverse) {
  if (delimiters.empty()) delimiters = ".";
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= value.size(); ++i) {
    if (i == value.size() || delimiters.find(value[i]) != std::string_view::npos) {
      parts.push_back(value.substr(start, i - start));
      start = i + 1;
    }
  }
  if (reverse) std::reverse(parts.begin(), parts.end());
  const std::size_t first = parts.size() > keep ? parts.size() - keep : 0;
  std::string out;
  for (std::size_t i = first; i < parts.size(); ++i) {
    if (i != first) out += '.';
    out.append(parts[i]);
  }
  return out;
}

// Uppercase macro letters: RFC 3986 percent-encoding of everything but unreserved characters.
std::string url_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_alnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

}  // namespace

govmail::Result<std::string, std::string> expand(std::string_view s, const MacroContext& ctx) {
  // The output is bounded by the number of macros times the longest value; values come from
  // the SMTP session (already line-limited) and the record (kMaxRecordLength).
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] != '%') {
      out += s[i++];
      continue;
    }
    const std::size_t n = macro_expand_length(s, i, false);
    if (n == 0) return unexpected(std::string("bad macro"));
    if (n == 2) {
      const char c = s[i + 1];
      out += c == '%' ? "%" : c == '_' ? " " : "%20";
      i += n;
      continue;
    }
    // "%{" letter digits ["r"] delimiters "}"
    const std::string_view body = s.substr(i + 2, n - 3);
    i += n;
    const char letter = body[0];
    std::size_t j = 1;
    std::size_t keep = SIZE_MAX;
    if (j < body.size() && is_digit(body[j])) {
      keep = 0;
      while (j < body.size() && is_digit(body[j])) {
        keep = std::min<std::size_t>(keep * 10 + static_cast<std::size_t>(body[j] - '0'), 1000);
        ++j;
      }
      if (keep == 0) return unexpected(std::string("macro keeps zero parts"));
    }
    bool reverse = false;
    if (j < body.size() && lower(body[j]) == 'r') {
      reverse = true;
      ++j;
    }
    const std::string_view delimiters = body.substr(j);
    std::string_view value;
    switch (lower(letter)) {
      case 's':
        value = ctx.sender;
        break;
      case 'l':
        value = ctx.local_part;
        break;
      case 'o':
        value = ctx.sender_domain;
        break;
      case 'd':
        value = ctx.domain;
        break;
      case 'i':
        value = ctx.ip;
        break;
      case 'p':
        value = ctx.validated_domain;
        break;
      case 'v':
        value = ctx.ip_v6 ? "ip6" : "in-addr";
        break;
      case 'h':
        value = ctx.helo;
        break;
      default:
        return unexpected(std::string("macro letter not allowed here"));
    }
    std::string expanded = transform(value, delimiters, keep, reverse);
    out += is_alpha(letter) && letter == lower(letter) ? expanded : url_escape(expanded);
  }
  return out;
}

bool uses_ptr_macro(std::string_view macro_string) {
  for (std::size_t i = 0; i + 2 < macro_string.size(); ++i) {
    if (macro_string[i] != '%') continue;
    if (macro_string[i + 1] == '{' && lower(macro_string[i + 2]) == 'p') return true;
    ++i;  // "%%" is a literal '%': the next byte starts no macro
  }
  return false;
}

bool within_domain(std::string_view name, std::string_view domain) {
  if (iequals(name, domain)) return true;
  return name.size() > domain.size() && name[name.size() - domain.size() - 1] == '.' &&
         iequals(name.substr(name.size() - domain.size()), domain);
}

std::string validated_domain(const std::vector<std::string>& names, std::string_view domain) {
  if (names.empty()) return "unknown";
  for (const std::string& name : names) {
    if (iequals(name, domain)) return name;
  }
  for (const std::string& name : names) {
    if (within_domain(name, domain)) return name;
  }
  return names.front();
}

govmail::Result<std::string, std::string> expand_domain(std::string_view domain_spec,
                                                        const MacroContext& ctx) {
  auto name = expand(domain_spec, ctx);
  if (!name) return name;
  std::string out = std::move(*name);
  if (!out.empty() && out.back() == '.') out.pop_back();
  while (out.size() > kMaxDomainLength) {
    const std::size_t dot = out.find('.');
    if (dot == std::string::npos) return unexpected(std::string("expanded name too long"));
    out.erase(0, dot + 1);
  }
  return out;
}

bool valid_name(std::string_view name, bool multi_label) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > kMaxDomainLength) return false;
  std::size_t labels = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      const std::size_t len = i - start;
      if (len == 0 || len > 63) return false;
      ++labels;
      start = i + 1;
    } else if (name[i] < 0x21 || name[i] > 0x7e || name[i] == '\\') {
      return false;
    }
  }
  return !multi_label || labels >= 2;
}

}  // namespace govmail::smtp::spf::detail
