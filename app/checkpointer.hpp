// `govmail serve` signs the archive's chain heads at start and every
// archive.checkpoint_interval ( docs/ARCHIVE.md): of the processes sharing a database, the one
// holding the checkpointer lease (migration 0018) does it; another takes over when that one stops
// renewing (two intervals) or stops cleanly (the lease is dropped). Every process also links the
// journal entries committed since into their chain every archive.link_interval (migration 0030;
// concurrent linkers queue on the chain's head).
#pragma once
#include <memory>

#include "core/awaitable_fwd.hpp"
#include "core/config.hpp"
#include "store/database.hpp"

namespace govmail::app {

class Checkpointer {
 public:
  Checkpointer(Executor ex, const core::Config& cfg, std::shared_ptr<store::Database> db);
  ~Checkpointer();
  void start();
  awaitable<void> stop();  // drops the lease so that another process takes over at once

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace govmail::app
