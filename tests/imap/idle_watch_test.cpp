// IdleWatch: the IDLE updates writer ends cleanly whatever happens to it, so that DONE (stop())
// never waits for ever and a broken writer ends the session.
#include "imap/src/idle_watch.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace govmail::imap {
namespace {

struct Harness {
  asio::io_context io;
  std::string written;
  int updates = 0, fails = 0;
  bool throw_updates = false, write_ok = true;

  std::shared_ptr<IdleWatch> watch() {
    return std::make_shared<IdleWatch>(
        io.get_executor(),
        [this]() -> awaitable<std::string> {
          ++updates;
          if (throw_updates) throw std::runtime_error("store exploded");
          co_return "* 1 EXISTS\r\n";
        },
        [this](std::string bytes) -> awaitable<bool> {
          written += bytes;
          co_return write_ok;
        },
        [this] { ++fails; });
  }
  // Bounded: a writer that never ends must fail the test, not hang it.
  void run() {
    io.run_for(std::chrono::seconds(2));
    io.restart();
  }
  // Runs stop() to completion; false when it did not finish (the old endless wait).
  bool stop(const std::shared_ptr<IdleWatch>& w) {
    bool done = false;
    asio::co_spawn(
        io,
        [](std::shared_ptr<IdleWatch> w, bool* done) -> awaitable<void> {
          co_await w->stop();
          *done = true;
        }(w, &done),
        asio::detached);
    io.run_for(std::chrono::seconds(2));
    io.restart();
    return done;
  }
};

TEST(IdleWatch, WritesUpdatesAfterAChange) {
  Harness h;
  auto w = h.watch();
  w->changed();
  h.run();
  EXPECT_EQ(h.written, "* 1 EXISTS\r\n");
  EXPECT_FALSE(w->running());
  EXPECT_FALSE(w->failed());
  EXPECT_TRUE(h.stop(w));
  EXPECT_EQ(h.fails, 0);
}

TEST(IdleWatch, AnExceptionInTheWriterEndsIdleAndTheSession) {
  Harness h;
  h.throw_updates = true;
  auto w = h.watch();
  w->changed();
  h.run();
  EXPECT_FALSE(w->running()) << "the running flag must reset on the exception path";
  EXPECT_TRUE(w->failed());
  EXPECT_EQ(h.fails, 1);  // the session is told to end
  EXPECT_TRUE(h.stop(w)) << "stopping IDLE after a failed writer must not wait for ever";
  w->changed();  // nothing more is written once failed
  h.run();
  EXPECT_EQ(h.updates, 1);
}

TEST(IdleWatch, StopWaitsForAWriterStillRunning) {
  Harness h;
  auto w = h.watch();
  w->changed();  // spawned, not yet run
  EXPECT_TRUE(w->running());
  EXPECT_TRUE(h.stop(w));
  EXPECT_FALSE(w->running());
}

}  // namespace
}  // namespace govmail::imap
