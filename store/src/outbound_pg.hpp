// OutboundQueue on PostgreSQL (migration 0008).
#pragma once
#include <memory>

#include "pg/pg.hpp"
#include "store/outbound.hpp"

namespace govmail::store {

class PgOutboundQueue final : public OutboundQueue {
 public:
  explicit PgOutboundQueue(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

  awaitable<Result<Claim>> claim(int limit, std::chrono::seconds lease) override;
  awaitable<Result<int>> record(std::int64_t token, std::vector<AttemptOutcome> outcomes) override;
  awaitable<Result<std::vector<std::pair<std::int64_t, int>>>> renew(
      std::int64_t token, std::vector<std::pair<std::int64_t, int>> recipients,
      std::chrono::seconds lease) override;
  awaitable<Result<void>> release(std::int64_t token,
                                  std::vector<std::pair<std::int64_t, int>> recipients) override;
  awaitable<Result<std::shared_ptr<const std::string>>> message(MessageId id) override;
  awaitable<Result<std::vector<std::shared_ptr<const std::string>>>> small_messages(
      std::vector<MessageId> ids, std::uint64_t max_bytes) override;
  awaitable<Result<int>> take_reports(int limit, ReportSender send) override;
  awaitable<Result<int>> prune(std::chrono::seconds age, int limit) override;
  awaitable<Result<std::vector<QueueEntryView>>> list(bool include_finished, int limit) override;
  awaitable<Result<QueueEntryView>> show(std::int64_t id) override;
  awaitable<Result<int>> retry(std::int64_t id) override;
  awaitable<Result<void>> remove(std::int64_t id) override;
  awaitable<Result<QueueStats>> stats() override;
  awaitable<Result<DkimKey>> add_dkim_key(DkimKey key) override;
  awaitable<Result<std::vector<DkimKey>>> dkim_keys(std::string domain) override;
  awaitable<Result<bool>> replace_dkim_private_key(std::int64_t id, std::string expected,
                                                   std::string replacement) override;

 private:
  awaitable<Result<void>> attach_recipients(std::vector<QueueEntryView>& entries);
  std::shared_ptr<pg::Pool> pool_;
};

}  // namespace govmail::store
