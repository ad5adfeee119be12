// Frees messages and blobs that expunges (and mailbox deletions) left without
// references, in the background: govmail_remove_entries only queues them
// (message_release_queue), so that an EXPUNGE pays for its entries and the
// quota, not for the storage. Runs in bounded batches (govmail_sweep_messages),
// each one transaction that takes its queue rows and frees what is really
// unreferenced: a crash loses nothing, and a message referenced again is kept.
#pragma once
#include <chrono>
#include <memory>

#include "core/awaitable_fwd.hpp"
#include "pg/pg.hpp"
#include "store/error.hpp"

namespace govmail::store {

struct SweepOptions {
  std::chrono::milliseconds interval{1000};  // between rounds
  int batch = 500;                           // queue rows per transaction
  int max_batches = 20;                      // per round: bounded work, then sleep
  // Change-log rows older than this go (govmail_prune_change_log), checked once a minute;
  // 0 = never.
  std::chrono::seconds change_log_keep{0};
  std::chrono::seconds prune_interval{60};
  int prune_batch = 10000;  // rows per transaction, up to max_batches per check
};

class ReleaseSweeper {
 public:
  ReleaseSweeper(Executor ex, std::shared_ptr<pg::Pool> pool, SweepOptions opts = {});
  ~ReleaseSweeper();
  void start();
  void stop();

  // One batch: queue rows taken (0 when the queue is empty).
  static awaitable<Result<int>> sweep_once(pg::Pool& pool, int batch);
  // One prune of the change log: rows deleted.
  static awaitable<Result<std::int64_t>> prune_change_log_once(pg::Pool& pool,
                                                               std::chrono::seconds keep,
                                                               int batch);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace govmail::store
