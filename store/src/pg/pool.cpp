// Bounded connection pool with FIFO waiters, and the transaction helper.
// The io_context may run on several threads: pool state sits behind one mutex and waiters are
// resumed by posting their coroutine's handler to its own executor (never resumed inline).
#include <libpq-fe.h>

#include <deque>
#include <mutex>
#include <random>

#include "core/asio.hpp"
#include "pg/pg.hpp"

namespace govmail::store::pg {
namespace {

using Clock = std::chrono::steady_clock;

// A suspended acquire(): its coroutine handler, type-erased (handlers are move-only).
struct Wake {
  virtual ~Wake() = default;
  virtual void post(const Executor& fallback) = 0;
};
template <class Handler>
struct WakeImpl : Wake {
  explicit WakeImpl(Handler h) : handler(std::move(h)) {}
  void post(const Executor& fallback) override {
    auto ex = asio::get_associated_executor(handler, fallback);
    asio::post(ex, std::move(handler));
  }
  Handler handler;
};

enum class Grant { pending, connection, slot, timeout, closed };

struct Waiter {
  explicit Waiter(Executor ex) : timer(std::move(ex)) {}
  asio::steady_timer timer;
  Grant grant = Grant::pending;
  std::unique_ptr<Connection> conn;  // with Grant::connection
  std::unique_ptr<Wake> wake;        // set while queued
};

}  // namespace

struct Pool::Impl {
  Impl(Executor e, Options o) : ex(std::move(e)), opts(std::move(o)) {}

  Executor ex;
  Options opts;
  mutable std::mutex mu;
  std::vector<std::unique_ptr<Connection>> idle;  // most recently used last
  std::size_t open = 0;                           // idle + leased + being opened
  std::deque<std::shared_ptr<Waiter>> waiters;    // FIFO
  bool closed = false;

  // Under mu: an idle connection, else a slot to open one, else pending.
  void try_take_locked(Waiter& w) {
    if (closed) {
      w.grant = Grant::closed;
    } else if (!idle.empty()) {
      w.conn = std::move(idle.back());
      idle.pop_back();
      w.grant = Grant::connection;
    } else if (open < opts.max_size) {
      ++open;
      w.grant = Grant::slot;
    }
  }

  // Under mu: completes a queued waiter with `g`.
  void wake_locked(Waiter& w, Grant g, std::unique_ptr<Connection> conn = {}) {
    w.grant = g;
    w.conn = std::move(conn);
    w.timer.cancel();
    auto wake = std::move(w.wake);
    wake->post(ex);
  }

  // A slot (with its connection, or without one to open) comes back from a user.
  std::unique_ptr<Connection> give_back(std::unique_ptr<Connection> conn) {
    std::lock_guard lock(mu);
    if (closed) {
      --open;
      return conn;  // destroyed by the caller, outside the lock
    }
    if (!waiters.empty()) {
      auto w = std::move(waiters.front());
      waiters.pop_front();
      if (conn)
        wake_locked(*w, Grant::connection, std::move(conn));
      else
        wake_locked(*w, Grant::slot);
      return {};
    }
    if (conn)
      idle.push_back(std::move(conn));
    else
      --open;
    return {};
  }

  PgError timeout_error() const {
    return PgError{"", "pool: timed out waiting for a connection (database.pool_size=" +
                           std::to_string(opts.max_size) + ")"};
  }
};

namespace {

// Suspends until `w` is granted something; decided under the pool lock inside the initiation,
// so a release between "nothing free" and "queued" cannot be missed.
template <class Token>
auto async_wait_grant(std::shared_ptr<Pool> pool, Pool::Impl& p, std::shared_ptr<Waiter> w,
                      Clock::time_point deadline, Token&& token) {
  return asio::async_initiate<Token, void()>(
      [pool, &p, w, deadline](auto handler) {
        std::lock_guard lock(p.mu);
        w->wake = std::make_unique<WakeImpl<decltype(handler)>>(std::move(handler));
        p.try_take_locked(*w);
        if (w->grant != Grant::pending) {
          auto wake = std::move(w->wake);
          wake->post(p.ex);
          return;
        }
        p.waiters.push_back(w);
        w->timer.expires_at(deadline);
        w->timer.async_wait([pool, &p, w](boost::system::error_code) {
          std::lock_guard lock(p.mu);
          if (!w->wake) return;  // granted (the cancel raced with expiry)
          std::erase(p.waiters, w);
          p.wake_locked(*w, Grant::timeout);
        });
      },
      token);
}

}  // namespace

Pool::Pool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Pool::~Pool() {
  close();
}

std::shared_ptr<Pool> Pool::create(Executor ex, Options opts) {
  if (opts.max_size == 0) opts.max_size = 1;
  return std::make_shared<Pool>(std::make_unique<Impl>(std::move(ex), std::move(opts)));
}

const std::string& Pool::session_setup() const {
  return impl_->opts.session_setup;
}

std::size_t Pool::open_connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->open;
}

void Pool::close() {
  std::vector<std::unique_ptr<Connection>> drop;
  std::lock_guard lock(impl_->mu);
  auto& p = *impl_;
  p.closed = true;
  p.open -= p.idle.size();
  drop.swap(p.idle);
  for (auto& w : p.waiters) p.wake_locked(*w, Grant::closed);
  p.waiters.clear();
}  // `drop` is destroyed after the lock is released (declared first)

awaitable<PgResultOr<Lease>> Pool::acquire() {
  auto self = shared_from_this();
  auto& p = *impl_;
  auto w = std::make_shared<Waiter>(p.ex);
  {
    std::lock_guard lock(p.mu);
    p.try_take_locked(*w);
  }
  if (w->grant == Grant::pending)
    co_await async_wait_grant(self, p, w, Clock::now() + p.opts.acquire_timeout, use_awaitable);
  switch (w->grant) {
    case Grant::timeout:
      co_return unexpected(p.timeout_error());
    case Grant::closed:
    case Grant::pending:
      co_return unexpected(PgError{"", "pool: closed"});
    case Grant::connection:
      // The server may have closed it while idle (restart, pg_terminate_backend): replace it.
      if (w->conn->check_alive()) co_return Lease(self, std::move(w->conn));
      w->conn.reset();
      [[fallthrough]];
    case Grant::slot:
      break;
  }
  auto c = co_await Connection::connect(p.ex, p.opts.conninfo);
  if (c) {
    // Generic plans only: a prepared statement with array parameters (UID ranges) was otherwise
    // planned again at every execution, the custom plan always looking cheaper (bench/imap:
    // planning cost more than executing, ~1.8 ms of PostgreSQL CPU per IMAP cycle). Every
    // statement is written for its generic plan; plpgsql functions already force it.
    std::string setup = "SET plan_cache_mode = force_generic_plan";
    if (!p.opts.session_setup.empty()) setup += "; " + p.opts.session_setup;
    auto set = co_await (*c)->exec(setup);
    if (!set) c = unexpected(set.error());
  }
  if (!c) {
    p.give_back(nullptr);
    co_return unexpected(c.error());
  }
  co_return Lease(self, std::move(*c));
}

void Pool::release(std::unique_ptr<Connection> conn) {
  // Broken, or a transaction left open (its user failed midway): never hand it to someone else.
  if (conn && !conn->reusable()) conn.reset();
  auto drop = impl_->give_back(std::move(conn));
}

// ---- Lease ---------------------------------------------------------------------------------

Lease::Lease(std::shared_ptr<Pool> pool, std::unique_ptr<Connection> conn)
    : pool_(std::move(pool)), conn_(std::move(conn)) {}
Lease::Lease(Lease&& o) noexcept = default;
Lease& Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    if (pool_ && conn_) pool_->release(std::move(conn_));
    pool_ = std::move(o.pool_);
    conn_ = std::move(o.conn_);
  }
  return *this;
}
Lease::~Lease() {
  if (pool_ && conn_) pool_->release(std::move(conn_));
}

// ---- transaction ---------------------------------------------------------------------------

namespace {

bool is_conflict(const PgError& e) {
  return e.sqlstate == "40001" || e.sqlstate == "40P01";
}

struct Attempt {
  PgResultOr<void> result;
  bool retry = false;
};

Attempt fail(PgError e, bool retry) {
  return {unexpected(std::move(e)), retry};
}

awaitable<Attempt> run_once(Connection& c, const TxBody<void>& body) {
  if (auto b = co_await c.exec("BEGIN"); !b) co_return fail(b.error(), b.error().connection_lost);
  auto r = co_await body(c);
  if (r && PQtransactionStatus(c.raw()) == PQTRANS_INERROR)
    r = unexpected(PgError{"25P02", "transaction aborted by an error the body ignored"});
  if (!r) {
    if (c.healthy()) (void)co_await c.exec("ROLLBACK");
    co_return fail(r.error(), is_conflict(r.error()) || r.error().connection_lost);
  }
  // From here the COMMIT may have been applied even if we never hear back: a lost connection is
  // returned, never retried. A conflict reported by the server means it rolled back: retry.
  auto commit = co_await c.exec("COMMIT");
  if (!commit)
    co_return fail(commit.error(), !commit.error().connection_lost && is_conflict(commit.error()));
  co_return Attempt{{}, false};
}

awaitable<void> back_off(int attempt) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  auto ms = std::uniform_int_distribution<int>(1, 5 * attempt)(rng);
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
}

}  // namespace

awaitable<PgResultOr<void>> transaction(Pool& pool, TxBody<void> body, int attempts) {
  PgError last{"", "transaction: no attempt made"};
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) co_await back_off(attempt);
    auto lease = co_await pool.acquire();
    if (!lease) co_return unexpected(lease.error());
    auto a = co_await run_once(**lease, body);
    if (a.result) co_return PgResultOr<void>{};
    if (!a.retry) co_return a.result;
    last = a.result.error();
  }
  co_return unexpected(std::move(last));
}

}  // namespace govmail::store::pg
