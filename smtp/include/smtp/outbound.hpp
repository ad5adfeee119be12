// Outbound delivery in `govmail serve`: queue workers that drain the durable PostgreSQL queue
// (store::OutboundQueue). Recipients are claimed in batches (several processes never take the
// same one), grouped by message and destination domain into one transaction each, and sent over
// connections that are reused for more mail to the same domain, within per-process and
// per-domain connection limits. MX hosts come from an asynchronous resolver (libunbound), or
// from a static route. Outcomes are recorded per recipient as soon as the remote answers;
// temporary failures are retried with exponential back-off until outbound.lifetime; senders get
// RFC 3464 reports (failed, delayed, relayed) through the normal delivery path.
#pragma once
#include <memory>
#include <string>

#include "core/awaitable_fwd.hpp"
#include "core/config.hpp"
#include "core/result.hpp"
#include "smtp/dkim_vault.hpp"

namespace govmail::core {
class Resolver;
}
namespace govmail::store {
class Database;
}

namespace govmail::smtp {

class Backend;

class OutboundService {
 public:
  // Validates routes; nothing runs before start(). Sealed DKIM keys open with `dkim_master`
  // (from dkim::prepare_keys).
  static Result<std::shared_ptr<OutboundService>, std::string> create(
      Executor ex, const core::Config& cfg, std::shared_ptr<store::Database> db,
      std::shared_ptr<Backend> backend, std::shared_ptr<core::Resolver> resolver,
      dkim::MasterKey dkim_master);
  ~OutboundService();

  void start();
  // Stops claiming, hands back claimed recipients not yet tried, and waits (bounded) for the
  // transactions in progress to finish and be recorded.
  awaitable<void> stop();

  struct Impl;
  explicit OutboundService(std::shared_ptr<Impl> impl);

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace govmail::smtp
