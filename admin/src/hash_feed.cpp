#include "admin/hash_feed.hpp"

#include <algorithm>
#include <chrono>

#include "core/asio.hpp"
#include "core/auth.hpp"

namespace govmail::admin {
namespace {

// How often a waiting take() looks again: one hash takes 50-500 ms of a core at the usual costs
// and a batch of the import is hundreds of hashes, so polling costs nothing and adds at most
// this delay (a condition variable would block the io thread; a posted wake-up needs a strand).
constexpr std::chrono::milliseconds kPoll{10};

}  // namespace

HashFeed::HashFeed(std::vector<std::string> passwords, std::uint64_t opslimit,
                   std::uint64_t memlimit, unsigned threads)
    : passwords_(std::move(passwords)),
      hashes_(passwords_.size()),
      ready_(new std::atomic<bool>[passwords_.size()]),
      opslimit_(opslimit),
      memlimit_(memlimit) {
  for (std::size_t i = 0; i < passwords_.size(); ++i) ready_[i].store(false);
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, passwords_.size()));
  for (unsigned t = 0; t < threads; ++t) workers_.emplace_back([this] { work(); });
}

HashFeed::~HashFeed() {
  stop_ = true;
  workers_.clear();  // joins
}

// Indices are taken in increasing order, so the first hashes are ready first.
void HashFeed::work() {
  for (std::size_t i; !stop_ && (i = next_.fetch_add(1)) < passwords_.size();) {
    hashes_[i] = core::hash_password(passwords_[i], opslimit_, memlimit_);
    ready_[i].store(true, std::memory_order_release);
    if (done_.fetch_add(1) + 1 == passwords_.size())
      finished_ = std::chrono::steady_clock::now().time_since_epoch().count();
  }
}

std::chrono::steady_clock::time_point HashFeed::finished_at() const {
  return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(finished_));
}

awaitable<std::vector<std::string>> HashFeed::take(std::size_t from, std::size_t to,
                                                   std::function<void(std::size_t)> waiting) {
  to = std::min(to, passwords_.size());
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (std::size_t at = from; at < to;) {
    if (ready_[at].load(std::memory_order_acquire)) {
      ++at;
      continue;
    }
    timer.expires_after(kPoll);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (waiting) waiting(done());
  }
  std::vector<std::string> out;
  // Copies: a transaction retried after a serialization failure asks again.
  for (std::size_t i = from; i < to; ++i) out.push_back(hashes_[i]);
  co_return out;
}

}  // namespace govmail::admin
