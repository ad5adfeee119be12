// While a client IDLEs: writes the session's untagged updates whenever the selected mailbox
// changes. Nothing waits while the mailbox is quiet: a change spawns a writer, which ends once it
// has written every pending update (10,000 IDLE sessions hold no coroutine or timer wait for
// this). Everything runs on the connection's executor (a strand).
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "core/asio.hpp"
#include "core/awaitable_fwd.hpp"

namespace govmail::imap {

class IdleWatch : public std::enable_shared_from_this<IdleWatch> {
 public:
  using Updates = std::function<awaitable<std::string>()>;    // Session::idle_updates
  using Write = std::function<awaitable<bool>(std::string)>;  // false: the write failed
  // `fail` ends the session (interrupts the pending read) after the writer threw.
  IdleWatch(Executor ex, Updates updates, Write write, std::function<void()> fail);

  // After a change to the selected mailbox, on the executor.
  void changed();
  // Stops the updates and waits for a writer still running (it may be writing).
  awaitable<void> stop();

  const Executor& executor() const { return ex_; }
  bool running() const { return running_; }
  // The writer threw: the session must end ("* BYE") rather than go on.
  bool failed() const { return failed_; }

 private:
  struct Running;
  static awaitable<void> write_updates(std::shared_ptr<IdleWatch> self);

  Executor ex_;
  Updates updates_;
  Write write_;
  std::function<void()> fail_;
  asio::steady_timer* finished_ = nullptr;  // stop()'s, while it waits for the writer to end
  bool pending_ = false, running_ = false, stop_ = false, failed_ = false;
};

}  // namespace govmail::imap
