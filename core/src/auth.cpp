// AuthService: lock-out check, then the store lookup, then the verified-credentials cache (valid
// while the stored credentials are unchanged) or an argon2id verification on the worker pool. One
// mutex guards the cache and the failure tables; it is never held across a co_await or a hash.
//
// Lock-outs fall on the source network, never on an address for everyone: failures are counted
// per network and per (address, network), and a network past either limit is refused without a
// password check. An address-wide count (a guesser spread over many networks) only shuts out
// networks that have not logged in to that address lately; an app password still works. The
// tables live in this process's memory: each govmail process counts on its own, and a restart
// forgets them.
#include "core/auth.hpp"

#include <sodium.h>

#include <atomic>
#include <initializer_list>
#include <list>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "core/asio.hpp"
#include "core/limits.hpp"
#include "core/log.hpp"
#include "core/worker_pool.hpp"
#include "sodium_init.hpp"

namespace govmail::core {
namespace {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using std::chrono::seconds;

constexpr std::size_t kMaxAddressBytes = 320;        // RFC 5321 path limits
constexpr std::size_t kMaxPasswordBytes = 1024;      // nobody types more; bounds hashing input
constexpr std::size_t kMaxTrackedFailures = 100000;  // per table: networks, addresses, pairs

std::string normalise_address(std::string_view a) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!a.empty() && blank(a.front())) a.remove_prefix(1);
  while (!a.empty() && blank(a.back())) a.remove_suffix(1);
  std::string out(a);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// One key for an (address, network) pair: NUL never occurs in either.
std::string pair_key(const std::string& address, const std::string& network) {
  return address + '\0' + network;
}

// Failed attempts per key (a network, an address, or a pair). Lock-out starts at `max` failures
// within the window and doubles with each failure after that. Attempts refused while locked do not
// count: they never reached a password check.
class FailureTable {
 public:
  std::optional<seconds> locked(const std::string& key, TimePoint now) const {
    const auto it = map_.find(key);
    if (it == map_.end() || it->second.locked_until <= now) return std::nullopt;
    const auto left = it->second.locked_until - now;
    return std::max(seconds(1), std::chrono::ceil<seconds>(left));
  }

  // Returns the lock-out just imposed, if this failure imposed one.
  std::optional<seconds> record(const std::string& key, unsigned max, const AuthConfig& cfg,
                                TimePoint now) {
    if (map_.size() >= kMaxTrackedFailures && !map_.contains(key)) make_room(cfg, now);
    Entry& e = map_[key];
    if (e.count > 0 && now - std::max(e.last, e.locked_until) > cfg.failure_window) e = {};
    ++e.count;
    e.last = now;
    if (e.count < max) return std::nullopt;
    const unsigned doublings = std::min(e.count - max, 20u);
    const seconds lockout =
        std::min<seconds>(cfg.lockout_base * (1l << doublings), cfg.lockout_max);
    e.locked_until = now + lockout;
    return lockout;
  }

  void clear(const std::string& key) { map_.erase(key); }

 private:
  struct Entry {
    unsigned count = 0;
    TimePoint last{};
    TimePoint locked_until{};
  };

  // Forget what has expired; if an attacker filled the table with live entries, drop one.
  void make_room(const AuthConfig& cfg, TimePoint now) {
    std::erase_if(map_, [&](const auto& kv) {
      return now - std::max(kv.second.last, kv.second.locked_until) > cfg.failure_window;
    });
    if (map_.size() >= kMaxTrackedFailures) map_.erase(map_.begin());
  }

  std::unordered_map<std::string, Entry> map_;
};

// (address, network) pairs that logged in successfully, with the time of the last success.
class KnownGood {
 public:
  bool contains(const std::string& key, TimePoint now, seconds ttl) const {
    const auto it = map_.find(key);
    return it != map_.end() && now - it->second < ttl;
  }

  void note(const std::string& key, TimePoint now, seconds ttl) {
    if (ttl == seconds(0)) return;
    if (map_.size() >= kMaxTrackedFailures && !map_.contains(key)) {
      std::erase_if(map_, [&](const auto& kv) { return now - kv.second >= ttl; });
      if (map_.size() >= kMaxTrackedFailures) map_.erase(map_.begin());
    }
    map_[key] = now;
  }

 private:
  std::unordered_map<std::string, TimePoint> map_;
};

// Verified (address, password) pairs, keyed by a keyed BLAKE2b of both so that neither is kept
// in memory. LRU order: front is the most recently used.
class CredentialCache {
 public:
  struct Hit {
    std::int64_t account_id;
    std::string address;
    std::uint64_t credentials_version;
    std::string fingerprint;  // of the stored credentials the password was verified against
    bool app_password;        // it matched an app password, not the account's password
    TimePoint checked;        // when the stored credentials last matched the fingerprint
  };

  std::optional<Hit> find(const std::string& key, TimePoint now) {
    const auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    if (it->second->expires <= now) {
      lru_.erase(it->second);
      index_.erase(it);
      return std::nullopt;
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->hit;
  }

  // The stored credentials were read again and still match: trusted without a read until
  // auth.cache_recheck has passed.
  void mark_checked(const std::string& key, TimePoint t) {
    if (const auto it = index_.find(key); it != index_.end()) it->second->hit.checked = t;
  }

  void insert(const std::string& key, Hit hit, TimePoint expires, std::size_t max_entries) {
    if (max_entries == 0) return;
    if (auto it = index_.find(key); it != index_.end()) {
      lru_.erase(it->second);
      index_.erase(it);
    }
    lru_.push_front({key, std::move(hit), expires});
    index_[key] = lru_.begin();
    while (lru_.size() > max_entries) {
      index_.erase(lru_.back().key);
      lru_.pop_back();
    }
  }

  // A linear scan: flushes follow rare password/status changes, and the cache is bounded.
  void flush_account(std::int64_t account_id) {
    for (auto it = lru_.begin(); it != lru_.end();) {
      if (it->hit.account_id == account_id) {
        index_.erase(it->key);
        it = lru_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void clear() {
    lru_.clear();
    index_.clear();
  }
  std::size_t size() const { return lru_.size(); }

 private:
  struct Entry {
    std::string key;
    Hit hit;
    TimePoint expires;
  };
  std::list<Entry> lru_;
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

AuthResult outcome(AuthOutcome o) {
  AuthResult r;
  r.outcome = o;
  return r;
}

}  // namespace

struct AuthService::Impl {
  Executor io;
  AuthConfig cfg;
  CredentialLookup lookup;
  WorkerPool pool;
  std::function<TimePoint()> now = [] { return Clock::now(); };
  unsigned char cache_key_secret[crypto_generichash_KEYBYTES];

  mutable std::mutex mutex;  // guards everything below
  CredentialCache cache;
  FailureTable network_failures;       // per source network
  FailureTable pair_failures;          // per (address, network)
  FailureTable account_failures;       // per address, all networks
  KnownGood known_good;                // per (address, network)
  std::uint64_t flush_generation = 0;  // bumped by every flush: late results are not cached

  std::once_flag dummy_once;
  std::string dummy_hash;

  Impl(Executor ex, const AuthConfig& c, CredentialLookup l)
      : io(std::move(ex)), cfg(c), lookup(std::move(l)), pool(c.hash_workers, c.hash_queue_max) {
    ensure_sodium();
    crypto_generichash_keygen(cache_key_secret);
  }

  // Keyed BLAKE2b of the parts, each length-prefixed: ("ab", "c") and ("a", "bc") differ.
  std::string keyed_hash(std::initializer_list<std::string_view> parts) const {
    crypto_generichash_state state;
    crypto_generichash_init(&state, cache_key_secret, sizeof cache_key_secret,
                            crypto_generichash_BYTES);
    for (const std::string_view part : parts) {
      const std::uint64_t len = part.size();
      crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(&len), sizeof len);
      crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(part.data()),
                                part.size());
    }
    std::string out(crypto_generichash_BYTES, '\0');
    crypto_generichash_final(&state, reinterpret_cast<unsigned char*>(out.data()), out.size());
    return out;
  }

  std::string cache_key(const std::string& address, const std::string& password) const {
    return keyed_hash({address, password});
  }

  // Changes whenever the password, an app password or the status changes in the store: a cache
  // hit is honoured only while it is unchanged, so a change made by another govmail process
  // takes effect at the next login, before its notification arrives.
  std::string fingerprint(const StoredCredentials& c) const {
    std::string all = c.active ? "active" : "inactive";
    for (const auto& h : c.app_password_hashes) all += keyed_hash({h});
    return keyed_hash({c.password_hash, all});
  }

  // Runs on a worker. An unknown address still costs one hash, so that response time does not
  // tell which addresses exist.
  enum class Match { none, account_password, app_password };
  Match password_matches(const std::optional<StoredCredentials>& creds,
                         const std::string& password) {
    if (!creds) {
      std::call_once(dummy_once, [&] {
        dummy_hash = hash_password(random_password(), cfg.argon2_opslimit, cfg.argon2_memlimit);
      });
      verify_password_hash(dummy_hash, password);
      return Match::none;
    }
    if (verify_password_hash(creds->password_hash, password)) return Match::account_password;
    for (const auto& app_hash : creds->app_password_hashes)
      if (verify_password_hash(app_hash, password)) return Match::app_password;
    return Match::none;
  }

  static AuthResult locked_out(seconds retry_after) {
    AuthResult r = outcome(AuthOutcome::locked_out);
    r.retry_after = retry_after;
    return r;
  }

  // Under mutex. The network, or the network for this address, is locked: refused before any
  // store lookup or hash.
  std::optional<AuthResult> check_locked(const std::string& address, const std::string& network,
                                         TimePoint t) const {
    const auto by_network = network_failures.locked(network, t);
    const auto by_pair = pair_failures.locked(pair_key(address, network), t);
    if (!by_network && !by_pair) return std::nullopt;
    return locked_out(std::max(by_network.value_or(seconds(0)), by_pair.value_or(seconds(0))));
  }

  // Under mutex. The address-wide lock-out, unless this network is known-good for the address.
  std::optional<seconds> account_lock_for(const std::string& address, const std::string& network,
                                          TimePoint t) const {
    const auto by_account = account_failures.locked(address, t);
    if (by_account && known_good.contains(pair_key(address, network), t, cfg.known_good_ttl))
      return std::nullopt;
    return by_account;
  }

  void record_failure(const std::string& address, const std::string& network) {
    std::lock_guard lock(mutex);
    const TimePoint t = now();
    const auto network_lock = network_failures.record(network, cfg.max_failures_per_ip, cfg, t);
    const auto pair_lock =
        pair_failures.record(pair_key(address, network), cfg.max_failures_per_account, cfg, t);
    const auto account_lock =
        account_failures.record(address, cfg.max_failures_per_account_total, cfg, t);
    if (network_lock)
      spdlog::warn(
          "auth: network {} locked out for {}s after repeated failures (auth.max_failures_per_ip)",
          log_safe(network), network_lock->count());
    if (pair_lock)
      spdlog::warn(
          "auth: network {} locked out of {} for {}s after repeated failures "
          "(auth.max_failures_per_account)",
          log_safe(network), log_safe(address), pair_lock->count());
    if (account_lock)
      spdlog::warn(
          "auth: {} refused to new networks for {}s after repeated failures from many "
          "(auth.max_failures_per_account_total)",
          log_safe(address), account_lock->count());
  }

  // Under mutex. The password was right: admitted unless the address-wide lock-out holds for
  // this network and the password is not an app password (said as a lock-out, not as wrong).
  AuthResult admit(const std::string& address, const std::string& network,
                   const StoredCredentials& creds, bool from_cache, bool app_password) {
    const TimePoint t = now();
    if (!app_password)
      if (const auto lock = account_lock_for(address, network, t)) return locked_out(*lock);
    pair_failures.clear(pair_key(address, network));
    known_good.note(pair_key(address, network), t, cfg.known_good_ttl);
    return success(creds, from_cache, app_password);
  }

  AuthResult success(const StoredCredentials& creds, bool from_cache, bool app_password) {
    AuthResult r = outcome(AuthOutcome::ok);
    r.account_id = creds.account_id;
    r.credentials_version = creds.credentials_version;
    r.address = creds.address;
    r.from_cache = from_cache;
    r.app_password = app_password;
    return r;
  }

  awaitable<AuthResult> verify(std::string address, std::string password, std::string ip,
                               Freshness freshness) {
    const std::string network = network_key(ip, cfg.ipv4_prefix, cfg.ipv6_prefix);
    {
      std::lock_guard lock(mutex);
      if (auto locked = check_locked(address, network, now())) co_return *locked;
    }
    if (address.empty() || address.size() > kMaxAddressBytes || password.empty() ||
        password.size() > kMaxPasswordBytes) {
      record_failure(address, network);
      co_return outcome(AuthOutcome::bad_credentials);
    }
    const std::string key = cache_key(address, password);
    std::uint64_t generation;
    std::optional<CredentialCache::Hit> hit;
    {
      std::lock_guard lock(mutex);
      hit = cache.find(key, now());
      generation = flush_generation;
    }
    co_return co_await verify_with_store(std::move(address), std::move(password), ip, network, key,
                                         generation, std::move(hit), freshness);
  }

  // A cache hit checked against the store within auth.cache_recheck is answered at once when the
  // caller accepts Freshness::recent: every change made through any govmail process flushes the
  // cache by notification, and the recheck bounds how long one whose notification is late or lost
  // goes unseen. Any other hit reads the stored credentials (one indexed query) and skips the
  // hash when they are what the password was verified against.
  awaitable<AuthResult> verify_with_store(std::string address, std::string password,
                                          const std::string& ip, const std::string& network,
                                          const std::string& key, std::uint64_t generation,
                                          std::optional<CredentialCache::Hit> hit,
                                          Freshness freshness) {
    if (hit && freshness == Freshness::recent && now() - hit->checked < cfg.cache_recheck) {
      sodium_memzero(password.data(), password.size());
      StoredCredentials cached;
      cached.account_id = hit->account_id;
      cached.address = hit->address;
      cached.credentials_version = hit->credentials_version;
      std::lock_guard lock(mutex);
      co_return admit(address, network, cached, true, hit->app_password);
    }
    std::optional<StoredCredentials> creds;
    Match matched = Match::none;
    try {
      creds = co_await lookup(address);
      if (hit && creds && creds->active && fingerprint(*creds) == hit->fingerprint) {
        sodium_memzero(password.data(), password.size());
        std::lock_guard lock(mutex);
        if (generation == flush_generation) cache.mark_checked(key, now());
        co_return admit(address, network, *creds, true, hit->app_password);
      }
      // A named job, not a temporary: see the GCC 12 note in worker_pool.cpp.
      std::function<void()> job = [&] { matched = password_matches(creds, password); };
      if (!co_await pool.run(std::move(job))) {
        spdlog::warn("auth: hash queue full (auth.hash_queue_max = {})", cfg.hash_queue_max);
        co_return outcome(AuthOutcome::temporary);
      }
    } catch (const std::exception& e) {
      spdlog::error("auth: verifying {} failed: {}", log_safe(address), e.what());
      co_return outcome(AuthOutcome::temporary);
    }
    sodium_memzero(password.data(), password.size());
    if (matched == Match::none || !creds->active) {
      record_failure(address, network);
      spdlog::info("auth: failed login for {} from {}", log_safe(address), log_safe(ip));
      co_return outcome(AuthOutcome::bad_credentials);
    }
    std::lock_guard lock(mutex);
    const bool app = matched == Match::app_password;
    if (generation == flush_generation)
      cache.insert(key,
                   {creds->account_id, creds->address, creds->credentials_version,
                    fingerprint(*creds), app, now()},
                   now() + cfg.cache_ttl, cfg.cache_max_entries);
    co_return admit(address, network, *creds, false, app);
  }
};

AuthService::AuthService(Executor io, const AuthConfig& cfg, CredentialLookup lookup)
    : impl_(std::make_shared<Impl>(std::move(io), cfg, std::move(lookup))) {}

AuthService::~AuthService() = default;

awaitable<AuthResult> AuthService::verify(std::string address, std::string password,
                                          std::string remote_ip, Freshness freshness) {
  auto impl = impl_;  // the service must outlive this call even if its owner lets go
  co_return co_await impl->verify(normalise_address(address), std::move(password),
                                  std::move(remote_ip), freshness);
}

awaitable<std::string> AuthService::hash(std::string password) {
  auto impl = impl_;
  std::string out;
  std::function<void()> job = [&] {
    out = hash_password(password, impl->cfg.argon2_opslimit, impl->cfg.argon2_memlimit);
  };
  const bool ran = co_await impl->pool.run(std::move(job));
  sodium_memzero(password.data(), password.size());
  if (!ran) throw std::runtime_error("password hashing queue full (auth.hash_queue_max)");
  co_return out;
}

void AuthService::flush_account(std::int64_t account_id) {
  std::lock_guard lock(impl_->mutex);
  ++impl_->flush_generation;
  impl_->cache.flush_account(account_id);
}

void AuthService::flush_all() {
  std::lock_guard lock(impl_->mutex);
  ++impl_->flush_generation;
  impl_->cache.clear();
}

std::size_t AuthService::cache_size() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->cache.size();
}

void AuthService::set_clock(std::function<std::chrono::steady_clock::time_point()> now) {
  std::lock_guard lock(impl_->mutex);
  impl_->now = std::move(now);
}

}  // namespace govmail::core
