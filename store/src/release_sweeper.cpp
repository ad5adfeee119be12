#include "release_sweeper.hpp"

#include <spdlog/spdlog.h>

#include <atomic>

#include "core/asio.hpp"
#include "core/spawn.hpp"
#include "query.hpp"

namespace govmail::store {
namespace {

constexpr pg::Statement kSweep{"sweep_messages", "SELECT govmail_sweep_messages($1::int)"};
constexpr pg::Statement kPruneChangeLog{
    "prune_change_log", "SELECT govmail_prune_change_log(make_interval(secs => $1), $2::int)"};

}  // namespace

struct ReleaseSweeper::Impl {
  // A strand: the timer is touched by the loop and by stop(), from any io
  // thread.
  Impl(Executor e, std::shared_ptr<pg::Pool> p, SweepOptions o)
      : pool(std::move(p)), opts(o), timer(asio::make_strand(e)) {}
  std::shared_ptr<pg::Pool> pool;
  SweepOptions opts;
  asio::steady_timer timer;
  std::atomic<bool> stopped{false};
  std::chrono::steady_clock::time_point next_prune{};

  // Up to max_batches prunes, once per prune_interval.
  awaitable<void> prune_due() {
    if (opts.change_log_keep.count() <= 0 || std::chrono::steady_clock::now() < next_prune)
      co_return;
    next_prune = std::chrono::steady_clock::now() + opts.prune_interval;
    for (int i = 0; i < opts.max_batches && !stopped; ++i) {
      auto n = co_await prune_change_log_once(*pool, opts.change_log_keep, opts.prune_batch);
      if (!n) {
        spdlog::warn("store: change log prune failed: {}", to_string(n.error()));
        co_return;
      }
      if (*n < opts.prune_batch) co_return;
    }
  }

  // Sweeps until the queue is empty or max_batches were done, then sleeps one
  // interval.
  static awaitable<void> loop(std::shared_ptr<Impl> self) {
    while (!self->stopped) {
      for (int i = 0; i < self->opts.max_batches && !self->stopped; ++i) {
        auto n = co_await sweep_once(*self->pool, self->opts.batch);
        if (!n) {
          spdlog::warn("store: release sweep failed: {}", to_string(n.error()));
          break;
        }
        if (*n < self->opts.batch) break;
      }
      co_await self->prune_due();
      if (self->stopped) break;
      self->timer.expires_after(self->opts.interval);
      boost::system::error_code ec;
      co_await self->timer.async_wait(asio::redirect_error(use_awaitable, ec));
    }
  }
};

ReleaseSweeper::ReleaseSweeper(Executor ex, std::shared_ptr<pg::Pool> pool, SweepOptions opts)
    : impl_(std::make_shared<Impl>(std::move(ex), std::move(pool), opts)) {}

ReleaseSweeper::~ReleaseSweeper() {
  stop();
}

void ReleaseSweeper::start() {
  // The loop catches nothing: an exception ends it (logged); blobs then wait for the next start.
  asio::co_spawn(impl_->timer.get_executor(), Impl::loop(impl_),
                 core::LogExit("store: release sweeper"));
}

void ReleaseSweeper::stop() {
  if (impl_->stopped.exchange(true)) return;
  asio::post(impl_->timer.get_executor(), [impl = impl_] { impl->timer.cancel(); });
}

awaitable<Result<int>> ReleaseSweeper::sweep_once(pg::Pool& pool, int batch) {
  detail::Params p;
  p.num(batch);
  auto rows = co_await detail::run(pool, kSweep, p, "release sweep");
  if (!rows) co_return unexpected(rows.error());
  co_return static_cast<int>(rows->get_int(0, 0));
}

awaitable<Result<std::int64_t>> ReleaseSweeper::prune_change_log_once(pg::Pool& pool,
                                                                      std::chrono::seconds keep,
                                                                      int batch) {
  detail::Params p;
  p.num(keep.count()).num(batch);
  auto rows = co_await detail::run(pool, kPruneChangeLog, p, "change log prune");
  if (!rows) co_return unexpected(rows.error());
  co_return rows->get_int(0, 0);
}

}  // namespace govmail::store
