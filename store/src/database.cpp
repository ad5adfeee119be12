// Database: the pool, migrations at open, and the cross-process notification hub.
#include "store/database.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <unordered_map>

#include "admin_store_pg.hpp"
#include "change_notifier.hpp"
#include "core/asio.hpp"
#include "core/spawn.hpp"
#include "core/worker_pool.hpp"
#include "directory_pg.hpp"
#include "jmap_store_pg.hpp"
#include "login_audit.hpp"
#include "mail_store_pg.hpp"
#include "mailbox_store_pg.hpp"
#include "migrations.hpp"
#include "mta_sts_pg.hpp"
#include "outbound_pg.hpp"
#include "query.hpp"
#include "release_sweeper.hpp"
#include "search_queue_pg.hpp"
#include "sql/database_sql.hpp"

namespace govmail::store {

namespace {

constexpr const char* kMailboxChannel = "govmail_mailbox";
constexpr const char* kAccountChannel = "govmail_account";

// "id:version" (GOVMAIL_NOTIFY_ACCOUNT in sql/directory_sql.hpp, and migration 0033), or "id"
// from a process of an older release.
std::optional<AccountChange> parse_account_change(std::string_view payload) {
  AccountChange c;
  const char* end = payload.data() + payload.size();
  auto [p, ec] = std::from_chars(payload.data(), end, c.account_id);
  if (ec != std::errc() || c.account_id <= 0) return std::nullopt;
  if (p == end) return c;
  if (*p != ':') return std::nullopt;
  auto [q, ec2] = std::from_chars(p + 1, end, c.credentials_version);
  if (ec2 != std::errc() || q != end) return std::nullopt;
  return c;
}

using MailboxFn = std::function<void(const MailboxEvent&)>;
using AccountFn = std::function<void(const AccountChange&)>;

// Who wants to hear about which mailbox. Thread-safe; callbacks run without the lock held, so
// that they may subscribe or unsubscribe.
class Subscribers {
 public:
  std::uint64_t add_mailbox(MailboxId id, MailboxFn fn) {
    std::lock_guard lock(mu_);
    auto token = next_++;
    mailbox_[id][token] = std::make_shared<MailboxFn>(std::move(fn));
    return token;
  }
  void remove_mailbox(MailboxId id, std::uint64_t token) {
    std::lock_guard lock(mu_);
    auto it = mailbox_.find(id);
    if (it == mailbox_.end()) return;
    it->second.erase(token);
    if (it->second.empty()) mailbox_.erase(it);
  }
  std::uint64_t add_account_mailboxes(AccountId id, MailboxFn fn) {
    std::lock_guard lock(mu_);
    auto token = next_++;
    account_mailboxes_[id][token] = std::make_shared<MailboxFn>(std::move(fn));
    return token;
  }
  void remove_account_mailboxes(AccountId id, std::uint64_t token) {
    std::lock_guard lock(mu_);
    auto it = account_mailboxes_.find(id);
    if (it == account_mailboxes_.end()) return;
    it->second.erase(token);
    if (it->second.empty()) account_mailboxes_.erase(it);
  }
  std::uint64_t add_account(AccountFn fn) {
    std::lock_guard lock(mu_);
    auto token = next_++;
    account_[token] = std::make_shared<AccountFn>(std::move(fn));
    return token;
  }
  void remove_account(std::uint64_t token) {
    std::lock_guard lock(mu_);
    account_.erase(token);
  }

  explicit Subscribers(std::string origin) : origin_(std::move(origin)) {}

  void dispatch(const pg::Connection::Notification& n) {
    listening_ = true;
    if (n.channel == kMailboxChannel) {
      // Our own announcements were dispatched locally when they were made.
      auto p = ChangeNotifier::parse(n.payload);
      if (p && p->origin != origin_) notify_mailbox(p->event);
    } else if (n.channel == kAccountChannel) {
      if (auto change = parse_account_change(n.payload)) notify_accounts(*change);
    }
  }

  // After the listener reconnected, anything may have been missed: tell everyone.
  void all_missed() {
    std::vector<std::pair<MailboxId, std::shared_ptr<MailboxFn>>> fns;
    {
      std::lock_guard lock(mu_);
      for (auto& [id, subs] : mailbox_)
        for (auto& [token, fn] : subs) fns.emplace_back(id, fn);
      for (auto& [account, subs] : account_mailboxes_)
        for (auto& [token, fn] : subs) fns.emplace_back(0, fn);
    }
    for (auto& [id, fn] : fns) (*fn)(MailboxEvent{0, id, 0});
    notify_accounts(AccountChange{});
  }

  bool listening() const { return listening_; }

  void notify_mailbox(const MailboxEvent& ev) {
    std::vector<std::shared_ptr<MailboxFn>> fns;
    {
      std::lock_guard lock(mu_);
      auto it = mailbox_.find(ev.mailbox_id);
      if (it != mailbox_.end())
        for (auto& [token, fn] : it->second) fns.push_back(fn);
      auto acc = account_mailboxes_.find(ev.account_id);
      if (acc != account_mailboxes_.end())
        for (auto& [token, fn] : acc->second) fns.push_back(fn);
    }
    for (auto& fn : fns) (*fn)(ev);
  }

 private:
  void notify_accounts(const AccountChange& change) {
    std::vector<std::shared_ptr<AccountFn>> fns;
    {
      std::lock_guard lock(mu_);
      for (auto& [token, fn] : account_) fns.push_back(fn);
    }
    for (auto& fn : fns) (*fn)(change);
  }

  const std::string origin_;
  std::mutex mu_;
  std::uint64_t next_ = 1;
  std::unordered_map<MailboxId, std::map<std::uint64_t, std::shared_ptr<MailboxFn>>> mailbox_;
  std::map<std::uint64_t, std::shared_ptr<AccountFn>> account_;
  // Every mailbox of an account (JMAP push).
  std::unordered_map<AccountId, std::map<std::uint64_t, std::shared_ptr<MailboxFn>>>
      account_mailboxes_;
  std::atomic<bool> listening_{false};
};

// Tells this process's announcements from those of other processes.
std::string random_origin() {
  std::random_device rd;
  std::uniform_int_distribution<std::uint64_t> dist;
  return std::to_string(dist(rd));
}

int binary_version() {
  const auto& m = embedded_migrations();
  return m.empty() ? 0 : m.back().version;
}

awaitable<Result<int>> current_version(pg::Connection& c) {
  auto has = co_await c.exec(sql::kHasMigrationsTable);
  if (!has) co_return unexpected(detail::map_error(has.error(), "schema version"));
  if (!has->get_bool(0, 0)) co_return 0;
  auto v = co_await c.exec(sql::kSchemaVersion);
  if (!v) co_return unexpected(detail::map_error(v.error(), "schema version"));
  co_return static_cast<int>(v->get_int(0, 0));
}

constexpr const char* kNoTimeouts =
    "SET statement_timeout = 0; SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0";

// Run once on every pool connection. The timeouts (milliseconds) turn a lock wait or a stuck
// query into an error (57014, 55P03, or for a transaction left idle 25P03 and the end of the
// connection) instead of a pool connection held for ever.
std::string session_setup(const DatabaseOptions& o) {
  return "SET statement_timeout = " + std::to_string(o.statement_timeout.count()) +
         "; SET lock_timeout = " + std::to_string(o.lock_timeout.count()) +
         "; SET idle_in_transaction_session_timeout = " +
         std::to_string(o.idle_in_transaction_timeout.count());
}

// Applies each missing migration in its own transaction, on a connection holding the advisory
// lock (several processes may start at once: one migrates, the others wait and find it done).
awaitable<Result<void>> apply_migrations(pg::Connection& c, int from) {
  for (const auto& m : embedded_migrations()) {
    if (m.version <= from) continue;
    spdlog::info("store: applying schema migration {} ({})", m.version, m.name);
    auto step = co_await c.exec("BEGIN");
    if (step) step = co_await c.exec(m.sql);
    if (step) {
      std::string version = std::to_string(m.version);
      std::array<pg::Param, 2> params{pg::Param::text(version), pg::Param::text(m.name)};
      step = co_await c.exec(sql::kRecordMigration, params);
    }
    if (step) step = co_await c.exec("COMMIT");
    if (!step) {
      spdlog::error("store: schema migration {} failed: SQLSTATE {}: {}", m.name,
                    step.error().sqlstate, step.error().message);
      (void)co_await c.exec("ROLLBACK");
      co_return unexpected(StoreError::permanent);
    }
  }
  co_return Result<void>{};
}

awaitable<Result<void>> migrate_locked(pg::Connection& c, bool apply) {
  if (auto l = co_await c.exec(sql::kLockMigrations); !l)
    co_return unexpected(detail::map_error(l.error(), "migration lock"));
  Result<void> result;
  auto found = co_await current_version(c);
  const int mine = binary_version();
  if (!found) {
    result = unexpected(found.error());
  } else if (*found > mine) {
    spdlog::critical(
        "store: database schema version {} is newer than this govmail ({}): upgrade govmail",
        *found, mine);
    result = unexpected(StoreError::permanent);
  } else if (*found < mine && !apply) {
    spdlog::critical(
        "store: database schema version {} is older than this govmail ({}) and migrations are "
        "disabled: run govmail once with migrations enabled",
        *found, mine);
    result = unexpected(StoreError::permanent);
  } else if (*found < mine) {
    result = co_await apply_migrations(c, *found);
  }
  (void)co_await c.exec(sql::kUnlockMigrations);
  co_return result;
}

awaitable<Result<void>> migrate(pg::Pool& pool, bool apply) {
  auto lease = co_await pool.acquire();
  if (!lease) {
    spdlog::error("store: cannot connect to PostgreSQL: {}", lease.error().message);
    co_return unexpected(StoreError::unavailable);
  }
  pg::Connection& c = **lease;
  // A migration may rebuild a big table, and another process's may hold the lock for as long:
  // no timeouts here, and the pool's settings back before the connection goes back.
  if (auto t = co_await c.exec(kNoTimeouts); !t)
    co_return unexpected(detail::map_error(t.error(), "migration settings"));
  auto result = co_await migrate_locked(c, apply);
  if (!pool.session_setup().empty())
    if (auto t = co_await c.exec(pool.session_setup()); !t && result)
      result = unexpected(detail::map_error(t.error(), "session settings"));
  co_return result;
}

// Waits (bounded) until the listener hears a notification of ours, so that a change committed
// right after open() is not missed because LISTEN was not yet in place.
awaitable<void> wait_listening(pg::Pool& pool, const Subscribers& subs, Executor ex) {
  asio::steady_timer timer(ex);
  for (int i = 0; i < 100 && !subs.listening(); ++i) {
    if (i % 5 == 0) {
      if (auto lease = co_await pool.acquire())
        (void)co_await (*lease)->exec("SELECT pg_notify('govmail_mailbox', '0:0:0')");
    }
    timer.expires_after(std::chrono::milliseconds(20));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  if (!subs.listening()) spdlog::warn("store: notification listener not ready yet");
}

}  // namespace

struct Database::Impl {
  Executor ex;
  std::shared_ptr<pg::Pool> pool;
  std::string origin = random_origin();
  std::shared_ptr<Subscribers> subs = std::make_shared<Subscribers>(origin);
  std::shared_ptr<ChangeNotifier> notifier;
  std::shared_ptr<pg::Listener> listener;
  std::shared_ptr<core::WorkerPool> workers;
  std::unique_ptr<PgDirectory> directory;
  std::unique_ptr<PgMailboxStore> mailboxes;
  std::unique_ptr<PgAdminStore> admin;
  std::unique_ptr<PgOutboundQueue> outbound;
  std::unique_ptr<PgMtaStsCache> mta_sts;
  std::unique_ptr<PgMailStore> mail;
  std::unique_ptr<PgJmapStore> jmap;
  std::unique_ptr<PgSearchQueue> search_queue;
  std::unique_ptr<ReleaseSweeper> sweeper;
  std::shared_ptr<LoginAuditWriter> login_audit;  // protocol logins (store/login_audit.hpp)
  bool closed = false;
  // Last login recorded by this process, per account: the query is skipped within kLoginNote.
  std::mutex login_mutex;
  std::unordered_map<AccountId, std::chrono::steady_clock::time_point> login_noted;
};

namespace {
// `account unused` counts days; a client that logs in every few seconds (phones, bench/imap)
// must not cost a statement each time.
constexpr auto kLoginNote = std::chrono::minutes(10);
}  // namespace

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() {
  close();
}

int Database::binary_schema_version() {
  return binary_version();
}

awaitable<Result<std::shared_ptr<Database>>> Database::open(Executor ex, DatabaseOptions opts) {
  auto impl = std::make_unique<Impl>();
  impl->ex = ex;
  impl->pool =
      pg::Pool::create(ex, {opts.url, opts.pool_size, opts.acquire_timeout, session_setup(opts)});
  if (auto m = co_await migrate(*impl->pool, opts.apply_migrations); !m) {
    impl->pool->close();
    co_return unexpected(m.error());
  }
  std::weak_ptr<Subscribers> weak = impl->subs;
  impl->listener = pg::Listener::start(
      ex, opts.url, {kMailboxChannel, kAccountChannel},
      [weak](const pg::Connection::Notification& n) {
        if (auto s = weak.lock()) s->dispatch(n);
      },
      [weak] {
        if (auto s = weak.lock()) s->all_missed();
      });
  co_await wait_listening(*impl->pool, *impl->subs, ex);
  // Big parses leave the io threads; a small backlog, since each waiter holds a message.
  impl->workers = std::make_shared<core::WorkerPool>(2, 64);
  impl->directory = std::make_unique<PgDirectory>(impl->pool);
  std::weak_ptr<Subscribers> local = impl->subs;
  impl->notifier = std::make_shared<ChangeNotifier>(ex, impl->pool, impl->origin,
                                                    [local](const MailboxEvent& ev) {
                                                      if (auto s = local.lock())
                                                        s->notify_mailbox(ev);
                                                    });
  impl->mailboxes = std::make_unique<PgMailboxStore>(
      impl->pool, impl->workers, impl->notifier, opts.delivery_batch_max, opts.durable_flag_changes,
      std::move(opts.ingest_forms));
  impl->admin = std::make_unique<PgAdminStore>(impl->pool);
  impl->outbound = std::make_unique<PgOutboundQueue>(impl->pool);
  impl->mta_sts = std::make_unique<PgMtaStsCache>(impl->pool);
  impl->mail = std::make_unique<PgMailStore>(impl->pool);
  impl->jmap = std::make_unique<PgJmapStore>(impl->pool);
  impl->search_queue = std::make_unique<PgSearchQueue>(impl->pool);
  SweepOptions sweep;
  sweep.change_log_keep = opts.change_log_keep;
  impl->sweeper = std::make_unique<ReleaseSweeper>(ex, impl->pool, sweep);
  impl->sweeper->start();
  impl->login_audit = std::make_shared<LoginAuditWriter>(ex, impl->pool, opts.login_audit_flush,
                                                         opts.login_audit_queue_max);
  impl->login_audit->start();
  impl->admin->set_login_audit(impl->login_audit);
  co_return std::make_shared<Database>(std::move(impl));
}

Directory& Database::directory() {
  return *impl_->directory;
}
MailboxStore& Database::mailboxes() {
  return *impl_->mailboxes;
}
AdminStore& Database::admin() {
  return *impl_->admin;
}
OutboundQueue& Database::outbound() {
  return *impl_->outbound;
}

MtaStsCache& Database::mta_sts() {
  return *impl_->mta_sts;
}

MailStore& Database::mail() {
  return *impl_->mail;
}

JmapStore& Database::jmap() {
  return *impl_->jmap;
}

Subscription Database::subscribe_account_mailboxes(AccountId account,
                                                   std::function<void(const MailboxEvent&)> fn) {
  auto token = impl_->subs->add_account_mailboxes(account, std::move(fn));
  std::weak_ptr<Subscribers> weak = impl_->subs;
  return Subscription([weak, account, token] {
    if (auto s = weak.lock()) s->remove_account_mailboxes(account, token);
  });
}

SearchQueue& Database::search_queue() {
  return *impl_->search_queue;
}

Subscription Database::subscribe_mailbox(MailboxId mailbox,
                                         std::function<void(const MailboxEvent&)> fn) {
  auto token = impl_->subs->add_mailbox(mailbox, std::move(fn));
  std::weak_ptr<Subscribers> weak = impl_->subs;
  return Subscription([weak, mailbox, token] {
    if (auto s = weak.lock()) s->remove_mailbox(mailbox, token);
  });
}

Subscription Database::subscribe_account_changes(std::function<void(const AccountChange&)> fn) {
  auto token = impl_->subs->add_account(std::move(fn));
  std::weak_ptr<Subscribers> weak = impl_->subs;
  return Subscription([weak, token] {
    if (auto s = weak.lock()) s->remove_account(token);
  });
}

void Database::note_login(AccountId account) {
  if (impl_->closed) return;
  {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(impl_->login_mutex);
    auto [it, fresh] = impl_->login_noted.try_emplace(account, now);
    if (!fresh && now - it->second < kLoginNote) return;
    it->second = now;
  }
  asio::co_spawn(
      impl_->ex,
      [pool = impl_->pool, account]() -> awaitable<void> {
        PgAdminStore admin(pool);  // owns nothing but the pool, which the capture keeps alive
        if (auto r = co_await admin.record_login(account); !r)
          spdlog::warn("store: last login of account {} not recorded: {}", account,
                       to_string(r.error()));
      },
      core::LogExit("store: last login record"));
}

awaitable<Result<int>> Database::schema_version() {
  auto lease = co_await impl_->pool->acquire();
  if (!lease) co_return unexpected(detail::map_error(lease.error(), "schema version"));
  co_return co_await current_version(**lease);
}

void Database::close() {
  if (!impl_ || impl_->closed) return;
  impl_->closed = true;
  if (impl_->notifier) impl_->notifier->stop();
  if (impl_->sweeper) impl_->sweeper->stop();
  if (impl_->login_audit) impl_->login_audit->stop();
  if (impl_->listener) impl_->listener->stop();
  if (impl_->pool) impl_->pool->close();
}

}  // namespace govmail::store
