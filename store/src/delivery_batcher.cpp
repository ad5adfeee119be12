#include "delivery_batcher.hpp"

#include <algorithm>
#include <functional>
#include <optional>

#include <spdlog/spdlog.h>

#include "core/asio.hpp"

namespace govmail::store {

// One caller of run(): what it asked for, and how it is woken with its answer (or with the
// batch it is to run next). Wakes come from other io threads.
struct DeliveryBatcher::Waiter {
  Waiter(const pg::Statement* st, const detail::Params* p) : statement(st), params(p) {}
  const pg::Statement* statement;
  const detail::Params* params;
  std::optional<Result<pg::Rows>> result;  // set by whoever ran its batch, before wake()
  Batch lead;                              // non-empty: this waiter runs this batch next

  awaitable<void> sleep();
  void wake();

 private:
  std::mutex mutex_;
  bool woken_ = false;
  std::function<void()> resume_;  // posts the sleeping coroutine back to its executor
};

awaitable<void> DeliveryBatcher::Waiter::sleep() {
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [self = this](auto handler) {
        // The initiation object lives in the coroutine frame, which another thread frees as soon
        // as wake() resumes it: only locals from here on (docs/NOTES.md, Asio 1.74).
        Waiter* w = self;
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        std::function<void()> resume = [h] {
          auto ex = asio::get_associated_executor(*h);
          asio::post(ex, std::move(*h));
        };
        std::unique_lock lock(w->mutex_);
        if (!w->woken_) {
          w->resume_ = std::move(resume);
          return;
        }
        lock.unlock();
        resume();
      },
      asio::use_awaitable);
}

void DeliveryBatcher::Waiter::wake() {
  std::function<void()> resume;
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
    resume = std::move(resume_);
  }
  if (resume) resume();
}

DeliveryBatcher::DeliveryBatcher(std::shared_ptr<pg::Pool> pool, std::size_t max_batch)
    : pool_(std::move(pool)), max_batch_(std::max<std::size_t>(max_batch, 1)) {}

awaitable<Result<pg::Rows>> DeliveryBatcher::run(std::string targets,
                                                 const pg::Statement& statement,
                                                 const detail::Params& params) {
  if (max_batch_ == 1) co_return co_await detail::run(*pool_, statement, params, "deliver");
  auto me = std::make_shared<Waiter>(&statement, &params);
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = running_.try_emplace(targets);
    if (inserted)
      first = true;
    else
      it->second.waiting.push_back(me);
  }
  Batch batch;
  if (first) {
    batch.push_back(me);
  } else {
    co_await me->sleep();
    if (me->lead.empty()) co_return std::move(*me->result);
    batch = std::move(me->lead);
  }
  co_await run_batch(batch);
  hand_over(targets);
  co_return std::move(*me->result);
}

awaitable<void> DeliveryBatcher::run_batch(const Batch& batch) {
  try {
    if (batch.size() > 1) {
      std::vector<pg::Rows> rows;
      pg::TxBody<void> body = [&](pg::Connection& c) -> awaitable<pg::PgResultOr<void>> {
        rows.clear();  // a retried transaction starts over
        for (const auto& w : batch) {
          auto r = co_await c.exec(*w->statement, w->params->span());
          if (!r) co_return unexpected(r.error());
          rows.push_back(std::move(*r));
        }
        co_return pg::PgResultOr<void>{};
      };
      // A failure (one recipient over quota, a mailbox deleted meanwhile) rolls back the
      // whole batch: each is then run alone below and gets its own answer.
      auto done = co_await pg::transaction(*pool_, std::move(body));
      if (done)
        for (std::size_t i = 0; i < batch.size(); ++i) batch[i]->result = std::move(rows[i]);
    }
    for (const auto& w : batch)
      if (!w->result)
        w->result = co_await detail::run(*pool_, *w->statement, *w->params, "deliver");
  } catch (const std::exception& e) {
    spdlog::error("delivery batch of {}: {}", batch.size(), e.what());
    for (const auto& w : batch)
      if (!w->result) w->result = Result<pg::Rows>(unexpected(StoreError::temporary));
  }
  for (std::size_t i = 1; i < batch.size(); ++i) batch[i]->wake();
}

void DeliveryBatcher::hand_over(const std::string& targets) {
  std::shared_ptr<Waiter> next;
  {
    std::lock_guard lock(mutex_);
    auto it = running_.find(targets);
    auto& waiting = it->second.waiting;
    if (waiting.empty()) {
      running_.erase(it);
      return;
    }
    const auto n = static_cast<std::ptrdiff_t>(std::min(waiting.size(), max_batch_));
    Batch b(waiting.begin(), waiting.begin() + n);
    waiting.erase(waiting.begin(), waiting.begin() + n);
    next = b.front();
    next->lead = std::move(b);
  }
  next->wake();
}

}  // namespace govmail::store
