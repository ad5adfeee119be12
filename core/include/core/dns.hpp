// Asynchronous DNS for outbound mail and inbound checks: MX (with the RFC 7505 null MX), A+AAAA,
// TXT and PTR lookups.
//
// Why libunbound: a maintained resolver library (retries, TCP fallback on truncation, EDNS,
// caching, CNAME following) that hands back the rdata of each answer and can validate DNSSEC
// later (DANE) once given a trust anchor; getaddrinfo has no MX or TXT, res_query blocks.
//
// How it stays off the io threads: the context runs in async mode with its own resolver thread
// (ub_ctx_async(ctx, 1)); queries are handed to that thread with ub_resolve_async, which never
// blocks on the network. Answers come back through a pipe (ub_fd) that an
// asio::posix::stream_descriptor waits on; when it is readable an io thread calls ub_process,
// which only decodes the finished answers and runs the callbacks. Each callback hands the
// answer to the waiting coroutine on that coroutine's own executor. Every query has a deadline
// (DnsOptions::timeout) after which it is cancelled and answers DnsStatus::temporary.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "core/config.hpp"
#include "core/result.hpp"

namespace govmail::core {

struct DnsOptions {
  // "192.0.2.53", "127.0.0.1@5353", "::1": queries go to these (recursion desired). Empty: the
  // nameservers of /etc/resolv.conf. Loopback forwarders are allowed.
  std::vector<std::string> forwarders;
  // Per lookup (an addresses() lookup asks A and AAAA under one deadline). When it passes, the
  // lookup answers DnsStatus::temporary with error "timeout".
  std::chrono::milliseconds timeout{10000};
};

enum class DnsStatus {
  ok,         // data in the answer
  nxdomain,   // the name does not exist (RCODE 3)
  nodata,     // the name exists, no record of that type (NOERROR, empty answer)
  temporary,  // SERVFAIL, REFUSED, timeout, network error, resolver stopped, nothing usable
};

struct MxHost {
  std::uint16_t preference = 0;
  std::string host;  // lower-case, no trailing dot
};

struct MxAnswer {
  DnsStatus status = DnsStatus::temporary;
  bool null_mx = false;  // RFC 7505: the domain accepts no mail (hosts is empty)
  // Ordered by preference; hosts of equal preference in random order (RFC 5321 5.1).
  std::vector<MxHost> hosts;
  std::string error;  // why, when status is temporary ("SERVFAIL", "timeout", ...)
};

struct AddressAnswer {
  DnsStatus status = DnsStatus::temporary;
  std::vector<std::string> addresses;  // "192.0.2.1" (A first), then "2001:db8::1" (AAAA)
  std::string error;
};

struct TxtAnswer {
  DnsStatus status = DnsStatus::temporary;
  std::vector<std::string> texts;  // one per TXT record, its character-strings concatenated
  std::string error;
};

struct PtrAnswer {
  DnsStatus status = DnsStatus::temporary;
  std::vector<std::string> names;  // one per PTR record, lower-case, no trailing dot
  std::string error;
};

class Resolver {
 public:
  struct Impl;
  // Fails on a forwarder that is not an address or an unreadable /etc/resolv.conf.
  static Result<std::shared_ptr<Resolver>, std::string> create(Executor ex, DnsOptions opts);

  explicit Resolver(std::shared_ptr<Impl> impl);
  ~Resolver();  // stop()
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Callable from any thread or coroutine; the caller resumes on its own executor. Mail targets
  // that are not hostnames (labels other than letters, digits, '-', '_') are skipped; when no
  // record is usable the answer is temporary.
  awaitable<MxAnswer> mx(std::string domain);
  // A and AAAA asked at once. nxdomain only when both answers say so; ok when either has data.
  awaitable<AddressAnswer> addresses(std::string host);
  awaitable<TxtAnswer> txt(std::string name);
  // The PTR names of an address ("192.0.2.1" asks 1.2.0.192.in-addr.arpa, "2001:db8::1" the
  // nibbles under ip6.arpa). Names that are not hostnames are skipped (temporary when none is
  // left); an `ip` that is not an address answers temporary without asking.
  awaitable<PtrAnswer> ptr(std::string ip);

  // The one resolver of a govmail process (outbound.resolvers, outbound.dns_timeout): outbound
  // delivery and the MX's inbound checks share it, and its cache.
  static Result<std::shared_ptr<Resolver>, std::string> from_config(Executor ex,
                                                                    const OutboundConfig& cfg);

  // Pending lookups complete at once with temporary ("resolver stopped"), later ones too.
  // Idempotent; the Resolver may be destroyed afterwards while lookups are still unwinding.
  void stop();

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace govmail::core
