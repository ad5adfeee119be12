// DMARC (RFC 7489) evaluation and the Authentication-Results header field (RFC 8601) for the
// MX. Sans-I/O: no DNS, no Asio. The caller looks up the TXT records at lookup_names() (first
// name first, the next one only when select_record() answers no_record), runs SPF and DKIM,
// and hands everything to evaluate().
//
// The organizational domain (RFC 7489 3.2) comes from the Public Suffix List through libpsl:
// the list of the Debian package publicsuffix (/usr/share/publicsuffix) when it is newer than
// the copy built into libpsl, loaded once per process. Private-section entries of the list
// (github.io, blogspot.com, ...) count as public suffixes, as in OpenDMARC.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace govmail::smtp::dmarc {

// Lower-case (ASCII), without a trailing dot. "mail.hanoi.gov.vn" -> "hanoi.gov.vn",
// "a.b.example.com" -> "example.com", "x.y.unknown-tld" -> "y.unknown-tld" (the PSL's implicit
// "*" rule). A name that is itself a public suffix ("gov.vn", "com") or has one label answers
// itself; a name that is not a domain name (empty label, label over 63 bytes, name over 253
// bytes, a byte outside letters, digits, '-', '_' and UTF-8) answers itself too, lower-cased,
// so that it aligns with nothing but itself.
std::string organizational_domain(std::string_view domain);

enum class Policy { none, quarantine, reject };
std::string_view to_string(Policy policy);  // "none", "quarantine", "reject"

struct Record {
  Policy p = Policy::none;
  std::optional<Policy> sp;
  bool adkim_strict = false, aspf_strict = false;
  int pct = 100;
  std::vector<std::string> rua, ruf;  // syntactically valid DMARC URIs only, at most 16 each
};

// Parses one TXT record text (the character-strings already concatenated). nullopt when it is not
// a usable DMARC record:
//  - it must start with the tag v=DMARC1 ("DMARC1" exact, WSP allowed around '='; RFC 7489 6.3,
//    6.4); records over 4096 bytes and records with a known tag twice (DKIM tag-list rule,
//    RFC 6376 3.2) are refused;
//  - p= missing or invalid, or sp= present and invalid: if rua= holds at least one valid URI the
//    record is taken as p=none without sp (RFC 7489 6.6.3 step 6), else nullopt;
//  - invalid values of the other known tags fall back to their defaults (6.3: adkim/aspf "r",
//    pct 100 when not an integer in 0..100), invalid URIs of rua/ruf are dropped; unknown tags
//    and tag-specs without '=' are ignored. Tag names and policy keywords are ASCII
//    case-insensitive (ABNF quoted strings), tags may come in any order after v.
std::optional<Record> parse_record(std::string_view txt);

// RFC 7489 6.6.3 steps 1-3 over the TXT strings found at one name: records not starting with
// v=DMARC1 are discarded; none left -> no_record (ask the next name of lookup_names()); more than
// one -> multiple (stop: no DMARC processing); one -> record (parsed, possibly invalid: then stop
// and pass Input::record_invalid).
struct Discovery {
  enum class Status { no_record, multiple, record } status = Status::no_record;
  std::optional<Record> record;  // with Status::record; nullopt when that record is invalid
};
Discovery select_record(const std::vector<std::string>& txts);

// The names to query, in order: "_dmarc.<from domain>", then "_dmarc.<organizational domain>"
// when it differs (RFC 7489 6.6.3). Lower-case, no trailing dot. Empty for a From domain that is
// not a domain name; a name that would exceed 253 bytes is left out.
std::vector<std::string> lookup_names(std::string_view from_domain);

enum class Result { none, pass, fail, temperror, permerror };
std::string_view to_string(Result result);  // the RFC 8601 dmarc= result keywords

struct Input {
  // The RFC5322.From domain. Empty when the message has not exactly one From address (or its
  // domain is not a domain name): evaluate() then answers permerror (RFC 7489 6.6.1 leaves the
  // choice to the receiver; govmail does not guess which author counts).
  std::string from_domain;
  std::optional<Record> record;
  bool record_from_org = false;  // record found at the second name of lookup_names()
  bool dns_temporary = false;    // a lookup_names() query failed temporarily -> temperror
  bool record_invalid = false;   // select_record() found one record that parse_record() refused
  std::string spf_result;        // RFC 8601 keyword: "pass", "fail", ... (case-insensitive)
  std::string spf_domain;        // the MAIL FROM domain (or the HELO name) SPF checked
  std::vector<std::pair<std::string, std::string>> dkim;  // (result, d=) per signature
};

struct Evaluation {
  Result result = Result::none;
  // The disposition to apply: none unless result == fail; else p, or sp when the record came
  // from the organizational domain and the From domain is below it. pct (RFC 7489 6.6.4): a
  // message outside the sample gets the next lower policy (reject -> quarantine,
  // quarantine -> none).
  Policy policy = Policy::none;
  bool aligned_spf = false, aligned_dkim = false;
  // Short, for logs and the Authentication-Results comment. Domains in it come from outside: cut
  // short (64 bytes each) but not escaped (log_safe(); auth_results escapes comments itself).
  std::string reason;
};

// sample: a number in [0,1) (random per message in production, fixed in tests); the policy
// applies in full when sample * 100 < pct. NaN counts as 0, values outside are clamped.
Evaluation evaluate(const Input& in, double sample);

}  // namespace govmail::smtp::dmarc

namespace govmail::smtp::auth_results {

struct Method {
  std::string name;     // Keyword: "dkim", "spf", "dmarc"
  std::string result;   // Keyword: "pass", "fail", ...
  std::string comment;  // optional, free text (escaped, cut to 128 bytes)
  // ("header.d", "hanoi.gov.vn"): ptype.property must be Keyword "." Keyword, else the pair is
  // left out; values are cut to 256 bytes and written as a token, as local-part@domain, or as a
  // quoted-string (bytes outside printable ASCII become '?').
  std::vector<std::pair<std::string, std::string>> properties;
};

// The whole field, "Authentication-Results: <id>;" then one resinfo per continuation line
// ("\r\n\t"), each folded between its parts to stay under 78 characters where the parts allow it;
// ends with CRLF. No methods -> "<id>; none". Methods whose name or result is not a Keyword are
// left out; at most 64 methods and 32 properties per method are written.
std::string header(std::string_view authserv_id, const std::vector<Method>& methods);

// Removes from the header block (up to the first empty line, CRLF or LF endings) every
// Authentication-Results field whose authserv-id (token or quoted-string after CFWS, comments
// skipped) equals authserv_id, ASCII case-insensitive and ignoring a trailing dot, with its
// continuation lines. Everything else is kept byte for byte (RFC 8601 5).
std::string strip_own(std::string_view message, std::string_view authserv_id);
// The same, appended to `out` (no copy of the message of its own: delivery's hot path).
void append_without_own(std::string& out, std::string_view message, std::string_view authserv_id);

}  // namespace govmail::smtp::auth_results
