#include "destination.hpp"

#include <arpa/inet.h>

#include <spdlog/spdlog.h>

#include "core/asio.hpp"
#include "core/dns.hpp"
#include "core/log.hpp"

namespace govmail::smtp::outbound {
namespace {

bool is_ip_literal(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

AttemptResult failure(AttemptResult::Kind kind, std::string reply) {
  AttemptResult a;
  a.kind = kind;
  a.reply = std::move(reply);
  return a;
}

// The host names to try, in order, or the failure that ends the attempt.
awaitable<std::optional<AttemptResult>> mx_names(core::Resolver& resolver,
                                                 const std::string& domain,
                                                 std::vector<std::string>& names) {
  auto mx = co_await resolver.mx(domain);
  using core::DnsStatus;
  using Kind = AttemptResult::Kind;
  switch (mx.status) {
    case DnsStatus::nxdomain:
      co_return failure(Kind::permanent,
                        "550 5.1.2 Domain " + domain + " does not exist (DNS: NXDOMAIN)");
    case DnsStatus::temporary:
      co_return failure(Kind::temporary,
                        "451 4.4.3 DNS lookup of the MX of " + domain + " failed: " + mx.error);
    case DnsStatus::nodata:
      names.push_back(domain);  // no MX: the domain itself is the implicit MX
      co_return std::nullopt;
    case DnsStatus::ok:
      break;
  }
  if (mx.null_mx)
    co_return failure(Kind::permanent,
                      "550 5.1.10 Domain " + domain + " accepts no mail (null MX, RFC 7505)");
  for (const auto& h : mx.hosts) names.push_back(h.host);
  if (names.empty()) names.push_back(domain);
  co_return std::nullopt;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// RFC 8461 4.1 and 5: under enforce only the MX hosts that match the policy remain and TLS with
// a certificate valid for the MX name is required; under testing a mismatch is only logged.
std::optional<AttemptResult> apply_sts(Destination& d, const mta_sts::Policy& policy,
                                       std::vector<std::string>& names) {
  std::vector<std::string> allowed, refused;
  for (auto& n : names) (mta_sts::allows_mx(policy, n) ? allowed : refused).push_back(n);
  if (policy.mode == mta_sts::Mode::testing) {
    d.sts = StsMode::testing;
    if (!refused.empty())
      spdlog::warn("outbound {}: MTA-STS policy (testing) does not list MX {}; delivering anyway",
                   d.domain, core::log_safe(joined(refused), 300));
    return std::nullopt;
  }
  d.sts = StsMode::enforce;
  d.tls = "verify";
  if (allowed.empty()) {
    spdlog::warn("outbound {}: MTA-STS policy (enforce) lists none of its MX hosts ({}): deferred",
                 d.domain, core::log_safe(joined(refused), 300));
    return failure(AttemptResult::Kind::temporary, "451 4.4.4 MTA-STS policy of " + d.domain +
                                                       " (enforce) allows none of its MX hosts (" +
                                                       joined(refused) + "): not sent");
  }
  if (!refused.empty())
    spdlog::info("outbound {}: MTA-STS policy (enforce) skips MX {}", d.domain,
                 core::log_safe(joined(refused), 300));
  names = std::move(allowed);
  return std::nullopt;
}

}  // namespace

awaitable<Destination> resolve_destination(core::Resolver& resolver,
                                           const core::OutboundConfig& cfg,
                                           const std::vector<core::OutboundRoute>& routes,
                                           StsPolicies* sts, std::string domain) {
  Destination d;
  d.domain = domain;
  d.tls = cfg.tls;
  std::uint16_t port = cfg.smtp_port;
  std::vector<std::string> names;
  const core::OutboundRoute* route = match_route(routes, domain);
  if (route) {
    if (!route->tls.empty()) d.tls = route->tls;
    if (route->port) port = route->port;
    d.auth_user = route->auth_user;
    d.auth_password = route->auth_password;
  }
  if (route && !route->host.empty()) {
    names.push_back(route->host);
  } else if (auto failed = co_await mx_names(resolver, domain, names)) {
    d.failure = std::move(failed);
    co_return d;
  } else if (sts && !route) {  // a matching route, even without a host, decides TLS itself
    if (auto policy = co_await sts->lookup(domain))
      if (auto refused = apply_sts(d, *policy, names)) {
        d.failure = std::move(refused);
        co_return d;
      }
  }
  bool temporary = false;
  std::string last_error;
  for (const auto& name : names) {
    if (d.hops.size() >= kMaxHops) break;
    if (is_ip_literal(name)) {
      d.hops.push_back({name, name, port});
      continue;
    }
    auto a = co_await resolver.addresses(name);
    if (a.status == core::DnsStatus::temporary) {
      temporary = true;
      last_error = name + ": " + a.error;
    } else if (a.status != core::DnsStatus::ok) {
      last_error = name + ": no address";
    }
    for (const auto& ip : a.addresses)
      if (d.hops.size() < kMaxHops) d.hops.push_back({name, ip, port});
  }
  if (d.hops.empty()) {
    // MX hosts that do not resolve are most often a misconfiguration being fixed: retry.
    d.failure = failure(AttemptResult::Kind::temporary,
                        std::string("451 4.4.3 No address for the mail servers of ") + domain +
                            " (" + last_error + (temporary ? ", DNS failure" : "") + ")");
  }
  co_return d;
}

}  // namespace govmail::smtp::outbound
