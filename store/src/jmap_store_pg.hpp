// JmapStore on PostgreSQL (migration 0015).
#pragma once
#include <memory>

#include "pg/pg.hpp"
#include "store/jmap_store.hpp"

namespace govmail::store {

class PgJmapStore final : public JmapStore {
 public:
  explicit PgJmapStore(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

  awaitable<Result<void>> create_session(AccountId account, std::string token_sha256,
                                         std::string csrf_sha256,
                                         std::int64_t lifetime_seconds) override;
  awaitable<Result<WebSession>> find_session(std::string token_sha256,
                                             std::int64_t idle_seconds) override;
  awaitable<Result<void>> delete_session(std::string token_sha256) override;
  awaitable<Result<void>> put_upload(AccountId account, std::string sha256, std::string type,
                                     std::string data, std::int64_t ttl_seconds) override;
  awaitable<Result<StoredBlob>> read_blob(AccountId account, std::string sha256) override;
  awaitable<Result<std::int64_t>> sweep() override;
  awaitable<Result<ModSeq>> account_modseq(AccountId account) override;

 private:
  std::shared_ptr<pg::Pool> pool_;
};

}  // namespace govmail::store
