// The durable outbound queue (migration 0008): remote recipients claimed by queue workers of any
// govmail process, their attempt outcomes, the delivery reports owed to senders, and what the IT
// staff on call see and do (list, show, retry, delete). DKIM keys live here too: they are
// stored with the rest of the province's state.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "store/error.hpp"
#include "store/types.hpp"

namespace govmail::store {

enum class RecipientStatus : std::int16_t { queued = 0, deferred = 1, delivered = 2, bounced = 3 };
std::string_view to_string(RecipientStatus s);

// One remote recipient handed to a worker, with what it needs of its queue entry.
struct ClaimedRecipient {
  std::int64_t queue_id = 0;
  int ordinal = 0;
  std::string address;
  std::string dsn_notify;  // RFC 3461 NOTIFY= as submitted ("" = not given)
  std::string dsn_orcpt;   // RFC 3461 ORCPT= as submitted
  int attempts = 0;        // including this one
  bool warned = false;     // a delay report was already sent
  MessageId message_id = 0;
  std::string envelope_from;  // "" = null reverse-path (a report: never reported on)
  std::string dsn_envid;
  std::string dsn_ret;
  std::int64_t created_at = 0;  // unix time the message was queued
};

struct Claim {
  std::int64_t token = 0;
  std::vector<ClaimedRecipient> recipients;  // by queue id, then ordinal
};

struct AttemptOutcome {
  std::int64_t claim = 0;  // the claim holding the row; 0 = the token given to record()
  std::int64_t queue_id = 0;
  int ordinal = 0;
  RecipientStatus status = RecipientStatus::deferred;
  std::chrono::seconds retry_in{0};  // deferred only
  std::string reply;                 // the deciding reply, or the local reason
  std::string host;                  // remote host that answered ("" when none did)
  std::string report;                // report now owed: "failed", "delayed", "relayed" or ""
};

// A report owed to a sender, one row per recipient it covers.
struct ReportItem {
  std::int64_t queue_id = 0;
  int ordinal = 0;
  std::string address;
  std::string dsn_orcpt;
  std::string report;  // failed, delayed, relayed
  std::string reply;
  std::string host;
  int attempts = 0;
  MessageId message_id = 0;
  std::string envelope_from;
  std::string dsn_envid;
  std::string dsn_ret;
  std::int64_t created_at = 0;
};

struct QueueRecipientView {
  int ordinal = 0;
  std::string address;
  RecipientStatus status = RecipientStatus::queued;
  int attempts = 0;
  std::int64_t next_attempt = 0;  // unix time
  bool in_delivery = false;       // claimed by a worker right now
  std::string host;
  std::string reply;
  std::string report;
};

struct QueueEntryView {
  std::int64_t id = 0;
  std::string envelope_from;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> finished_at;
  std::uint64_t size = 0;
  std::string subject;
  std::vector<QueueRecipientView> recipients;
};

struct QueueStats {
  std::int64_t pending_recipients = 0;  // queued or deferred
  std::int64_t pending_messages = 0;
  std::int64_t oldest_age_seconds = 0;  // of the oldest pending recipient's message (0: none)
  std::int64_t reports_owed = 0;
};

struct DkimKey {
  std::int64_t id = 0;
  std::string domain;
  std::string selector;
  std::string algorithm;  // "rsa-sha256" / "ed25519-sha256"
  // Sealed under the master key (core::SecretBox, see smtp/dkim_vault.hpp); a key stored before
  // sealing existed holds its PEM here until `govmail serve` seals it.
  std::string private_pem;
  std::string public_b64;
  bool active = true;
  std::int64_t created_at = 0;
};

class OutboundQueue {
 public:
  virtual ~OutboundQueue() = default;

  // Takes up to `limit` due recipients for `lease` (then they are due again unless recorded).
  virtual awaitable<Result<Claim>> claim(int limit, std::chrono::seconds lease) = 0;
  // Records outcomes (each of its own claim, or of `token`) in one statement; rows no longer
  // held by their claim are skipped.
  virtual awaitable<Result<int>> record(std::int64_t token,
                                        std::vector<AttemptOutcome> outcomes) = 0;
  // Extends the lease of a claim's recipients before they are sent; answers those still held
  // (a recipient whose lease ran out may have been claimed by another worker: not sent here).
  virtual awaitable<Result<std::vector<std::pair<std::int64_t, int>>>> renew(
      std::int64_t token, std::vector<std::pair<std::int64_t, int>> recipients,
      std::chrono::seconds lease) = 0;
  // Hands recipients of a claim back untried: due at once, the attempt not counted.
  virtual awaitable<Result<void>> release(std::int64_t token,
                                          std::vector<std::pair<std::int64_t, int>> recipients) = 0;
  // The stored bytes of a queued message.
  virtual awaitable<Result<std::shared_ptr<const std::string>>> message(MessageId id) = 0;
  // The bytes of many small queued messages in one query: one entry per id, null for a message
  // that is gone or larger than `max_bytes` (fetch those one by one).
  virtual awaitable<Result<std::vector<std::shared_ptr<const std::string>>>> small_messages(
      std::vector<MessageId> ids, std::uint64_t max_bytes) = 0;

  // Takes up to `limit` owed report rows under row locks, calls `send` with them and clears them
  // when it succeeds, all in one transaction (another process skips locked rows).
  using ReportSender = std::function<awaitable<Result<void>>(std::vector<ReportItem>)>;
  virtual awaitable<Result<int>> take_reports(int limit, ReportSender send) = 0;
  // Deletes finished entries older than `age` (no report owed); returns how many.
  virtual awaitable<Result<int>> prune(std::chrono::seconds age, int limit) = 0;

  // Operator views and actions.
  virtual awaitable<Result<std::vector<QueueEntryView>>> list(bool include_finished, int limit) = 0;
  virtual awaitable<Result<QueueEntryView>> show(std::int64_t id) = 0;  // not_found
  virtual awaitable<Result<int>> retry(std::int64_t id) = 0;    // pending recipients made due now
  virtual awaitable<Result<void>> remove(std::int64_t id) = 0;  // not_found
  virtual awaitable<Result<QueueStats>> stats() = 0;

  // DKIM keys.
  virtual awaitable<Result<DkimKey>> add_dkim_key(DkimKey key) = 0;  // becomes the active one
  virtual awaitable<Result<std::vector<DkimKey>>> dkim_keys(std::string domain) = 0;  // "" = all
  // Replaces a key's stored private key if it still is `expected` (false: it changed meanwhile).
  virtual awaitable<Result<bool>> replace_dkim_private_key(std::int64_t id, std::string expected,
                                                           std::string replacement) = 0;
};

}  // namespace govmail::store
