// HashFeed: hashes on background threads while the caller's io_context keeps running; take()
// hands back exactly the hashes of the passwords asked for, in order.
#include "admin/hash_feed.hpp"

#include <gtest/gtest.h>

#include "core/asio.hpp"
#include "core/auth.hpp"

namespace govmail::admin {
namespace {

constexpr std::uint64_t kOps = 1, kMem = 1u << 16;  // the cheapest argon2id: a fast test

std::vector<std::string> run_takes(HashFeed& feed,
                                   std::vector<std::pair<std::size_t, std::size_t>> ranges,
                                   int& ticks) {
  asio::io_context io;
  std::vector<std::string> got;
  // A timer on the same io_context keeps firing while take() waits: it never blocks the thread.
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        for (auto [from, to] : ranges) {
          auto part = co_await feed.take(from, to);
          for (auto& h : part) got.push_back(std::move(h));
        }
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        asio::steady_timer t(io);
        while (got.size() < feed.size() && ticks < 100000) {
          ++ticks;
          t.expires_after(std::chrono::milliseconds(1));
          co_await t.async_wait(use_awaitable);
        }
      },
      asio::detached);
  io.run();
  return got;
}

TEST(HashFeed, TakesInOrderAndEachHashVerifiesItsPassword) {
  std::vector<std::string> pw;
  for (int i = 0; i < 12; ++i) pw.push_back("password-" + std::to_string(i));
  HashFeed feed(pw, kOps, kMem, 2);
  int ticks = 0;
  auto hashes = run_takes(feed, {{0, 5}, {5, 12}}, ticks);
  ASSERT_EQ(hashes.size(), pw.size());
  EXPECT_EQ(feed.done(), pw.size());
  for (std::size_t i = 0; i < pw.size(); ++i) {
    EXPECT_TRUE(core::verify_password_hash(hashes[i], pw[i])) << i;
    EXPECT_FALSE(core::verify_password_hash(hashes[i], pw[(i + 1) % pw.size()])) << i;
  }
  EXPECT_LE(feed.finished_at(), std::chrono::steady_clock::now());
}

TEST(HashFeed, AskingAgainGivesTheSameHashes) {
  // A transaction retried after a serialization failure asks for a batch twice.
  HashFeed feed({"a-long-password", "another-password"}, kOps, kMem, 1);
  int ticks = 0;
  auto both = run_takes(feed, {{0, 2}, {0, 2}}, ticks);
  ASSERT_EQ(both.size(), 4u);
  EXPECT_EQ(both[0], both[2]);
  EXPECT_EQ(both[1], both[3]);
  EXPECT_NE(both[0], both[1]);
}

TEST(HashFeed, NothingToHash) {
  HashFeed feed({}, kOps, kMem);
  int ticks = 0;
  EXPECT_TRUE(run_takes(feed, {{0, 0}}, ticks).empty());
  EXPECT_EQ(feed.done(), 0u);
}

}  // namespace
}  // namespace govmail::admin
