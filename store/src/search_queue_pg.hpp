// SearchQueue on PostgreSQL (migration 0014).
#pragma once
#include <memory>

#include "pg/pg.hpp"
#include "store/search_queue.hpp"

namespace govmail::store {

class PgSearchQueue final : public SearchQueue {
 public:
  explicit PgSearchQueue(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

  awaitable<Result<bool>> hold_lease(std::string holder, std::int64_t ttl_seconds) override;
  awaitable<Result<void>> drop_lease(std::string holder) override;
  awaitable<Result<std::vector<IndexJob>>> next_jobs(std::size_t max,
                                                     std::int64_t after_id) override;
  awaitable<Result<void>> finish_jobs(std::vector<std::int64_t> queue_ids) override;
  awaitable<Result<std::vector<IndexRemoval>>> next_removals(std::size_t max) override;
  awaitable<Result<void>> finish_removals(std::vector<std::int64_t> ids) override;
  awaitable<Result<IndexQueueStats>> stats() override;
  awaitable<Result<std::string>> index_id() override;
  awaitable<Result<void>> set_index_id(std::string id) override;
  awaitable<Result<std::int64_t>> requeue(std::vector<AccountId> accounts) override;
  awaitable<Result<std::int64_t>> queued_for(AccountId account) override;
  awaitable<Result<std::vector<AccountId>>> accounts_with_mail() override;
  awaitable<Result<std::vector<MessageId>>> pending(AccountId account, std::size_t max) override;
  awaitable<Result<std::vector<PendingText>>> pending_texts(
      AccountId account, std::vector<MessageId> messages) override;
  awaitable<Result<std::vector<MessageUid>>> uids_of(AccountId account, MailboxId mailbox,
                                                     std::vector<MessageId> messages,
                                                     bool scan_mailbox) override;

 private:
  std::shared_ptr<pg::Pool> pool_;
};

}  // namespace govmail::store
