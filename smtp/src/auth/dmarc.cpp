// DMARC (RFC 7489) record parsing, discovery names and evaluation; the Authentication-Results
// field (RFC 8601). See smtp/include/smtp/dmarc.hpp.
#include "smtp/dmarc.hpp"

#include <libpsl.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>

namespace govmail::smtp::dmarc {
namespace {

constexpr std::size_t kMaxRecordLength = 4096;
constexpr std::size_t kMaxDomainLength = 253;
constexpr std::size_t kMaxUris = 16;
constexpr std::size_t kMaxReasonDomain = 64;

bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim_wsp(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

// Lower-case, one trailing dot removed.
std::string normalize_domain(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  return to_lower(domain);
}

bool valid_domain(std::string_view name) {
  if (name.empty() || name.size() > kMaxDomainLength) return false;
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '_' || u >= 0x80)) return false;
    if (++label > 63) return false;
  }
  return label != 0;
}

struct PslDeleter {
  void operator()(psl_ctx_t* ctx) const { psl_free(ctx); }
};

// The newest list available, loaded once: psl_latest() compares the distribution file
// (/usr/share/publicsuffix, package publicsuffix) with the built-in copy.
const psl_ctx_t* psl() {
  static const std::unique_ptr<psl_ctx_t, PslDeleter> latest(psl_latest(nullptr));
  if (latest) return latest.get();
  return psl_builtin();
}

std::string cut(std::string_view s, std::size_t n) {
  return std::string(s.substr(0, n));
}

std::optional<Policy> parse_policy(std::string_view v) {
  if (iequals(v, "none")) return Policy::none;
  if (iequals(v, "quarantine")) return Policy::quarantine;
  if (iequals(v, "reject")) return Policy::reject;
  return std::nullopt;
}

bool is_hex(char c) {
  return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'f');
}

// RFC 3986 URI characters after "scheme:" (the "!size" suffix of RFC 7489 6.4 is made of them);
// ',' and ';' never reach here (they separate URIs and tags).
bool valid_uri(std::string_view uri) {
  std::size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == uri.size()) return false;
  if (!is_alpha(uri[0])) return false;
  for (std::size_t i = 1; i < colon; ++i) {
    char c = uri[i];
    if (!(is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.')) return false;
  }
  static constexpr std::string_view kOther = "-._~:/?#[]@!$&'()*+=";
  for (std::size_t i = colon + 1; i < uri.size(); ++i) {
    char c = uri[i];
    if (c == '%') {
      if (i + 2 >= uri.size() || !is_hex(uri[i + 1]) || !is_hex(uri[i + 2])) return false;
      i += 2;
      continue;
    }
    if (!(is_alpha(c) || is_digit(c) || kOther.find(c) != std::string_view::npos)) return false;
  }
  return true;
}

std::vector<std::string> parse_uris(std::string_view value) {
  std::vector<std::string> out;
  while (true) {
    std::size_t comma = value.find(',');
    std::string_view uri = trim_wsp(value.substr(0, comma));
    if (valid_uri(uri) && out.size() < kMaxUris) out.emplace_back(uri);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

// "ALPHA *ALNUMPUNC" (RFC 6376 3.2 tag-name).
bool valid_tag_name(std::string_view name) {
  if (name.empty() || !is_alpha(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; });
}

// The first tag-spec is v=DMARC1 (no leading WSP; "DMARC1" case-sensitive, RFC 7489 6.4 %x).
bool starts_with_v_dmarc1(std::string_view txt) {
  std::string_view first = txt.substr(0, txt.find(';'));
  if (first.empty() || (first[0] != 'v' && first[0] != 'V')) return false;
  first.remove_prefix(1);
  first = trim_wsp(first);
  if (first.empty() || first[0] != '=') return false;
  first.remove_prefix(1);
  return trim_wsp(first) == "DMARC1";
}

}  // namespace

std::string_view to_string(Policy policy) {
  switch (policy) {
    case Policy::none:
      return "none";
    case Policy::quarantine:
      return "quarantine";
    case Policy::reject:
      return "reject";
  }
  return "none";
}

std::string_view to_string(Result result) {
  switch (result) {
    case Result::none:
      return "none";
    case Result::pass:
      return "pass";
    case Result::fail:
      return "fail";
    case Result::temperror:
      return "temperror";
    case Result::permerror:
      return "permerror";
  }
  return "none";
}

std::string organizational_domain(std::string_view domain) {
  std::string name = normalize_domain(domain);
  if (!valid_domain(name)) return name;
  const psl_ctx_t* ctx = psl();
  if (ctx == nullptr) return name;
  const char* registrable = psl_registrable_domain(ctx, name.c_str());
  if (registrable == nullptr) return name;  // a public suffix itself, or a single label
  return std::string(registrable);
}

std::optional<Record> parse_record(std::string_view txt) {
  if (txt.size() > kMaxRecordLength || !starts_with_v_dmarc1(txt)) return std::nullopt;
  Record record;
  std::optional<Policy> p;
  bool sp_invalid = false;
  std::vector<std::string> seen;
  std::size_t semi = txt.find(';');
  std::string_view rest =
      semi == std::string_view::npos ? std::string_view{} : txt.substr(semi + 1);
  while (!rest.empty()) {
    semi = rest.find(';');
    std::string_view spec = trim_wsp(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    std::size_t eq = spec.find('=');
    if (eq == std::string_view::npos) continue;  // not a tag-spec: ignored (6.3)
    std::string_view raw_name = trim_wsp(spec.substr(0, eq));
    std::string_view value = trim_wsp(spec.substr(eq + 1));
    if (!valid_tag_name(raw_name)) continue;
    std::string name = to_lower(raw_name);
    static constexpr std::string_view kKnown[] = {"v",   "p",   "sp", "adkim", "aspf", "pct",
                                                  "rua", "ruf", "fo", "rf",    "ri"};
    if (std::find(std::begin(kKnown), std::end(kKnown), name) != std::end(kKnown)) {
      if (std::find(seen.begin(), seen.end(), name) != seen.end()) return std::nullopt;
      seen.push_back(name);
    }
    if (name == "v") return std::nullopt;  // v again (the first one is not in `seen`)
    if (name == "p") {
      p = parse_policy(value);
    } else if (name == "sp") {
      record.sp = parse_policy(value);
      sp_invalid = !record.sp;
    } else if (name == "adkim" || name == "aspf") {
      bool& strict = name == "adkim" ? record.adkim_strict : record.aspf_strict;
      strict = iequals(value, "s");  // "r" and anything invalid: relaxed, the default
    } else if (name == "pct") {
      if (!value.empty() && value.size() <= 3 &&
          std::all_of(value.begin(), value.end(), is_digit)) {
        int n = 0;
        for (char c : value) n = n * 10 + (c - '0');
        if (n <= 100) record.pct = n;
      }
    } else if (name == "rua") {
      record.rua = parse_uris(value);
    } else if (name == "ruf") {
      record.ruf = parse_uris(value);
    }
  }
  if (!p || sp_invalid) {
    if (record.rua.empty()) return std::nullopt;
    p = Policy::none;  // RFC 7489 6.6.3 step 6: as if "v=DMARC1; p=none"
    record.sp.reset();
  }
  record.p = *p;
  return record;
}

Discovery select_record(const std::vector<std::string>& txts) {
  Discovery out;
  const std::string* found = nullptr;
  for (const std::string& txt : txts) {
    if (!starts_with_v_dmarc1(txt)) continue;
    if (found != nullptr) {
      out.status = Discovery::Status::multiple;
      return out;
    }
    found = &txt;
  }
  if (found == nullptr) return out;
  out.status = Discovery::Status::record;
  out.record = parse_record(*found);
  return out;
}

std::vector<std::string> lookup_names(std::string_view from_domain) {
  std::vector<std::string> names;
  std::string from = normalize_domain(from_domain);
  if (!valid_domain(from)) return names;
  constexpr std::string_view kPrefix = "_dmarc.";
  if (kPrefix.size() + from.size() <= kMaxDomainLength)
    names.push_back(std::string(kPrefix) + from);
  std::string org = organizational_domain(from);
  if (org != from) names.push_back(std::string(kPrefix) + org);
  return names;
}

Evaluation evaluate(const Input& in, double sample) {
  Evaluation ev;
  const std::string from = normalize_domain(in.from_domain);
  if (!valid_domain(from)) {
    ev.result = Result::permerror;
    ev.reason = "no single valid RFC5322.From domain";
    return ev;
  }
  if (in.dns_temporary) {
    ev.result = Result::temperror;
    ev.reason = "temporary DNS failure looking up the DMARC record";
    return ev;
  }
  if (in.record_invalid) {
    ev.result = Result::permerror;
    ev.reason = "invalid DMARC record";
    return ev;
  }
  if (!in.record) {
    ev.result = Result::none;
    ev.reason = "no DMARC record";
    return ev;
  }
  const Record& rec = *in.record;
  const std::string from_org = organizational_domain(from);
  auto aligned = [&](std::string_view domain, bool strict) {
    std::string d = normalize_domain(domain);
    if (d.empty()) return false;
    return strict ? d == from : organizational_domain(d) == from_org;
  };

  std::string dkim_domain;
  for (const auto& [result, domain] : in.dkim) {
    if (iequals(result, "pass") && aligned(domain, rec.adkim_strict)) {
      ev.aligned_dkim = true;
      dkim_domain = normalize_domain(domain);
      break;
    }
  }
  ev.aligned_spf = iequals(in.spf_result, "pass") && aligned(in.spf_domain, rec.aspf_strict);

  if (ev.aligned_dkim || ev.aligned_spf) {
    ev.result = Result::pass;
    ev.reason = ev.aligned_dkim
                    ? "aligned DKIM pass d=" + cut(dkim_domain, kMaxReasonDomain)
                    : "aligned SPF pass " + cut(normalize_domain(in.spf_domain), kMaxReasonDomain);
    return ev;
  }

  ev.result = Result::fail;
  const bool subdomain_policy = in.record_from_org && from != from_org && rec.sp.has_value();
  Policy policy = subdomain_policy ? *rec.sp : rec.p;
  ev.reason = "no aligned SPF or DKIM pass; ";
  ev.reason += subdomain_policy ? "sp=" : "p=";
  ev.reason += to_string(policy);

  if (std::isnan(sample) || sample < 0) sample = 0;
  if (sample >= 1) sample = std::nextafter(1.0, 0.0);
  const bool sampled = sample * 100 < rec.pct;
  if (!sampled && policy != Policy::none) {
    // RFC 7489 6.6.4: outside the pct sample, the next lower policy applies.
    policy = policy == Policy::reject ? Policy::quarantine : Policy::none;
    ev.reason += " (pct=" + std::to_string(rec.pct) + ", not sampled: ";
    ev.reason += to_string(policy);
    ev.reason += ")";
  }
  ev.policy = policy;
  return ev;
}

}  // namespace govmail::smtp::dmarc

namespace govmail::smtp::auth_results {
namespace {

constexpr std::size_t kMaxValue = 256;
constexpr std::size_t kMaxComment = 128;
constexpr std::size_t kMaxMethods = 64;
constexpr std::size_t kMaxProperties = 32;
constexpr std::size_t kFoldAt = 78;
constexpr std::string_view kFieldName = "Authentication-Results";

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// RFC 5321 Keyword (Ldh-str): letters, digits, '-', not ending with '-'.
bool is_keyword(std::string_view s) {
  if (s.empty() || s.size() > 64 || !is_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

bool is_tspecial(char c) {
  return std::string_view("()<>@,;:\\\"/[]?=").find(c) != std::string_view::npos;
}

// RFC 2045 token.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && !is_tspecial(c);
  });
}

bool is_atext(char c) {
  return is_alnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// [dot-atom local-part] "@" domain-name, the unquoted pvalue form of RFC 8601 2.2.
bool is_address(std::string_view s) {
  std::size_t at = s.find('@');
  if (at == std::string_view::npos) return false;
  std::string_view local = s.substr(0, at), domain = s.substr(at + 1);
  if (!local.empty()) {
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
      return false;
    if (!std::all_of(local.begin(), local.end(), [](char c) { return c == '.' || is_atext(c); }))
      return false;
  }
  if (domain.empty() || domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos)
    return false;
  return std::all_of(domain.begin(), domain.end(),
                     [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; });
}

// RFC 8601 pvalue (address_form) or value: as it is when it is a token (or local-part@domain),
// else a quoted-string.
std::string format_value(std::string_view raw, bool address_form) {
  raw = raw.substr(0, kMaxValue);
  if (is_token(raw) || (address_form && is_address(raw))) return std::string(raw);
  std::string out = "\"";
  for (char c : raw) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += '?';
    }
  }
  out += '"';
  return out;
}

std::string format_comment(std::string_view raw) {
  raw = raw.substr(0, kMaxComment);
  std::string out = "(";
  for (char c : raw) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '(' || c == ')' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\r' || c == '\n' || c == '\t') {
      out += ' ';
    } else if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += '?';
    }
  }
  out += ')';
  return out;
}

bool valid_property_name(std::string_view s) {
  std::size_t dot = s.find('.');
  return dot != std::string_view::npos && is_keyword(s.substr(0, dot)) &&
         is_keyword(s.substr(dot + 1));
}

// Skips CFWS (RFC 5322 3.2.2; CR and LF count as folding whitespace, comments nest).
std::size_t skip_cfws(std::string_view s, std::size_t i) {
  int depth = 0;
  while (i < s.size()) {
    char c = s[i];
    if (depth > 0) {
      if (c == '\\') {
        i += 2;
        continue;
      }
      if (c == '(') ++depth;
      if (c == ')') --depth;
      ++i;
      continue;
    }
    if (c == '(') {
      depth = 1;
      ++i;
    } else if (is_wsp(c) || c == '\r' || c == '\n') {
      ++i;
    } else {
      break;
    }
  }
  return std::min(i, s.size());
}

// The authserv-id at the start of a field body: a quoted-string (unquoted, folding removed) or a
// run of token characters.
std::string authserv_id_of(std::string_view body) {
  std::size_t i = skip_cfws(body, 0);
  std::string id;
  if (i < body.size() && body[i] == '"') {
    for (++i; i < body.size() && body[i] != '"'; ++i) {
      if (body[i] == '\\' && i + 1 < body.size()) ++i;
      if (body[i] == '\r' || body[i] == '\n') continue;
      id += body[i];
    }
    return id;
  }
  for (; i < body.size(); ++i) {
    const auto u = static_cast<unsigned char>(body[i]);
    if (u <= 0x20 || u >= 0x7f || is_tspecial(body[i])) break;
    id += body[i];
  }
  return id;
}

std::string normalize_id(std::string_view id) {
  while (!id.empty() && is_wsp(id.front())) id.remove_prefix(1);
  while (!id.empty() && is_wsp(id.back())) id.remove_suffix(1);
  if (!id.empty() && id.back() == '.') id.remove_suffix(1);
  std::string out(id);
  for (char& c : out) c = lower(c);
  return out;
}

// Our own Authentication-Results field? `field` is the whole field, continuation lines included.
bool is_own_field(std::string_view field, std::string_view own_id) {
  std::size_t colon = field.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view name = field.substr(0, colon);
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);  // obs-optional
  if (!iequals(name, kFieldName)) return false;
  return normalize_id(authserv_id_of(field.substr(colon + 1))) == own_id;
}

}  // namespace

std::string header(std::string_view authserv_id, const std::vector<Method>& methods) {
  std::string out = std::string(kFieldName) + ": " + format_value(authserv_id, false) + ";";
  std::vector<std::vector<std::string>> resinfos;
  for (const Method& m : methods) {
    if (resinfos.size() == kMaxMethods) break;
    if (!is_keyword(m.name) || !is_keyword(m.result)) continue;
    std::vector<std::string> atoms;
    atoms.push_back(m.name + "=" + m.result);
    if (!m.comment.empty()) atoms.push_back(format_comment(m.comment));
    std::size_t props = 0;
    for (const auto& [name, value] : m.properties) {
      if (props == kMaxProperties) break;
      if (!valid_property_name(name)) continue;
      atoms.push_back(name + "=" + format_value(value, true));
      ++props;
    }
    resinfos.push_back(std::move(atoms));
  }
  if (resinfos.empty()) return out + " none\r\n";
  for (std::size_t r = 0; r < resinfos.size(); ++r) {
    const std::vector<std::string>& atoms = resinfos[r];
    const bool last_resinfo = r + 1 == resinfos.size();
    out += "\r\n\t";
    out += atoms[0];
    std::size_t col = 1 + atoms[0].size();
    for (std::size_t a = 1; a < atoms.size(); ++a) {
      const std::size_t need = atoms[a].size() + (a + 1 == atoms.size() && !last_resinfo ? 1 : 0);
      if (col + 1 + need <= kFoldAt) {
        out += ' ';
        col += 1 + atoms[a].size();
      } else {
        out += "\r\n\t";
        col = 1 + atoms[a].size();
      }
      out += atoms[a];
    }
    if (!last_resinfo) out += ';';
  }
  out += "\r\n";
  return out;
}

std::string strip_own(std::string_view message, std::string_view authserv_id) {
  std::string out;
  out.reserve(message.size());
  append_without_own(out, message, authserv_id);
  return out;
}

void append_without_own(std::string& out, std::string_view message, std::string_view authserv_id) {
  const std::string own = normalize_id(authserv_id);
  if (own.empty()) {
    out += message;
    return;
  }
  // Line i spans [start, next), next just past its LF (or the end of the message).
  auto line_end = [&](std::size_t start) {
    std::size_t lf = message.find('\n', start);
    return lf == std::string_view::npos ? message.size() : lf + 1;
  };
  auto is_blank = [&](std::size_t start, std::size_t next) {
    std::string_view line = message.substr(start, next - start);
    return line == "\n" || line == "\r\n" || line.empty();
  };
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t next = line_end(pos);
    if (is_blank(pos, next)) break;  // end of the header block: the rest is copied as is
    // One field: this line and the continuation lines (starting with WSP) after it.
    std::size_t field_end = next;
    while (field_end < message.size() && is_wsp(message[field_end]))
      field_end = line_end(field_end);
    std::string_view field = message.substr(pos, field_end - pos);
    if (!is_own_field(field, own)) out += field;
    pos = field_end;
  }
  out += message.substr(pos);
}

}  // namespace govmail::smtp::auth_results
