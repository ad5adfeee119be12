// MTA-STS (RFC 8461): the `_mta-sts` TXT record, the policy file and MX pattern matching.
// Sans-I/O: no DNS, no HTTPS. Outbound delivery looks the record up, fetches the policy (core's
// HTTPS client), caches it (store) and applies it to the MX hosts; these functions decide.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace govmail::smtp::mta_sts {

// RFC 8461 3.3: a policy body may be refused beyond 64 KiB.
inline constexpr std::size_t kMaxPolicyBytes = 64 * 1024;
// RFC 8461 3.2: max_age is at most 31557600 seconds (a year); larger values are cut to it.
inline constexpr std::int64_t kMaxAge = 31557600;

// One TXT record text (character-strings concatenated): the policy id when it is a valid
// "v=STSv1; id=...;" record (RFC 8461 3.1 ABNF: v first, id 1..32 letters and digits, extension
// fields name=value, fields separated by ';' with optional WSP around). nullopt otherwise.
std::optional<std::string> parse_record(std::string_view txt);

// RFC 8461 3.1 over every TXT text found at _mta-sts.<domain>: texts not starting with "v=STSv1"
// are discarded; exactly one must remain and be valid, otherwise the domain has no policy
// available (none, several or an invalid one).
struct Discovery {
  enum class Status { none, multiple, invalid, record } status = Status::none;
  std::string id;  // with Status::record
};
Discovery select_record(const std::vector<std::string>& txts);

enum class Mode { enforce, testing, none };
std::string_view to_string(Mode mode);

struct Policy {
  Mode mode = Mode::none;
  std::vector<std::string> mx;  // lower-case patterns: "mx.example.com" or "*.example.com"
  std::int64_t max_age = 0;     // seconds, at most kMaxAge
};

// The policy file (RFC 8461 3.2): "key: value" lines ended by LF or CRLF. version (STSv1),
// mode and max_age are required, each at most once; mx is required (one or more) unless mode is
// none; keys and the keywords are case-sensitive; unknown keys with a valid name are ignored;
// empty lines are skipped. Anything else makes the whole policy invalid (the error says why),
// as does a body over kMaxPolicyBytes.
Result<Policy, std::string> parse_policy(std::string_view text);

// RFC 8461 4.1: a pattern matches a host name (ASCII case-insensitive, a trailing dot on the
// host ignored) when equal, or for "*.suffix" when the host is exactly one label more than the
// suffix ("*.example.com" matches "mx.example.com", not "example.com" nor "a.b.example.com").
bool mx_matches(std::string_view pattern, std::string_view host);
// Whether any of the policy's patterns matches the MX host.
bool allows_mx(const Policy& policy, std::string_view host);

}  // namespace govmail::smtp::mta_sts
