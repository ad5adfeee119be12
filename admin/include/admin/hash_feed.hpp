// argon2id hashing of a bulk import's new passwords on background threads (every core by
// default) while the importer goes on: it writes the first accounts to the database while the
// last ones are still hashing, so the database work hides behind the hashing, the only real limit.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/awaitable_fwd.hpp"

namespace govmail::admin {

class HashFeed {
 public:
  // Starts hashing at once on `threads` threads (0 = every core). Never logs a password.
  HashFeed(std::vector<std::string> passwords, std::uint64_t opslimit, std::uint64_t memlimit,
           unsigned threads = 0);
  ~HashFeed();  // the workers stop after the hash they are on
  HashFeed(const HashFeed&) = delete;
  HashFeed& operator=(const HashFeed&) = delete;

  std::size_t size() const { return passwords_.size(); }
  std::size_t done() const { return done_.load(); }  // finished, in any order
  // When the last hash finished (meaningful once done() == size()).
  std::chrono::steady_clock::time_point finished_at() const;

  // The hashes of [from, to), once all are done (an empty string where argon2id failed). Waits on
  // a short timer of the calling coroutine's executor, never blocking it; `waiting` is called on
  // that executor at each wake-up with done() (progress bars).
  awaitable<std::vector<std::string>> take(std::size_t from, std::size_t to,
                                           std::function<void(std::size_t)> waiting = {});

 private:
  void work();

  std::vector<std::string> passwords_, hashes_;
  std::unique_ptr<std::atomic<bool>[]> ready_;
  std::uint64_t opslimit_, memlimit_;
  std::atomic<std::size_t> next_{0}, done_{0};
  std::atomic<bool> stop_{false};
  std::atomic<std::chrono::steady_clock::rep> finished_{0};
  std::vector<std::jthread> workers_;
};

}  // namespace govmail::admin
