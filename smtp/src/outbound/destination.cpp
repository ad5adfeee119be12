#include "destination.hpp"

#include <arpa/inet.h>

#include "core/asio.hpp"
#include "core/dns.hpp"

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

}  // namespace

awaitable<Destination> resolve_destination(core::Resolver& resolver,
                                           const core::OutboundConfig& cfg,
                                           const std::vector<core::OutboundRoute>& routes,
                                           std::string domain) {
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
