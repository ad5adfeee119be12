// Completion handlers for co_spawn. `asio::detached` drops a coroutine's exception without a
// word and leaves whatever state the coroutine meant to reset; every background task uses one of
// these instead, so that an exception is logged and the task ends or restarts cleanly.
#pragma once
#include <exception>
#include <functional>
#include <string>

namespace govmail::core {

// "what(): ..." of an exception, or "unknown exception".
std::string describe(std::exception_ptr e);

// Logs "<task> ended by an exception: ..." at error level, then calls `after` (may be empty)
// with whether it failed: a restart, or a reset of the task's state.
class LogExit {
 public:
  explicit LogExit(std::string task, std::function<void(bool failed)> after = {})
      : task_(std::move(task)), after_(std::move(after)) {}
  void operator()(std::exception_ptr e) const;

 private:
  std::string task_;
  std::function<void(bool)> after_;
};

}  // namespace govmail::core
