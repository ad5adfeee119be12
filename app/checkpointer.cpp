#include "checkpointer.hpp"

#include <spdlog/spdlog.h>

#include <atomic>

#include "admin/archive.hpp"
#include "core/asio.hpp"
#include "core/lease_holder.hpp"
#include "core/spawn.hpp"
#include "core/wait_while.hpp"
#include "store/archive.hpp"

namespace govmail::app {

struct Checkpointer::Impl {
  Impl(Executor e, const core::Config& c, std::shared_ptr<store::Database> d)
      : cfg(c), db(std::move(d)), timer(asio::make_strand(e)) {}
  const core::Config& cfg;
  std::shared_ptr<store::Database> db;
  asio::steady_timer timer;
  asio::steady_timer link_timer{timer.get_executor()};
  std::atomic<bool> stopped{false};
  std::atomic<bool> running{false};  // the loop has not ended yet (stop() waits for it)
  std::atomic<bool> linking{false};  // the same for the linker's loop
  std::string holder = core::lease_holder_name();
  std::atomic<bool> leader{false};

  // One round: the lease (held for two intervals, renewed every one), then the signatures.
  awaitable<void> round() {
    auto store = store::archive_of(*db);
    const auto ttl = 2 * cfg.archive.checkpoint_interval.count() + 30;
    auto lease = co_await store->hold_checkpoint_lease(holder, ttl);
    if (!lease || !*lease) {
      if (leader) spdlog::info("archive: checkpointer lease lost");
      leader = false;
      co_return;
    }
    if (!leader) spdlog::info("archive: this process signs the checkpoints ({})", holder);
    leader = true;
    std::string error;
    auto key = admin::archive::load_or_create_key(admin::archive::key_path(cfg), error);
    if (!key) {
      spdlog::error("archive: no checkpoint: {}", error);
      co_return;
    }
    auto n = co_await admin::archive::checkpoint(*store, *key);
    if (!n && n.error() == store::StoreError::conflict)
      spdlog::error("archive: {} is not the checkpoint key pinned in the database: not signing",
                    admin::archive::key_path(cfg).string());
    else if (!n)
      spdlog::warn("archive: checkpoint failed: {}", store::to_string(n.error()));
    else if (*n > 0)
      spdlog::info("archive: {} checkpoint(s) signed", *n);
  }

  static awaitable<void> loop(std::shared_ptr<Impl> self) {
    while (!self->stopped) {
      co_await self->round();
      if (self->stopped) break;
      self->timer.expires_after(self->cfg.archive.checkpoint_interval);
      boost::system::error_code ec;
      co_await self->timer.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    self->running = false;
  }

  static awaitable<void> link_loop(std::shared_ptr<Impl> self) {
    bool failing = false;
    while (!self->stopped) {
      auto store = store::archive_of(*self->db);
      auto n = co_await store->link_journal(50'000);
      if (!n && !failing)
        spdlog::warn("archive: linking the journal failed: {}", store::to_string(n.error()));
      failing = !n;
      if (self->stopped) break;
      if (n && *n >= 50'000) continue;
      self->link_timer.expires_after(self->cfg.archive.link_interval);
      boost::system::error_code ec;
      co_await self->link_timer.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    self->linking = false;
  }
};

Checkpointer::Checkpointer(Executor ex, const core::Config& cfg,
                           std::shared_ptr<store::Database> db)
    : impl_(std::make_shared<Impl>(std::move(ex), cfg, std::move(db))) {}

Checkpointer::~Checkpointer() {
  impl_->stopped = true;
}

void Checkpointer::start() {
  impl_->running = true;
  impl_->linking = true;
  asio::co_spawn(impl_->timer.get_executor(), Impl::loop(impl_),
                 core::LogExit("archive: checkpointer"));
  asio::co_spawn(impl_->timer.get_executor(), Impl::link_loop(impl_),
                 core::LogExit("archive: journal linker"));
}

awaitable<void> Checkpointer::stop() {
  if (impl_->stopped.exchange(true)) co_return;
  asio::post(impl_->timer.get_executor(), [impl = impl_] {
    impl->timer.cancel();
    impl->link_timer.cancel();
  });
  if (impl_->leader) {
    auto store = store::archive_of(*impl_->db);
    co_await store->drop_checkpoint_lease(impl_->holder);
  }
  co_await core::wait_while(impl_->running, std::chrono::seconds(10));  // a round in flight ends
  co_await core::wait_while(impl_->linking, std::chrono::seconds(10));
}

}  // namespace govmail::app
