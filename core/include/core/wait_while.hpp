// How a background loop's stop() lets the round in flight finish: the loop's frame (and the
// timer it owns) must be gone before the io_context it runs on is destroyed, or the timer's
// destructor reaches a service that no longer exists (ASan: heap-use-after-free at shutdown).
#pragma once
#include <atomic>
#include <chrono>

#include "core/asio.hpp"

namespace govmail::core {

// Waits while `busy` is true, looking every 10 ms, for at most `max`.
inline awaitable<void> wait_while(const std::atomic<bool>& busy, std::chrono::milliseconds max) {
  asio::steady_timer tick(co_await asio::this_coro::executor);
  for (std::chrono::milliseconds waited{0}; busy && waited < max;
       waited += std::chrono::milliseconds(10)) {
    tick.expires_after(std::chrono::milliseconds(10));
    boost::system::error_code ec;
    co_await tick.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

}  // namespace govmail::core
