// The pure decisions of outbound delivery, apart from any I/O so that they are unit-tested:
// which route a domain takes, when to retry, what a reply means for a recipient, and which
// report its sender is owed.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "store/outbound.hpp"

namespace govmail::smtp::outbound {

// The first route whose pattern matches the (lower-case) domain, if any.
const core::OutboundRoute* match_route(const std::vector<core::OutboundRoute>& routes,
                                       std::string_view domain);

// The domain of an address, lower-case ("" when there is no '@').
std::string domain_of_address(std::string_view address);

// Wait before the next attempt after `attempts` failed ones: retry_min doubled per attempt,
// at most retry_max.
std::chrono::seconds retry_delay(int attempts, std::chrono::seconds retry_min,
                                 std::chrono::seconds retry_max);

// RFC 3461 NOTIFY: "" (not given: failures and delays are reported), NEVER, or a list of
// SUCCESS, FAILURE, DELAY.
struct Notify {
  bool success = false;
  bool failure = true;
  bool delay = true;
};
Notify parse_notify(std::string_view notify);

// What one attempt means for one recipient.
struct AttemptResult {
  enum class Kind { delivered, temporary, permanent } kind = Kind::temporary;
  std::string reply;            // "250 2.0.0 Ok" or a local reason in reply form
  std::string host;             // remote host that answered, "" when none did
  bool remote_reports = false;  // delivered to a server that offered DSN (it reports SUCCESS)
};

struct OutcomeRules {
  std::chrono::seconds retry_min{300};
  std::chrono::seconds retry_max{3600};
  std::chrono::seconds lifetime{5 * 86400};
  std::chrono::seconds delay_warning{4 * 3600};  // 0 = never
};

// The recorded outcome: status, retry time, and the report owed (never one to the null sender;
// "a bounce never bounces").
store::AttemptOutcome decide(const store::ClaimedRecipient& r, const AttemptResult& a,
                             const OutcomeRules& rules, std::int64_t now_unix);

}  // namespace govmail::smtp::outbound
