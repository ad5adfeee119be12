// Backend on the store and AuthService, and the query sharing every Backend does for updates.
#include "imap/backend.hpp"

#include <map>
#include <mutex>
#include <tuple>

#include "core/asio.hpp"
#include "imap/stored_forms.hpp"
#include "message_cache.hpp"
#include "store/login_audit.hpp"

namespace govmail::imap {

// In-flight changes_since queries that later callers may still join (before they are sent).
struct Backend::Flights {
  struct Waiter {
    std::shared_ptr<asio::steady_timer> timer;  // expires_at(min) when the answer is there
  };
  struct Flight {
    std::optional<store::Result<store::MailboxChanges>> answer;
    std::vector<Waiter> waiters;
  };
  using Key = std::tuple<store::AccountId, store::MailboxId, store::ModSeq>;
  std::mutex mutex;
  std::map<Key, std::shared_ptr<Flight>> open;  // still gathering callers
};

Backend::Backend(std::shared_ptr<MessageCache> cache)
    : flights_(std::make_shared<Flights>()),
      message_cache_(cache ? std::move(cache) : make_message_cache()) {}
Backend::~Backend() = default;

awaitable<store::Result<store::MailboxChanges>> Backend::shared_changes_since(
    store::AccountId account, store::MailboxId mailbox, store::ModSeq since) {
  auto flights = flights_;
  const Flights::Key key{account, mailbox, since};
  auto ex = co_await asio::this_coro::executor;
  std::shared_ptr<Flights::Flight> flight;
  auto timer = std::make_shared<asio::steady_timer>(ex);
  bool leader = false;
  {
    std::lock_guard lock(flights->mutex);
    auto [it, fresh] = flights->open.try_emplace(key);
    leader = fresh;
    if (!leader) {
      flight = it->second;
      timer->expires_at(asio::steady_timer::time_point::max());
      flight->waiters.push_back({timer});
    } else {
      it->second = flight = std::make_shared<Flights::Flight>();
    }
  }
  boost::system::error_code ec;
  if (leader) {
    // The leader: gathers the callers woken by the same change, then closes the flight.
    timer->expires_after(std::chrono::milliseconds(1));
    co_await timer->async_wait(asio::redirect_error(use_awaitable, ec));
    {
      std::lock_guard lock(flights->mutex);
      flights->open.erase(key);
    }
    auto answer = co_await mailboxes().changes_since(account, mailbox, since);
    std::vector<Flights::Waiter> waiters;
    {
      std::lock_guard lock(flights->mutex);
      flight->answer = answer;
      waiters = std::move(flight->waiters);
    }
    // Each waiter's timer is touched only on its own executor (the session's strand).
    for (auto& w : waiters)
      asio::post(w.timer->get_executor(),
                 [t = w.timer] { t->expires_at(asio::steady_timer::time_point::min()); });
    co_return answer;
  }
  co_await timer->async_wait(asio::redirect_error(use_awaitable, ec));
  std::lock_guard lock(flights->mutex);
  if (!flight->answer) co_return unexpected(store::StoreError::temporary);  // shutting down
  co_return *flight->answer;
}

namespace {

class StoreBackend final : public Backend {
 public:
  StoreBackend(std::shared_ptr<store::Database> db, core::AuthService& auth,
               std::shared_ptr<search::Index> search, std::shared_ptr<MessageCache> cache)
      : Backend(std::move(cache)), db_(std::move(db)), auth_(auth), search_(std::move(search)) {}
  awaitable<core::AuthResult> authenticate(std::string user, std::string password,
                                           std::string ip) override {
    std::string typed = user, from = ip;
    auto r = co_await auth_.verify(std::move(user), std::move(password), std::move(ip));
    co_return store::audited_login(*db_, "imap", std::move(typed), std::move(from), std::move(r));
  }
  store::MailboxStore& mailboxes() override { return db_->mailboxes(); }
  search::Index* search_index() override { return search_.get(); }
  store::Subscription subscribe_mailbox(
      store::MailboxId id, std::function<void(const store::MailboxEvent&)> fn) override {
    return db_->subscribe_mailbox(id, std::move(fn));
  }

 private:
  std::shared_ptr<store::Database> db_;
  core::AuthService& auth_;
  std::shared_ptr<search::Index> search_;
};

}  // namespace

std::shared_ptr<Backend> make_store_backend(std::shared_ptr<store::Database> db,
                                            core::AuthService& auth,
                                            std::shared_ptr<search::Index> search,
                                            std::shared_ptr<MessageCache> cache) {
  return std::make_shared<StoreBackend>(std::move(db), auth, std::move(search), std::move(cache));
}

}  // namespace govmail::imap
