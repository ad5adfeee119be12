// Group commit for deliveries to the same mailboxes (private to store/src).
//
// Every delivery takes its mailboxes' and accounts' row locks (UIDs are handed out under them,
// so commit order is UID order) and holds them until its COMMIT has reached the disk. Twenty
// sessions delivering to one busy mailbox (an agency's văn thư) therefore commit one after
// another, each paying a WAL flush. The batcher lets them wait for each other instead: while a
// delivery to some targets is running, later deliveries to exactly the same targets queue, and
// the next of them runs all that queued (up to a maximum) in one transaction with one COMMIT.
// Deliveries to other targets are not delayed at all, and a delivery that finds no batch
// running starts at once. Same targets means the same locks taken in the same order, so a
// batch cannot deadlock where one delivery alone would not.
#pragma once
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pg/pg.hpp"
#include "query.hpp"

namespace govmail::store {

class DeliveryBatcher {
 public:
  // max_batch 1: every delivery runs alone (no batching).
  DeliveryBatcher(std::shared_ptr<pg::Pool> pool, std::size_t max_batch);

  // Runs `statement` with `params` (kept alive by the caller until this returns), alone or in
  // one transaction with other calls of the same `targets`; each caller gets its own rows or
  // error, exactly as if it had run alone (a batch that fails is re-run one by one).
  awaitable<Result<pg::Rows>> run(std::string targets, const pg::Statement& statement,
                                  const detail::Params& params);

  struct Waiter;

 private:
  using Batch = std::vector<std::shared_ptr<Waiter>>;
  awaitable<void> run_batch(const Batch& batch);
  // After a batch: hands the next queued batch for `targets` to its first waiter, or marks the
  // targets idle.
  void hand_over(const std::string& targets);

  std::shared_ptr<pg::Pool> pool_;
  std::size_t max_batch_;
  std::mutex mutex_;
  struct Queue {
    Batch waiting;
  };
  std::map<std::string, Queue> running_;  // targets with a batch in flight -> who waits
};

}  // namespace govmail::store
