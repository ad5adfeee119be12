// One job on the wire: the recipients of one queued message at one destination domain, sent in
// one SMTP transaction over a connection that may already be open (reuse) or is opened to the
// destination's hops in order. Returns one AttemptResult per recipient.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "destination.hpp"
#include "policy.hpp"
#include "smtp/client.hpp"
#include "store/outbound.hpp"

namespace govmail::smtp::outbound {

struct Link {
  std::unique_ptr<client::Connection> connection;
  std::string host;  // of the open connection
};

struct TransferSettings {
  client::Options options;  // helo name, timeouts, TLS contexts (TLS mode set per destination)
  std::size_t max_messages_per_connection = 100;
  // Counters for the log line at shutdown (and bench/outbound).
  std::shared_ptr<std::atomic<std::uint64_t>> connections =
      std::make_shared<std::atomic<std::uint64_t>>(0);
  std::shared_ptr<std::atomic<std::uint64_t>> transactions =
      std::make_shared<std::atomic<std::uint64_t>>(0);
};

awaitable<std::vector<AttemptResult>> transfer(Executor ex, const TransferSettings& settings,
                                               const Destination& destination, Link& link,
                                               const std::vector<store::ClaimedRecipient>& rcpts,
                                               std::string_view message);

}  // namespace govmail::smtp::outbound
