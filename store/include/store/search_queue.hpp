// What the search indexer and the searchers need from the store (migration 0014, docs/SEARCH.md):
// the durable index queue written at delivery, the removals written when entries are deleted,
// the indexer's lease, and the texts of messages not yet indexed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "store/error.hpp"
#include "store/types.hpp"

namespace govmail::store {

// A message's entry in a mailbox.
struct MessageUid {
  MessageId message = 0;
  Uid uid = 0;
};

struct IndexJob {
  std::int64_t queue_id = 0;
  MessageId message = 0;
  std::vector<AccountId> accounts;  // those of the row that still hold the message
  std::string search_text;          // parse_message's, empty with reparse
  bool reparse = false;             // parse the raw message again (reindex)
  std::int64_t internal_date = 0;   // unix seconds
  std::int64_t size = 0;
  std::string envelope_json;
  std::string header_block;  // raw header through the blank line (the whole raw with reparse)
};

struct IndexRemoval {
  std::int64_t id = 0;
  AccountId account = 0;
  MessageId message = 0;
  bool still_held = false;  // the account holds the message in another mailbox
};

struct IndexQueueStats {
  std::int64_t queued = 0;
  std::int64_t oldest_age_seconds = 0;  // 0 when empty
  std::int64_t removals = 0;
  std::string lease_holder;  // empty when no indexer holds the lease
};

struct PendingText {
  MessageId message = 0;
  std::string search_text;
  bool reparse = false;
};

class SearchQueue {
 public:
  virtual ~SearchQueue() = default;

  // --- the indexer
  // Takes or renews the indexer lease for `ttl_seconds`; false when another holder has it.
  virtual awaitable<Result<bool>> hold_lease(std::string holder, std::int64_t ttl_seconds) = 0;
  virtual awaitable<Result<void>> drop_lease(std::string holder) = 0;
  // The oldest queued rows after the row `after_id` (0: from the first; read only: finish_jobs
  // deletes them once indexed).
  virtual awaitable<Result<std::vector<IndexJob>>> next_jobs(std::size_t max,
                                                             std::int64_t after_id) = 0;
  virtual awaitable<Result<void>> finish_jobs(std::vector<std::int64_t> queue_ids) = 0;
  virtual awaitable<Result<std::vector<IndexRemoval>>> next_removals(std::size_t max) = 0;
  virtual awaitable<Result<void>> finish_removals(std::vector<std::int64_t> ids) = 0;
  virtual awaitable<Result<IndexQueueStats>> stats() = 0;
  // The id of the index directory the consumed rows went into ("" before any).
  virtual awaitable<Result<std::string>> index_id() = 0;
  virtual awaitable<Result<void>> set_index_id(std::string id) = 0;

  // --- reindex and shard rebuilds: queues every message of the accounts for a new parse.
  // accounts empty: every account. How many rows were queued.
  virtual awaitable<Result<std::int64_t>> requeue(std::vector<AccountId> accounts) = 0;
  // Rows still queued for the account (0: all).
  virtual awaitable<Result<std::int64_t>> queued_for(AccountId account) = 0;
  // Every account id that holds mail (for a rebuild of a shard).
  virtual awaitable<Result<std::vector<AccountId>>> accounts_with_mail() = 0;

  // --- searching
  // The account's messages still queued (not yet searchable through the index), at most max + 1
  // (more than max: the caller does without the index).
  virtual awaitable<Result<std::vector<MessageId>>> pending(AccountId account, std::size_t max) = 0;
  virtual awaitable<Result<std::vector<PendingText>>> pending_texts(
      AccountId account, std::vector<MessageId> messages) = 0;
  // These messages' entries in the account's mailbox, by UID ascending. `messages` ascending;
  // scan_mailbox: they are a good part of the mailbox, read it whole and keep them.
  virtual awaitable<Result<std::vector<MessageUid>>> uids_of(AccountId account, MailboxId mailbox,
                                                             std::vector<MessageId> messages,
                                                             bool scan_mailbox = false) = 0;
};

}  // namespace govmail::store
