// Waiting on a libpq socket from a coroutine (private to store/src/pg).
#pragma once
#include <chrono>
#include <memory>
#include <optional>

#include "core/asio.hpp"

namespace govmail::store::pg::detail {

enum class Ready { read, write, timeout };

// Completes when the descriptor is readable (if `read`) or writable (if `write`), or when
// `deadline` passes. libpq asks for "read OR write" while flushing (a server blocked on sending
// to us stops reading: waiting for write alone could deadlock) and during connect with a bound.
// Boost 1.74 has no parallel_group: the competing waits finish on a private strand, the first one
// cancels the others and posts the coroutine's handler; the losers find no handler and return.
template <class Token>
auto async_wait_ready(asio::posix::stream_descriptor& sd, bool read, bool write,
                      std::optional<std::chrono::steady_clock::time_point> deadline,
                      Token&& token) {
  using Sig = void(boost::system::error_code, Ready);
  return asio::async_initiate<Token, Sig>(
      [&sd, read, write, deadline](auto handler) {
        // This initiation object lives in the awaiting coroutine's frame, which another io
        // thread may free as soon as the first wait below completes: copy what we need onto
        // this call's stack first and never touch the captures after starting a wait.
        asio::posix::stream_descriptor* const desc = &sd;
        const bool want_read = read;
        const bool want_write = write;
        const auto until = deadline;
        using Handler = decltype(handler);
        struct State {
          explicit State(asio::any_io_executor ex) : strand(ex), timer(ex) {}
          asio::strand<asio::any_io_executor> strand;
          asio::steady_timer timer;
          std::optional<Handler> h;
          asio::posix::stream_descriptor* sd = nullptr;
        };
        auto st = std::make_shared<State>(desc->get_executor());
        st->sd = desc;
        st->h.emplace(std::move(handler));
        auto finish = [st](boost::system::error_code ec, Ready r) {
          if (!st->h) return;  // another wait won
          auto h = std::move(*st->h);
          st->h.reset();
          boost::system::error_code ignored;
          st->sd->cancel(ignored);
          st->timer.cancel();
          auto ex = asio::get_associated_executor(h, st->strand.get_inner_executor());
          asio::post(ex, [h = std::move(h), ec, r]() mutable { std::move(h)(ec, r); });
        };
        // Started on the strand, so that a completion (which cancels the other waits) never runs
        // while the remaining waits are still being started from this thread.
        asio::dispatch(st->strand, [st, finish, want_read, want_write, until] {
          if (want_read)
            st->sd->async_wait(
                asio::posix::stream_descriptor::wait_read,
                asio::bind_executor(st->strand, [finish](boost::system::error_code ec) {
                  finish(ec, Ready::read);
                }));
          if (want_write)
            st->sd->async_wait(
                asio::posix::stream_descriptor::wait_write,
                asio::bind_executor(st->strand, [finish](boost::system::error_code ec) {
                  finish(ec, Ready::write);
                }));
          if (until) {
            st->timer.expires_at(*until);
            st->timer.async_wait(
                asio::bind_executor(st->strand, [finish](boost::system::error_code ec) {
                  if (ec != asio::error::operation_aborted) finish({}, Ready::timeout);
                }));
          }
        });
      },
      token);
}

}  // namespace govmail::store::pg::detail
