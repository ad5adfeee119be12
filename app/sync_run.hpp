// Runs one coroutine to completion on a private io_context (for CLI subcommands).
#pragma once
#include <exception>
#include <optional>

#include "core/asio.hpp"

namespace govmail::app {

template <class F>
auto run_to_completion(asio::io_context& io, F&& fn) {
  using T = typename decltype(fn())::value_type;
  std::optional<T> out;
  std::exception_ptr failure;
  asio::co_spawn(
      io, [&]() -> awaitable<void> { out.emplace(co_await fn()); },
      [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(*out);
}

}  // namespace govmail::app
