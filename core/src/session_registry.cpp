#include "core/session_registry.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/asio.hpp"
#include "core/stream.hpp"

namespace govmail::core {
namespace {

// How long a revocation is remembered for logins that were verified before it but register
// after it. A login registers right after its verification; minutes are ample.
constexpr std::chrono::minutes kRememberRevocation{10};

}  // namespace

struct SessionRegistry::Impl {
  struct Entry {
    std::int64_t account;
    std::uint64_t credentials_version;
    std::shared_ptr<EndFn> end;
  };
  struct Revocation {
    std::uint64_t credentials_version = 0;  // sessions with an older one end
    Clock::time_point every_at{};           // a revocation without a version: all verified before
    Clock::time_point at{};                 // when the last came in (forgotten after a while)
  };
  mutable std::mutex mutex;
  std::uint64_t next = 1;
  std::map<std::uint64_t, Entry> sessions;
  std::unordered_multimap<std::int64_t, std::uint64_t> by_account;
  std::unordered_map<std::int64_t, Revocation> revoked;
  Clock::time_point all_revoked_at{};
  std::function<Clock::time_point()> now = [] { return Clock::now(); };

  void remove(std::uint64_t token) {
    std::lock_guard lock(mutex);
    auto it = sessions.find(token);
    if (it == sessions.end()) return;
    auto [first, last] = by_account.equal_range(it->second.account);
    for (auto a = first; a != last; ++a)
      if (a->second == token) {
        by_account.erase(a);
        break;
      }
    sessions.erase(it);
  }

  bool already_revoked(std::int64_t account, std::uint64_t version, Clock::time_point t) const {
    if (all_revoked_at != Clock::time_point{} && all_revoked_at >= t) return true;
    auto it = revoked.find(account);
    if (it == revoked.end()) return false;
    const Revocation& r = it->second;
    return r.credentials_version > version ||
           (r.every_at != Clock::time_point{} && r.every_at >= t);
  }

  void remember(std::int64_t account, std::uint64_t version, Clock::time_point t) {
    for (auto it = revoked.begin(); it != revoked.end();)
      it = t - it->second.at > kRememberRevocation ? revoked.erase(it) : std::next(it);
    auto& r = revoked[account];
    if (version == kEveryVersion)
      r.every_at = t;
    else
      r.credentials_version = std::max(r.credentials_version, version);
    r.at = t;
  }
};

SessionRegistry::Registration::Registration(Registration&& other) noexcept
    : owner_(std::move(other.owner_)), token_(std::exchange(other.token_, 0)) {}

SessionRegistry::Registration& SessionRegistry::Registration::operator=(
    Registration&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::move(other.owner_);
    token_ = std::exchange(other.token_, 0);
  }
  return *this;
}

SessionRegistry::Registration::~Registration() {
  release();
}

void SessionRegistry::Registration::release() {
  if (token_ == 0) return;
  if (auto owner = owner_.lock()) static_cast<Impl*>(owner.get())->remove(token_);
  token_ = 0;
}

SessionRegistry::SessionRegistry() : impl_(std::make_shared<Impl>()) {}
SessionRegistry::~SessionRegistry() = default;

SessionRegistry::Registration SessionRegistry::add(std::int64_t account,
                                                   std::uint64_t credentials_version,
                                                   Clock::time_point verified_at, EndFn end) {
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->already_revoked(account, credentials_version, verified_at)) {
      const auto token = impl_->next++;
      impl_->sessions.emplace(token, Impl::Entry{account, credentials_version,
                                                 std::make_shared<EndFn>(std::move(end))});
      impl_->by_account.emplace(account, token);
      return Registration(impl_, token);
    }
  }
  end();  // revoked while the login was verified: it ends before it begins
  return {};
}

std::size_t SessionRegistry::revoke(std::int64_t account, std::uint64_t credentials_version) {
  std::vector<std::shared_ptr<EndFn>> ends;
  {
    std::lock_guard lock(impl_->mutex);
    const auto t = impl_->now();
    if (account == 0) {
      impl_->all_revoked_at = t;
      for (auto& [token, e] : impl_->sessions) ends.push_back(e.end);
      impl_->sessions.clear();
      impl_->by_account.clear();
    } else {
      impl_->remember(account, credentials_version, t);
      auto [first, last] = impl_->by_account.equal_range(account);
      for (auto a = first; a != last;) {
        auto it = impl_->sessions.find(a->second);
        if (it->second.credentials_version >= credentials_version) {
          ++a;  // opened with the changed credentials (or newer): it stays
          continue;
        }
        ends.push_back(it->second.end);
        impl_->sessions.erase(it);
        a = impl_->by_account.erase(a);
      }
    }
  }
  // Outside the lock: a session may unregister (or another register) meanwhile.
  for (auto& end : ends) (*end)();
  return ends.size();
}

std::size_t SessionRegistry::size() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->sessions.size();
}

SessionRegistry::Clock::time_point SessionRegistry::now() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->now();
}

void SessionRegistry::set_clock(std::function<Clock::time_point()> now) {
  std::lock_guard lock(impl_->mutex);
  impl_->now = std::move(now);
}

}  // namespace govmail::core

namespace govmail::core {

struct RevocableSession::State {
  State(Stream& s) : stream(s), executor(s.executor()) {}
  Stream& stream;           // touched only on `executor`, while the State is alive
  const Executor executor;  // the connection's strand: copied, usable from any thread
  bool revoked = false;
};

RevocableSession::RevocableSession(Stream& stream, SessionRegistry* registry)
    : registry_(registry), state_(std::make_shared<State>(stream)) {}

// Unregisters first: no end is started after this; one already posted finds the State gone.
RevocableSession::~RevocableSession() {
  registration_ = {};
}

SessionRegistry::Clock::time_point RevocableSession::now() const {
  return registry_ ? registry_->now() : SessionRegistry::Clock::time_point{};
}

void RevocableSession::logged_in(std::int64_t account, std::uint64_t credentials_version,
                                 SessionRegistry::Clock::time_point verified_at) {
  if (!registry_ || account == 0 || registration_ || state_->revoked) return;
  std::weak_ptr<State> weak = state_;
  registration_ = registry_->add(account, credentials_version, verified_at, [weak] {
    auto state = weak.lock();
    if (!state) return;
    asio::post(state->executor, [weak] {
      // On the strand: the State lives as long as the connection's coroutine, which owns it.
      if (auto s = weak.lock()) {
        s->revoked = true;
        s->stream.interrupt_reads();
      }
    });
  });
}

bool RevocableSession::revoked() const {
  return state_->revoked;
}

}  // namespace govmail::core
