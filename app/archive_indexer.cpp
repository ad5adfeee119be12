#include "archive_indexer.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <filesystem>

#include "admin/archive.hpp"
#include "core/asio.hpp"
#include "core/spawn.hpp"
#include "core/thread_priority.hpp"
#include "core/wait_while.hpp"
#include "core/worker_pool.hpp"
#include "search/archive_index.hpp"
#include "store/archive.hpp"

namespace govmail::app {

struct ArchiveIndexer::Impl {
  Impl(Executor e, const core::Config& c, std::shared_ptr<store::Database> d)
      : cfg(c), db(std::move(d)), timer(asio::make_strand(e)) {}
  const core::Config& cfg;
  std::shared_ptr<store::Database> db;
  asio::steady_timer timer;
  std::atomic<bool> stopped{false};
  std::atomic<bool> running{false};  // the loop has not ended yet (stop() waits for it)
  std::unique_ptr<search::ArchiveIndexWriter> writer;
  // One writer: one thread, at a lower CPU priority (deliveries first; the journal is the queue,
  // so a busy hour only delays the index). The MIME parsing and the Xapian writes run there,
  // never on an io thread; the round awaits each job.
  core::WorkerPool thread{1, 4};

  // True when there is more to do at once.
  awaitable<bool> round() {
    if (!writer) writer = search::ArchiveIndexWriter::open(admin::archive::index_path(cfg));
    if (!writer) co_return false;  // another govmail holds the index
    auto store = store::archive_of(*db);
    const std::size_t batch = cfg.archive.index_batch;
    const auto delay = cfg.archive.index_delay;
    const std::int64_t before_us =
        delay.count() == 0 ? 0
                           : std::chrono::duration_cast<std::chrono::microseconds>(
                                 (std::chrono::system_clock::now() - delay).time_since_epoch())
                                 .count();
    auto n = co_await admin::archive::index_round(*store, *writer, batch, &thread, before_us);
    if (!n && n.error() == store::StoreError::conflict) {
      // Left beside another database (replaced under this var_dir): made again from the journal.
      spdlog::warn("archive: the text index in {} is not of this database's journal: rebuilding",
                   admin::archive::index_path(cfg).string());
      std::function<void()> drop = [&] {
        writer.reset();
        std::error_code ec;
        std::filesystem::remove_all(admin::archive::index_path(cfg), ec);
      };
      co_await thread.run(std::move(drop));
      co_return true;
    }
    if (!n) {
      spdlog::warn("archive: text index round failed: {}", store::to_string(n.error()));
      co_return false;
    }
    if (*n > 0) spdlog::debug("archive: {} journal entries indexed", *n);
    co_return *n >= batch;
  }

  static awaitable<void> loop(std::shared_ptr<Impl> self) {
    std::function<void()> lower = [] { core::lower_this_thread_priority(); };
    co_await self->thread.run(std::move(lower));
    while (!self->stopped) {
      const bool more = co_await self->round();
      if (self->stopped) break;
      if (more) continue;
      self->timer.expires_after(self->cfg.archive.index_interval);
      boost::system::error_code ec;
      co_await self->timer.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    std::function<void()> close = [&] { self->writer.reset(); };
    co_await self->thread.run(std::move(close));
    self->running = false;
  }
};

ArchiveIndexer::ArchiveIndexer(Executor ex, const core::Config& cfg,
                               std::shared_ptr<store::Database> db)
    : impl_(std::make_shared<Impl>(std::move(ex), cfg, std::move(db))) {}

ArchiveIndexer::~ArchiveIndexer() {
  impl_->stopped = true;
}

void ArchiveIndexer::start() {
  impl_->running = true;
  asio::co_spawn(impl_->timer.get_executor(), Impl::loop(impl_),
                 core::LogExit("archive: text indexer"));
}

awaitable<void> ArchiveIndexer::stop() {
  if (impl_->stopped.exchange(true)) co_return;
  asio::post(impl_->timer.get_executor(), [impl = impl_] { impl->timer.cancel(); });
  co_await core::wait_while(impl_->running, std::chrono::seconds(10));  // a round in flight ends
}

}  // namespace govmail::app
