// SPF (RFC 7208) for inbound mail on the MX: check_host() on govmail's own asynchronous
// resolver (core::Resolver, libunbound off the io threads).
//
// Why not libspf2: Debian's libspf2 resolves through a synchronous DNS callback (its dns layer
// blocks the calling thread until the answer arrives), so it cannot run on an io thread without
// stalling every other session there, nor await core::Resolver. The record parser and macro
// expander are sans-I/O (smtp/src/auth/spf_record.hpp); this file only adds the lookups.
//
// What is implemented: record selection (RFC 7208 4.5), all, include, a, mx, ptr, ip4, ip6,
// exists (with prefix lengths, dual-cidr on a and mx), redirect=, qualifiers, macros (7: s l o d
// i p v h, digit and r transformers, delimiters, %% %_ %-, upper case URL-escaped), the limits of
// 4.6.4: 10 terms causing DNS lookups (include, a, mx, ptr, exists, redirect) across the whole
// evaluation, 10 MX names per mx, 2 void lookups (NOERROR-empty or NXDOMAIN), all permerror
// beyond. IPv4-mapped IPv6 client addresses are checked as IPv4.
// ptr and %{p} (5.5, 7.3): publishers SHOULD NOT use ptr, but verifiers evaluate it. The client's
// PTR names (the first 10) are validated by an address lookup of the client's family each (not
// counted as terms: at most 10 per evaluation), once per evaluation and only when a ptr or %{p}
// needs them. A PTR lookup that fails is no match (not temperror); one that finds nothing is a
// void lookup for ptr; a name whose address lookup fails is skipped. %{p} is the validated name
// equal to, else under, the current domain, else the first one, else "unknown".
// Deliberately not implemented:
// - exp= is checked for syntax and otherwise ignored: the explanation is for rejections that
//   quote the sender's text back to the client, which govmail does not do.
// Bounds: records over 4096 bytes are a permerror; recursion is bounded by the lookup limit;
// each query has the resolver's timeout, and no new query starts after Limits::budget (the
// result is then temperror), so an evaluation takes at most about budget + one query timeout.
#pragma once
#include <chrono>
#include <string>
#include <string_view>

#include "core/awaitable_fwd.hpp"

namespace govmail::core {
class Resolver;
}

namespace govmail::smtp::spf {

enum class Result { none, neutral, pass, fail, softfail, temperror, permerror };
// "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror" (RFC 7208 2.6,
// RFC 8601 2.7.2).
std::string_view to_string(Result result);

struct Evaluation {
  Result result = Result::none;
  std::string domain;  // the domain checked (the `domain` argument)
  // Why, short, for logs and the Authentication-Results comment: "matched ip4:192.0.2.0/24 in
  // example.org", "no SPF record", "DNS lookup limit (10) exceeded", ... Names and terms in it
  // come from the client and from DNS: they are cut short but not escaped (use log_safe()).
  std::string explanation;
};

struct Limits {
  // No lookup starts once this much time has passed since check_host() began.
  std::chrono::milliseconds budget{20000};
};

// check_host() of RFC 7208 4. ip: the client's address ("192.0.2.1", "2001:db8::1",
// "::ffff:192.0.2.1"); domain: the MAIL FROM domain (or the HELO name when MAIL FROM is <>);
// sender: the full MAIL FROM ("postmaster@<helo>" when null); helo: the HELO/EHLO name.
// A domain that is not a multi-label name answers none (4.3); an ip that is not an address
// answers none too (no verdict possible).
awaitable<Evaluation> check_host(core::Resolver& resolver, std::string ip, std::string domain,
                                 std::string sender, std::string helo);
awaitable<Evaluation> check_host(core::Resolver& resolver, std::string ip, std::string domain,
                                 std::string sender, std::string helo, Limits limits);

}  // namespace govmail::smtp::spf
