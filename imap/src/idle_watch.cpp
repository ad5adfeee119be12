#include "idle_watch.hpp"

#include <spdlog/spdlog.h>

#include "core/spawn.hpp"

namespace govmail::imap {

// Resets `running` and wakes stop() on every way out of the writer, exceptions included: a
// flag left set would make stop() wait for ever.
struct IdleWatch::Running {
  explicit Running(IdleWatch& w) : watch(w) {}
  ~Running() {
    watch.running_ = false;
    if (watch.finished_) watch.finished_->cancel();
  }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;
  IdleWatch& watch;
};

IdleWatch::IdleWatch(Executor ex, Updates updates, Write write, std::function<void()> fail)
    : ex_(std::move(ex)),
      updates_(std::move(updates)),
      write_(std::move(write)),
      fail_(std::move(fail)) {}

awaitable<void> IdleWatch::write_updates(std::shared_ptr<IdleWatch> self) {
  Running running(*self);
  try {
    while (self->pending_ && !self->stop_) {
      self->pending_ = false;
      auto bytes = co_await self->updates_();
      // A failed write: the pending read fails too, and the reader ends the session.
      if (!bytes.empty() && !co_await self->write_(std::move(bytes))) self->stop_ = true;
    }
  } catch (...) {
    // Inside the coroutine, not in the completion handler: that may run after the session's
    // frame (which `fail_` refers to) is gone.
    spdlog::error("imap IDLE updates failed, ending the session: {}",
                  core::describe(std::current_exception()));
    self->failed_ = self->stop_ = true;
    if (self->fail_) self->fail_();
  }
}

void IdleWatch::changed() {
  if (stop_) return;
  pending_ = true;
  if (running_) return;  // the writer loops on `pending_`
  running_ = true;
  // Nothing escapes the writer's catch; the handler is there should that ever change.
  asio::co_spawn(ex_, write_updates(shared_from_this()), core::LogExit("imap IDLE writer"));
}

awaitable<void> IdleWatch::stop() {
  stop_ = true;
  if (!running_) co_return;
  asio::steady_timer finished(ex_);
  finished_ = &finished;
  while (running_) {
    finished.expires_after(std::chrono::hours(1));
    boost::system::error_code ec;
    co_await finished.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  finished_ = nullptr;
}

}  // namespace govmail::imap
