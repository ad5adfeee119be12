// MtaStsCache on PostgreSQL (migration 0012).
#pragma once
#include <memory>

#include "pg/pg.hpp"
#include "store/mta_sts.hpp"

namespace govmail::store {

class PgMtaStsCache final : public MtaStsCache {
 public:
  explicit PgMtaStsCache(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

  awaitable<Result<MtaStsEntry>> get(std::string domain) override;
  awaitable<Result<void>> put(MtaStsEntry entry) override;
  awaitable<Result<int>> prune(std::int64_t grace_seconds) override;

 private:
  std::shared_ptr<pg::Pool> pool_;
};

}  // namespace govmail::store
