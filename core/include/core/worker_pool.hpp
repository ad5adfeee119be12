// A fixed set of threads for blocking CPU work (argon2id, ...) that must never run on an io
// thread, with a bounded backlog: when it is full, run() refuses at once instead of queuing
// without limit, and the caller answers "try later".
#pragma once
#include <cstddef>
#include <functional>
#include <memory>

#include "core/awaitable_fwd.hpp"

namespace govmail::core {

class WorkerPool {
 public:
  // threads 0 = one per core. At most `queue_max` jobs wait for a free thread.
  WorkerPool(unsigned threads, std::size_t queue_max);
  ~WorkerPool();  // waits for running jobs
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `job` on a worker thread; the calling coroutine resumes on its own executor afterwards
  // (never on the worker). Returns false without running it when the backlog is full. An
  // exception thrown by `job` is rethrown in the caller. `job` may capture the caller's locals
  // by reference: the caller stays suspended until it has finished.
  awaitable<bool> run(std::function<void()> job);

  unsigned threads() const;
  std::size_t in_flight() const;  // queued + running

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace govmail::core
