// Where mail for one domain goes: the static route's host, or the domain's MX hosts in
// preference order (the domain itself when it has no MX, RFC 5321 5.1), each resolved to its
// addresses. A null MX (RFC 7505) or a domain that does not exist is a permanent failure; a DNS
// timeout or SERVFAIL a temporary one.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "core/config.hpp"
#include "policy.hpp"
#include "sts.hpp"

namespace govmail::core {
class Resolver;
}

namespace govmail::smtp::outbound {

struct Hop {
  std::string host;  // MX or route host name (or the address itself)
  std::string ip;
  std::uint16_t port = 25;
};

// The MTA-STS mode in force for a destination (RFC 8461 5): none for static routes and for
// domains without a policy. Under enforce only MX hosts that the policy names are in `hops` and
// `tls` is "verify"; under testing delivery is as before and what enforce would refuse is logged.
enum class StsMode { none, testing, enforce };

struct Destination {
  std::string domain;
  std::string tls;  // none, opportunistic, required, verify
  StsMode sts = StsMode::none;
  std::string auth_user, auth_password;
  std::vector<Hop> hops;                 // in the order to try
  std::optional<AttemptResult> failure;  // set when no hop could be found
};

// At most this many addresses are tried per attempt.
inline constexpr std::size_t kMaxHops = 10;

// A static route takes precedence over MTA-STS: `sts` (null when outbound.mta_sts is off) is
// asked only for domains without one.
awaitable<Destination> resolve_destination(core::Resolver& resolver,
                                           const core::OutboundConfig& cfg,
                                           const std::vector<core::OutboundRoute>& routes,
                                           StsPolicies* sts, std::string domain);

}  // namespace govmail::smtp::outbound
