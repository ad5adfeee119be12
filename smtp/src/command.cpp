#include "smtp/command.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <utility>

namespace govmail::smtp {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Reply syntax(std::string text) {
  return {501, "5.5.4", std::move(text)};
}

constexpr std::array<std::pair<std::string_view, Verb>, 14> kVerbs{{
    {"HELO", Verb::helo},
    {"EHLO", Verb::ehlo},
    {"MAIL", Verb::mail},
    {"RCPT", Verb::rcpt},
    {"DATA", Verb::data},
    {"BDAT", Verb::bdat},
    {"RSET", Verb::rset},
    {"NOOP", Verb::noop},
    {"QUIT", Verb::quit},
    {"VRFY", Verb::vrfy},
    {"EXPN", Verb::expn},
    {"HELP", Verb::help},
    {"STARTTLS", Verb::starttls},
    {"AUTH", Verb::auth},
}};

bool atext(unsigned char c) {
  if (c >= 0x80) return true;  // UTF-8 (RFC 6531); SMTPUTF8 is checked by the session
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

bool valid_dot_string(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '.') {
      if (s[i + 1] == '.') return false;
    } else if (!atext(c)) {
      return false;
    }
  }
  return true;
}

bool valid_quoted(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      if (++i + 1 >= s.size()) return false;
      c = static_cast<unsigned char>(s[i]);
      if (c < 32 || c == 127) return false;
    } else if (c < 32 || c == 127 || c == '"') {
      return false;
    }
  }
  return true;
}

bool valid_domain(std::string_view d) {
  if (d.empty() || d.size() > 255) return false;
  if (d.front() == '[') {  // address literal: checked for shape only
    if (d.back() != ']' || d.size() < 3) return false;
    for (char c : d.substr(1, d.size() - 2))
      if (c < 33 || c > 126 || c == '[' || c == ']' || c == '\\') return false;
    return true;
  }
  std::size_t label = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    auto c = static_cast<unsigned char>(d[i]);
    if (c == '.') {
      if (label == 0 || d[i - 1] == '-') return false;
      label = 0;
    } else if (std::isalnum(c) || c >= 0x80 || (c == '-' && label > 0)) {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  return label > 0 && d.back() != '-';
}

// Splits "<path> PARAM PARAM" after the "FROM:" / "TO:" keyword.
struct PathAndParams {
  std::string_view path;  // without brackets
  std::string_view params;
};

Result<PathAndParams, Reply> split_path(std::string_view arg, std::string_view keyword) {
  if (!istarts_with(arg, keyword))
    return unexpected(syntax("Syntax: expected " + std::string(keyword) + "<address>"));
  arg = trim(arg.substr(keyword.size()));
  if (arg.empty() || arg.front() != '<') return unexpected(syntax("Syntax: address must be in <>"));
  // The closing bracket: the first '>' outside a quoted local part.
  bool quoted = false;
  std::size_t close = std::string_view::npos;
  for (std::size_t i = 1; i < arg.size(); ++i) {
    if (quoted && arg[i] == '\\') {
      ++i;
    } else if (arg[i] == '"') {
      quoted = !quoted;
    } else if (!quoted && arg[i] == '>') {
      close = i;
      break;
    }
  }
  if (close == std::string_view::npos) return unexpected(syntax("Syntax: missing >"));
  auto path = arg.substr(1, close - 1);
  auto rest = arg.substr(close + 1);
  if (!rest.empty() && rest.front() != ' ') return unexpected(syntax("Syntax: text after >"));
  // A source route (@a,@b:user@c) is accepted and ignored (RFC 5321 4.1.1.3).
  if (!path.empty() && path.front() == '@') {
    auto colon = path.find(':');
    if (colon == std::string_view::npos) return unexpected(syntax("Syntax: bad source route"));
    path = path.substr(colon + 1);
  }
  return PathAndParams{path, trim(rest)};
}

// Calls f(keyword, value) for each "KEY[=VALUE]" separated by spaces.
template <class F>
std::optional<Reply> for_each_param(std::string_view params, F f) {
  while (!params.empty()) {
    auto sp = params.find(' ');
    auto item = params.substr(0, sp);
    params = sp == std::string_view::npos ? std::string_view{} : trim(params.substr(sp + 1));
    if (item.empty()) continue;
    auto eq = item.find('=');
    auto key = item.substr(0, eq);
    auto value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    if (auto err = f(key, value, eq != std::string_view::npos)) return err;
  }
  return std::nullopt;
}

Reply unknown_param(std::string_view key) {
  return {555, "5.5.4", "Unsupported parameter " + std::string(key.substr(0, 32))};
}

// xtext (RFC 3461): printable ASCII except '+' and '=', or "+HH".
bool valid_xtext(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '+') {
      if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
        return false;
      i += 2;
    } else if (c < 33 || c > 126 || c == '=') {
      return false;
    }
  }
  return true;
}

}  // namespace

bool is_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

std::string_view domain_of(std::string_view address) {
  auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view{} : address.substr(at + 1);
}

bool valid_mailbox(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0) return false;
  auto local = address.substr(0, at);
  if (local.size() > 64 && local.front() != '"') return false;
  if (!(local.front() == '"' ? valid_quoted(local) : valid_dot_string(local))) return false;
  return valid_domain(address.substr(at + 1));
}

Command parse_command(std::string_view line) {
  auto sp = line.find(' ');
  auto verb = line.substr(0, sp);
  Command cmd;
  for (const auto& [name, v] : kVerbs)
    if (iequals(verb, name)) cmd.verb = v;
  if (sp != std::string_view::npos) cmd.arg = trim(line.substr(sp + 1));
  return cmd;
}

Result<MailFrom, Reply> parse_mail_from(std::string_view arg) {
  auto split = split_path(arg, "FROM:");
  if (!split) return unexpected(split.error());
  MailFrom out;
  out.address = std::string(split->path);
  if (!out.address.empty() && !valid_mailbox(out.address))
    return unexpected(Reply{553, "5.1.7", "Bad sender address syntax"});
  auto err = for_each_param(
      split->params,
      [&](std::string_view k, std::string_view v, bool has_value) -> std::optional<Reply> {
        if (iequals(k, "SIZE") && has_value) {
          std::uint64_t n = 0;
          auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
          if (ec != std::errc{} || p != v.data() + v.size()) return syntax("Bad SIZE value");
          out.size = n;
        } else if (iequals(k, "BODY") && has_value) {
          if (iequals(v, "7BIT"))
            out.body = Body::seven_bit;
          else if (iequals(v, "8BITMIME"))
            out.body = Body::eight_bit_mime;
          else
            return Reply{555, "5.5.4", "Unsupported BODY type"};
        } else if (iequals(k, "SMTPUTF8") && !has_value) {
          out.smtputf8 = true;
        } else if (iequals(k, "RET") && has_value) {
          if (!iequals(v, "FULL") && !iequals(v, "HDRS")) return syntax("Bad RET value");
          out.ret = lower_ascii(v) == "full" ? "FULL" : "HDRS";
        } else if (iequals(k, "ENVID") && has_value) {
          if (!valid_xtext(v, 100)) return syntax("Bad ENVID value");
          out.envid = std::string(v);
        } else if (iequals(k, "AUTH") && has_value) {
          // RFC 4954 AUTH=: accepted and ignored (we do not relay trust between servers).
        } else {
          return unknown_param(k);
        }
        return std::nullopt;
      });
  if (err) return unexpected(*err);
  return out;
}

Result<RcptTo, Reply> parse_rcpt_to(std::string_view arg) {
  auto split = split_path(arg, "TO:");
  if (!split) return unexpected(split.error());
  RcptTo out;
  out.address = std::string(split->path);
  if (iequals(out.address, "postmaster")) {
    out.address = "postmaster";
  } else if (!valid_mailbox(out.address)) {
    return unexpected(Reply{501, "5.1.3", "Bad recipient address syntax"});
  }
  auto err = for_each_param(
      split->params,
      [&](std::string_view k, std::string_view v, bool has_value) -> std::optional<Reply> {
        if (iequals(k, "NOTIFY") && has_value) {
          std::string n = lower_ascii(v);
          for (auto& c : n) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
          // NEVER alone, or a list of SUCCESS, FAILURE, DELAY.
          bool ok = n == "NEVER";
          if (!ok) {
            ok = true;
            std::string_view rest = n;
            while (ok && !rest.empty()) {
              auto comma = rest.find(',');
              auto item = rest.substr(0, comma);
              ok = item == "SUCCESS" || item == "FAILURE" || item == "DELAY";
              rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
              if (comma != std::string_view::npos && rest.empty()) ok = false;
            }
          }
          if (!ok) return syntax("Bad NOTIFY value");
          out.notify = std::move(n);
        } else if (iequals(k, "ORCPT") && has_value) {
          auto semi = v.find(';');
          if (semi == std::string_view::npos || semi == 0 || !valid_xtext(v.substr(semi + 1), 500))
            return syntax("Bad ORCPT value");
          out.orcpt = std::string(v);
        } else {
          return unknown_param(k);
        }
        return std::nullopt;
      });
  if (err) return unexpected(*err);
  return out;
}

std::optional<Bdat> parse_bdat(std::string_view arg) {
  auto sp = arg.find(' ');
  auto num = arg.substr(0, sp);
  Bdat out;
  if (num.empty() || num.size() > 19) return std::nullopt;
  auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), out.size);
  if (ec != std::errc{} || p != num.data() + num.size()) return std::nullopt;
  if (sp != std::string_view::npos) {
    if (!iequals(trim(arg.substr(sp + 1)), "LAST")) return std::nullopt;
    out.last = true;
  }
  return out;
}

}  // namespace govmail::smtp
