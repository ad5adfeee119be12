#include "core/worker_pool.hpp"

#include <atomic>
#include <thread>

#include "core/asio.hpp"

namespace govmail::core {

struct WorkerPool::Impl {
  unsigned threads;
  std::size_t limit;  // queued + running
  std::atomic<std::size_t> in_flight{0};
  asio::thread_pool pool;

  Impl(unsigned n, std::size_t queue_max) : threads(n), limit(queue_max + n), pool(n) {}

  bool try_acquire() {
    std::size_t current = in_flight.load();
    do {
      if (current >= limit) return false;
    } while (!in_flight.compare_exchange_weak(current, current + 1));
    return true;
  }
};

WorkerPool::WorkerPool(unsigned threads, std::size_t queue_max) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  impl_ = std::make_shared<Impl>(threads, queue_max);
}

WorkerPool::~WorkerPool() {
  impl_->pool.join();
}

unsigned WorkerPool::threads() const {
  return impl_->threads;
}
std::size_t WorkerPool::in_flight() const {
  return impl_->in_flight.load();
}

awaitable<bool> WorkerPool::run(std::function<void()> job) {
  if (!impl_->try_acquire()) co_return false;
  // The completion handler of use_awaitable resumes the coroutine wherever it is invoked, so
  // the worker posts it back to the coroutine's own executor.
  // GCC 12 trap: a lambda temporary with a non-trivial capture (a shared_ptr copy) inside a
  // co_await expression is destroyed twice; capture only trivially destructible things. A raw
  // pointer is safe: ~WorkerPool joins the threads, so Impl outlives every job.
  Impl* impl = impl_.get();
  co_await asio::async_initiate<decltype(use_awaitable), void(std::exception_ptr)>(
      [impl, &job](auto handler) {
        asio::post(impl->pool, [impl, &job, handler = std::move(handler)]() mutable {
          std::exception_ptr error;
          try {
            job();
          } catch (...) {
            error = std::current_exception();
          }
          impl->in_flight.fetch_sub(1);
          auto ex = asio::get_associated_executor(handler);
          asio::post(
              ex, [handler = std::move(handler), error]() mutable { std::move(handler)(error); });
        });
      },
      use_awaitable);
  co_return true;
}

}  // namespace govmail::core
