// The MTA-STS policy that applies to a recipient domain now (RFC 8461 3 and 5.1): the
// _mta-sts TXT record through the shared asynchronous resolver, the policy fetched over verified
// HTTPS from mta-sts.<domain> when the record's id differs from the cached one (or the cached
// policy is a day old, or expired), and the cache in the database (store::MtaStsCache, shared by
// every process). A fetch that fails keeps the cached policy while it has not expired; with no
// cached policy the domain has none (delivery as before). Failed fetches of one id are not
// retried for five minutes (RFC 8461 3.3), and one process fetches a domain's policy once at a
// time.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "core/awaitable_fwd.hpp"
#include "core/tls.hpp"
#include "smtp/mta_sts.hpp"

namespace govmail::core {
class Resolver;
}
namespace govmail::store {
class MtaStsCache;
}

namespace govmail::smtp::outbound {

struct StsSettings {
  core::TlsContext tls;  // verifying context (outbound.tls_ca_file or the system store)
  std::chrono::milliseconds timeout{60000};
  std::uint16_t https_port = 443;
};

class StsPolicies {
 public:
  StsPolicies(Executor ex, std::shared_ptr<core::Resolver> resolver, store::MtaStsCache& cache,
              StsSettings settings);

  // The policy to apply to mail for `domain` (lower-case), if any; mode none counts as none.
  awaitable<std::optional<mta_sts::Policy>> lookup(std::string domain);

 private:
  struct Fetched {
    std::optional<mta_sts::Policy> policy;
    std::string body;
    std::string error;
  };
  awaitable<Fetched> fetch(const std::string& domain);
  bool recently_failed(const std::string& domain, const std::string& id);
  void note_failure(const std::string& domain, const std::string& id);
  bool begin_fetch(const std::string& domain);
  void end_fetch(const std::string& domain);

  Executor ex_;
  std::shared_ptr<core::Resolver> resolver_;
  store::MtaStsCache& cache_;
  StsSettings settings_;
  std::mutex mu_;
  std::map<std::string, std::pair<std::string, std::chrono::steady_clock::time_point>> failed_;
  std::set<std::string> fetching_;
};

}  // namespace govmail::smtp::outbound
