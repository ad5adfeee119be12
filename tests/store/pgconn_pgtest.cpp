// The async libpq layer (store/src/pg) against a real PostgreSQL.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/asio.hpp"
#include "pg/pg.hpp"
#include "test_db.hpp"

namespace govmail::store::pg {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// gtest's ASSERT_* `return`; coroutines must `co_return`.
#define CO_ASSERT(cond)                          \
  if (!(cond)) {                                 \
    ADD_FAILURE() << "assertion failed: " #cond; \
    co_return;                                   \
  }
#define CO_ASSERT_OK(r)                                                                            \
  if (!(r)) {                                                                                      \
    ADD_FAILURE() << #r " failed: " << (r).error().message << " (" << (r).error().sqlstate << ")"; \
    co_return;                                                                                     \
  }

// Runs one coroutine on a fresh single-threaded io_context until everything on it is done.
template <class F>
void run(F&& f) {
  asio::io_context io;
  bool finished = false;
  asio::co_spawn(io, std::forward<F>(f)(io), [&](std::exception_ptr e) {
    finished = true;
    if (e) std::rethrow_exception(e);
  });
  io.run_for(60s);
  EXPECT_TRUE(finished) << "coroutine did not finish within 60 s";
}

awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(use_awaitable);
}

class PgConn : public ::testing::Test {
 protected:
  test::TestDatabase db;
};

TEST_F(PgConn, ConnectAcceptsConninfoAndUrlAndReportsFailure) {
  run([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await Connection::connect(io.get_executor(), db.url());
    CO_ASSERT_OK(c);
    auto r = co_await (*c)->exec("SELECT current_database()");
    CO_ASSERT_OK(r);
    std::string dbname(r->get(0, 0));
    EXPECT_EQ(dbname.rfind("govmail_t_", 0), 0u);

    // The same database as a postgresql:// URL (socket directory as the host parameter).
    std::string host = db.url().substr(5, db.url().find(' ') - 5);
    std::string port = db.url().substr(db.url().find("port=") + 5);
    port = port.substr(0, port.find(' '));
    auto url = "postgresql://postgres@/" + dbname + "?host=" + host + "&port=" + port;
    auto u = co_await Connection::connect(io.get_executor(), url);
    CO_ASSERT_OK(u);
    auto r2 = co_await (*u)->exec("SELECT current_database()");
    CO_ASSERT_OK(r2);
    EXPECT_EQ(r2->get(0, 0), dbname);

    auto bad = co_await Connection::connect(io.get_executor(), db.url() + " port=1");
    CO_ASSERT(!bad);
    EXPECT_TRUE(bad.error().connection_lost);
    EXPECT_FALSE(bad.error().message.empty());
  });
}

TEST_F(PgConn, ParamsNullTextAndBinaryByteaRoundTrip) {
  db.exec("CREATE TABLE t (id int PRIMARY KEY, s text, b bytea)");
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  run([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await Connection::connect(io.get_executor(), db.url());
    CO_ASSERT_OK(c);
    Connection& conn = **c;
    std::string quote = "it's \"quoted\" ; -- Nguyễn";
    std::vector<Param> p1{Param::text("1"), Param::text(quote), Param::bytes(all)};
    auto ins = co_await conn.exec("INSERT INTO t VALUES ($1, $2, $3)", p1);
    CO_ASSERT_OK(ins);
    EXPECT_EQ(ins->affected(), 1);
    std::vector<Param> p2{Param::text("2"), Param::null(), Param::null()};
    CO_ASSERT_OK(co_await conn.exec("INSERT INTO t VALUES ($1, $2, $3)", p2));

    auto r = co_await conn.exec("SELECT id, s, b, length(b) FROM t ORDER BY id");
    CO_ASSERT_OK(r);
    CO_ASSERT(r->size() == 2);
    EXPECT_EQ(r->columns(), 4);
    EXPECT_EQ(r->get_int(0, 0), 1);
    EXPECT_EQ(r->get(0, 1), quote);
    EXPECT_EQ(r->get_bytea(0, 2), all);
    EXPECT_EQ(r->get_int(0, 3), 256);  // the server saw 256 bytes, not an escaped form
    EXPECT_TRUE(r->is_null(1, 1));
    EXPECT_TRUE(r->is_null(1, 2));
    EXPECT_FALSE(r->is_null(0, 1));

    std::vector<Param> p3{Param::bytes(all)};
    auto md5 =
        co_await conn.exec("SELECT md5($1::bytea) = md5(b), $1::bytea = b FROM t WHERE id = 1", p3);
    CO_ASSERT_OK(md5);
    EXPECT_TRUE(md5->get_bool(0, 0));
    EXPECT_TRUE(md5->get_bool(0, 1));

    auto bad = co_await conn.exec("SELECT * FROM no_such_table");
    CO_ASSERT(!bad);
    EXPECT_EQ(bad.error().sqlstate, "42P01");
    EXPECT_FALSE(bad.error().connection_lost);
    EXPECT_TRUE(conn.reusable());
  });
}

TEST_F(PgConn, PreparedStatementIsPreparedOncePerConnection) {
  static constexpr Statement kAdd{"test_add", "SELECT $1::int + $2::int"};
  run([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await Connection::connect(io.get_executor(), db.url());
    CO_ASSERT_OK(c);
    for (int i = 0; i < 5; ++i) {
      std::string a = std::to_string(i);
      std::vector<Param> p{Param::text(a), Param::text("10")};
      auto r = co_await (*c)->exec(kAdd, p);
      CO_ASSERT_OK(r);
      EXPECT_EQ(r->get_int(0, 0), i + 10);
    }
    auto n =
        co_await (*c)->exec("SELECT count(*) FROM pg_prepared_statements WHERE name = 'test_add'");
    CO_ASSERT_OK(n);
    EXPECT_EQ(n->get_int(0, 0), 1);

    // A statement that fails to prepare is reported and not remembered as prepared.
    static constexpr Statement kBad{"test_bad", "SELECT * FROM missing"};
    auto b1 = co_await (*c)->exec(kBad);
    CO_ASSERT(!b1);
    EXPECT_EQ(b1.error().sqlstate, "42P01");
    db.exec("CREATE TABLE missing (x int)");
    auto b2 = co_await (*c)->exec(kBad);
    CO_ASSERT_OK(b2);
  });
}

TEST_F(PgConn, PipelineOfThousandInsertsAndErrorMidPipeline) {
  db.exec("CREATE TABLE p (id int PRIMARY KEY, v text)");
  static constexpr Statement kIns{"p_ins", "INSERT INTO p VALUES ($1, $2) RETURNING id"};
  run([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await Connection::connect(io.get_executor(), db.url());
    CO_ASSERT_OK(c);
    std::vector<std::string> ids, vals;  // Params are views: keep their storage alive
    for (int i = 0; i < 1000; ++i) {
      ids.push_back(std::to_string(i));
      vals.push_back("v" + ids.back());
    }
    std::vector<std::pair<const Statement*, std::vector<Param>>> batch;
    for (int i = 0; i < 1000; ++i)
      batch.push_back({&kIns, {Param::text(ids[i]), Param::text(vals[i])}});
    auto r = co_await (*c)->pipeline(batch);
    CO_ASSERT_OK(r);
    CO_ASSERT(r->size() == 1000u);
    EXPECT_EQ((*r)[999].get_int(0, 0), 999);
    auto n = co_await (*c)->exec("SELECT count(*), sum(id) FROM p");
    CO_ASSERT_OK(n);
    EXPECT_EQ(n->get_int(0, 0), 1000);
    EXPECT_EQ(n->get_int(0, 1), 999 * 1000 / 2);
    EXPECT_EQ(db.query_one("SELECT v FROM p WHERE id = 777"), "v777");

    // Error in the middle: duplicate key. Everything up to the sync is one implicit
    // transaction, so nothing of this batch stays; the connection stays usable.
    std::vector<std::pair<const Statement*, std::vector<Param>>> bad{
        {&kIns, {Param::text("2000"), Param::text("a")}},
        {&kIns, {Param::text("5"), Param::text("dup")}},
        {&kIns, {Param::text("2001"), Param::text("b")}}};
    auto e = co_await (*c)->pipeline(bad);
    CO_ASSERT(!e);
    EXPECT_EQ(e.error().sqlstate, "23505");
    EXPECT_TRUE((*c)->reusable());
    auto after = co_await (*c)->exec("SELECT count(*) FROM p WHERE id >= 2000");
    CO_ASSERT_OK(after);
    EXPECT_EQ(after->get_int(0, 0), 0);
    // And pipelining again on the same connection works (statement already prepared).
    std::vector<std::pair<const Statement*, std::vector<Param>>> again{
        {&kIns, {Param::text("3000"), Param::text("c")}}};
    auto ok = co_await (*c)->pipeline(again);
    CO_ASSERT_OK(ok);
    EXPECT_EQ((*ok)[0].get_int(0, 0), 3000);
  });
}

TEST_F(PgConn, SlowQueryDoesNotBlockTheIoContext) {
  run([&](asio::io_context& io) -> awaitable<void> {
    auto c = co_await Connection::connect(io.get_executor(), db.url());
    CO_ASSERT_OK(c);
    auto start = Clock::now();
    Clock::time_point timer_done{}, query_done{};
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          co_await sleep_for(50ms);
          timer_done = Clock::now();
        },
        asio::detached);
    auto r = co_await (*c)->exec("SELECT pg_sleep(0.3)");
    query_done = Clock::now();
    CO_ASSERT_OK(r);
    CO_ASSERT(timer_done != Clock::time_point{});
    EXPECT_LT(timer_done, query_done);
    EXPECT_LT(timer_done - start, 250ms);
    EXPECT_GE(query_done - start, 300ms);
  });
}

TEST_F(PgConn, PoolNeverOpensMoreThanMaxSize) {
  run([&](asio::io_context& io) -> awaitable<void> {
    auto pool = Pool::create(io.get_executor(), {db.url(), 4, 10s, {}});
    std::size_t max_open = 0;
    std::int64_t max_server = 0;
    int done = 0, failed = 0;
    for (int i = 0; i < 50; ++i) {
      asio::co_spawn(
          io,
          [&]() -> awaitable<void> {
            auto lease = co_await pool->acquire();
            if (!lease) {
              ++failed;
              co_return;
            }
            max_open = std::max(max_open, pool->open_connections());
            auto r = co_await (*lease)->exec(
                "SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = "
                "current_database() AND backend_type = 'client backend'), pg_sleep(0.01)");
            if (!r) {
              ++failed;
              co_return;
            }
            max_server = std::max(max_server, r->get_int(0, 0));
            ++done;
          },
          asio::detached);
    }
    while (done + failed < 50) co_await sleep_for(10ms);
    EXPECT_EQ(failed, 0);
    EXPECT_EQ(done, 50);
    EXPECT_LE(max_open, 4u);
    EXPECT_GE(max_open, 2u);  // it did run queries concurrently
    EXPECT_LE(max_server, 4);
    EXPECT_EQ(pool->open_connections(), 4u);
  });
}

// A statement with array parameters keeps its one generic plan: with custom plans it was planned
// again at every execution (planning cost more than running it).
TEST_F(PgConn, PoolConnectionsPlanStatementsOnce) {
  run([&](asio::io_context& io) -> awaitable<void> {
    auto pool = Pool::create(io.get_executor(), {db.url(), 1, 10s, {}});
    auto lease = co_await pool->acquire();
    CO_ASSERT_OK(lease);
    auto mode = co_await (*lease)->exec("SHOW plan_cache_mode");
    CO_ASSERT_OK(mode);
    EXPECT_EQ(mode->get(0, 0), "force_generic_plan");
    static constexpr Statement kRanges{
        "t_ranges",
        "SELECT count(*) FROM generate_series(1, 100) g JOIN unnest($1::bigint[],"
        " $2::bigint[]) r(f, l) ON g BETWEEN r.f AND r.l"};
    for (int i = 1; i <= 8; ++i) {
      const std::string first = "{" + std::to_string(i) + "}",
                        last = "{" + std::to_string(i * 2) + "}";
      const Param params[] = {Param::text(first), Param::text(last)};
      auto rows = co_await (*lease)->exec(kRanges, params);
      CO_ASSERT_OK(rows);
      EXPECT_EQ(rows->get_int(0, 0), i + 1);
    }
    auto plans = co_await (*lease)->exec(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 't_ranges'");
    CO_ASSERT_OK(plans);
    EXPECT_EQ(plans->get_int(0, 1), 0);  // never a custom plan
    EXPECT_EQ(plans->get_int(0, 0), 8);  // the generic one, every time
  });
}

// Issue 11: a lock held by another session, or a query that never ends, must give the pool
// connection back with an error (55P03, 57014) instead of holding it, and the connection stays
// usable. Keepalives are on by default and the configured conninfo still wins.
TEST_F(PgConn, PoolSessionSetupTurnsLockWaitsAndLongQueriesIntoErrors) {
  db.exec("CREATE TABLE locked (n int)");
  run([&](asio::io_context& io) -> awaitable<void> {
    auto pool =
        Pool::create(io.get_executor(),
                     {db.url(), 1, 5s, "SET lock_timeout = 200; SET statement_timeout = 700"});
    auto other = co_await Connection::connect(io.get_executor(), db.url());
    CO_ASSERT_OK(other);
    auto held = co_await (*other)->exec("BEGIN; LOCK TABLE locked IN ACCESS EXCLUSIVE MODE");
    CO_ASSERT_OK(held);
    auto lease = co_await pool->acquire();
    CO_ASSERT_OK(lease);
    auto start = Clock::now();
    auto r = co_await (*lease)->exec("SELECT count(*) FROM locked");
    CO_ASSERT(!r);
    EXPECT_EQ(r.error().sqlstate, "55P03") << r.error().message;
    EXPECT_FALSE(r.error().connection_lost);
    EXPECT_LT(Clock::now() - start, 2s);
    start = Clock::now();
    r = co_await (*lease)->exec("SELECT pg_sleep(30)");
    CO_ASSERT(!r);
    EXPECT_EQ(r.error().sqlstate, "57014") << r.error().message;
    EXPECT_LT(Clock::now() - start, 3s);
    EXPECT_TRUE((*lease)->reusable());
    (void)co_await (*other)->exec("ROLLBACK");
    r = co_await (*lease)->exec("SELECT count(*) FROM locked");
    CO_ASSERT_OK(r);
    auto plan = co_await (*lease)->exec("SHOW plan_cache_mode");
    CO_ASSERT_OK(plan);
    EXPECT_EQ(plan->get(0, 0), "force_generic_plan");  // the pool's own setting still there

    // Connection defaults: keepalives on; a conninfo value overrides a default.
    auto c = co_await Connection::connect(io.get_executor(), db.url() + " keepalives_idle=77");
    CO_ASSERT_OK(c);
    const auto option = [](pg_conn* conn, std::string_view key) {
      std::string out;
      PQconninfoOption* opts = PQconninfo(conn);
      for (auto* o = opts; o && o->keyword; ++o)
        if (key == o->keyword && o->val) out = o->val;
      PQconninfoFree(opts);
      return out;
    };
    EXPECT_EQ(option((*c)->raw(), "keepalives"), "1");
    EXPECT_EQ(option((*c)->raw(), "keepalives_idle"), "77");
    EXPECT_EQ(option((*c)->raw(), "tcp_user_timeout"), "30000");
  });
}

TEST_F(PgConn, PoolAcquireTimesOut) {
  run([&](asio::io_context& io) -> awaitable<void> {
    auto pool = Pool::create(io.get_executor(), {db.url(), 1, 150ms, {}});
    auto held = co_await pool->acquire();
    CO_ASSERT_OK(held);
    auto start = Clock::now();
    auto second = co_await pool->acquire();
    auto waited = Clock::now() - start;
    CO_ASSERT(!second);
    EXPECT_NE(second.error().message.find("timed out"), std::string::npos);
    EXPECT_NE(second.error().message.find("database.pool_size=1"), std::string::npos);
    EXPECT_GE(waited, 150ms);
    EXPECT_LT(waited, 2s);
    // A waiter is served as soon as the holder releases.
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          co_await sleep_for(50ms);
          held = Lease{};
        },
        asio::detached);
    auto third = co_await pool->acquire();
    CO_ASSERT_OK(third);
    EXPECT_EQ(pool->open_connections(), 1u);
  });
}

TEST_F(PgConn, PoolAndTransactionsOnAMultiThreadedIoContext) {
  db.exec("CREATE TABLE counter (n int); INSERT INTO counter VALUES (0)");
  asio::io_context io;
  auto pool = Pool::create(io.get_executor(), {db.url(), 4, 20s, {}});
  std::atomic<int> ok{0}, failed{0};
  std::atomic<std::size_t> max_open{0};
  for (int i = 0; i < 200; ++i) {
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          auto r = co_await transaction(*pool, [&](Connection& c) -> awaitable<PgResultOr<void>> {
            std::size_t open = pool->open_connections(), seen = max_open.load();
            while (open > seen && !max_open.compare_exchange_weak(seen, open)) {
            }
            auto u = co_await c.exec("UPDATE counter SET n = n + 1");
            if (!u) co_return unexpected(u.error());
            co_return PgResultOr<void>{};
          });
          (r ? ok : failed)++;
        },
        asio::detached);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&] { io.run(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_LE(max_open.load(), 4u);
  EXPECT_EQ(db.query_one("SELECT n FROM counter"), "200");
}

// Counts only the given backends: the test's own short-lived query connections may still be
// listed while they exit, so counting every client backend of the database raced with them.
std::int64_t count_backends(const test::TestDatabase& db, const std::vector<std::string>& pids) {
  std::string list;
  for (const auto& pid : pids) list += (list.empty() ? "" : ",") + std::to_string(std::stoll(pid));
  return std::stoll(db.query_one("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY('{" + list +
                                 "}'::int[])"));
}

void terminate(const test::TestDatabase& db, const std::vector<std::string>& pids) {
  for (const auto& pid : pids)
    db.exec("SELECT pg_terminate_backend(" + std::to_string(std::stoll(pid)) + ")");
  for (int i = 0; i < 200 && count_backends(db, pids) > 0; ++i)
    std::this_thread::sleep_for(10ms);  // test-side only
}

TEST_F(PgConn, PoolReplacesConnectionsTheServerTerminated) {
  run([&](asio::io_context& io) -> awaitable<void> {
    auto pool = Pool::create(io.get_executor(), {db.url(), 3, 5s, {}});
    std::vector<std::string> before;
    {
      std::vector<Lease> leases;
      for (int i = 0; i < 3; ++i) {
        auto l = co_await pool->acquire();
        CO_ASSERT_OK(l);
        auto r = co_await (*l)->exec("SELECT pg_backend_pid()");
        CO_ASSERT_OK(r);
        before.emplace_back(r->get(0, 0));
        leases.push_back(std::move(*l));
      }
    }
    EXPECT_EQ(pool->open_connections(), 3u);
    terminate(db, before);
    EXPECT_EQ(count_backends(db, before), 0);
    for (int i = 0; i < 10; ++i) {
      auto l = co_await pool->acquire();
      CO_ASSERT_OK(l);
      auto r = co_await (*l)->exec("SELECT pg_backend_pid()");
      CO_ASSERT_OK(r);
      EXPECT_EQ(std::find(before.begin(), before.end(), r->get(0, 0)), before.end());
    }
    EXPECT_LE(pool->open_connections(), 3u);
  });
}

TEST_F(PgConn, TransactionRollsBackOnError) {
  db.exec("CREATE TABLE tx (v int)");
  run([&](asio::io_context& io) -> awaitable<void> {
    auto pool = Pool::create(io.get_executor(), {db.url(), 2, 5s, {}});
    int calls = 0;
    auto r = co_await transaction(*pool, [&](Connection& c) -> awaitable<PgResultOr<void>> {
      ++calls;
      if (auto i = co_await c.exec("INSERT INTO tx VALUES (1)"); !i)
        co_return unexpected(i.error());
      co_return unexpected(PgError{"", "body gave up"});
    });
    CO_ASSERT(!r);
    EXPECT_EQ(r.error().message, "body gave up");
    EXPECT_EQ(calls, 1);  // not a retryable error
    // A body that swallowed a SQL error must not commit.
    auto r2 = co_await transaction(*pool, [&](Connection& c) -> awaitable<PgResultOr<void>> {
      (void)co_await c.exec("INSERT INTO tx VALUES (2)");
      (void)co_await c.exec("SELECT 1/0");
      co_return PgResultOr<void>{};
    });
    CO_ASSERT(!r2);
    // The leased connections came back clean (no transaction left open).
    auto l = co_await pool->acquire();
    CO_ASSERT_OK(l);
    EXPECT_TRUE((*l)->reusable());
  });
  EXPECT_EQ(db.query_one("SELECT count(*) FROM tx"), "0");
}

TEST_F(PgConn, TransactionRetriesSerializationFailureAndLostConnection) {
  db.exec("CREATE TABLE tx (v int)");
  run([&](asio::io_context& io) -> awaitable<void> {
    auto pool = Pool::create(io.get_executor(), {db.url(), 2, 5s, {}});
    int calls = 0;
    auto r = co_await transaction(*pool, [&](Connection& c) -> awaitable<PgResultOr<void>> {
      ++calls;
      if (auto i = co_await c.exec("INSERT INTO tx VALUES (1)"); !i)
        co_return unexpected(i.error());
      if (calls == 1) {  // a real 40001 raised by the server
        auto e = co_await c.exec(
            "DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = 'serialization_failure'; END $$");
        if (!e) co_return unexpected(e.error());
      }
      co_return PgResultOr<void>{};
    });
    CO_ASSERT_OK(r);
    EXPECT_EQ(calls, 2);

    // The backend dies before COMMIT: retried on a fresh connection.
    calls = 0;
    auto r2 = co_await transaction(*pool, [&](Connection& c) -> awaitable<PgResultOr<void>> {
      ++calls;
      if (auto i = co_await c.exec("INSERT INTO tx VALUES (2)"); !i)
        co_return unexpected(i.error());
      if (calls == 1) {
        auto e = co_await c.exec("SELECT pg_terminate_backend(pg_backend_pid())");
        if (!e) co_return unexpected(e.error());
      }
      co_return PgResultOr<void>{};
    });
    CO_ASSERT_OK(r2);
    EXPECT_EQ(calls, 2);

    // Attempts are bounded.
    calls = 0;
    auto r3 = co_await transaction(
        *pool,
        [&](Connection&) -> awaitable<PgResultOr<void>> {
          ++calls;
          co_return unexpected(PgError{"40P01", "deadlock"});
        },
        3);
    CO_ASSERT(!r3);
    EXPECT_EQ(r3.error().sqlstate, "40P01");
    EXPECT_EQ(calls, 3);
  });
  EXPECT_EQ(db.query_one("SELECT string_agg(v::text, ',' ORDER BY v) FROM tx"), "1,2");
}

TEST_F(PgConn, ListenerReceivesNotificationsAndSurvivesTermination) {
  run([&](asio::io_context& io) -> awaitable<void> {
    std::vector<std::string> got;
    int reconnects = 0;
    auto listener = Listener::start(
        io.get_executor(), db.url(), {"Mail-Changes", "other"},
        [&](const Connection::Notification& n) { got.push_back(n.channel + ":" + n.payload); },
        [&] { ++reconnects; });
    auto pool = Pool::create(io.get_executor(), {db.url(), 1, 5s, {}});
    auto notify = [&](std::string payload) -> awaitable<bool> {
      auto l = co_await pool->acquire();
      if (!l) co_return false;
      std::vector<Param> p{Param::text(payload)};
      co_return (co_await (*l)->exec("SELECT pg_notify('Mail-Changes', $1)", p)).ok();
    };
    auto wait_for = [&](std::string want) -> awaitable<bool> {
      // Re-send until seen: the listener may not have issued LISTEN yet.
      for (int i = 0; i < 100; ++i) {
        if (std::find(got.begin(), got.end(), want) != got.end()) co_return true;
        if (i % 5 == 0 && !co_await notify(want.substr(want.find(':') + 1))) co_return false;
        co_await sleep_for(20ms);
      }
      co_return false;
    };
    CO_ASSERT(co_await wait_for("Mail-Changes:first"));
    EXPECT_EQ(reconnects, 0);

    db.exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
        "AND query LIKE 'LISTEN%'");
    for (int i = 0; i < 200 && reconnects == 0; ++i) co_await sleep_for(10ms);
    EXPECT_EQ(reconnects, 1);
    got.clear();
    // Sent once after the reconnect (LISTEN is done before on_reconnect runs).
    CO_ASSERT(co_await notify("after-restart"));
    for (int i = 0; i < 200 && got.empty(); ++i) co_await sleep_for(10ms);
    CO_ASSERT(got.size() == 1u);
    EXPECT_EQ(got[0], "Mail-Changes:after-restart");
    listener->stop();
    pool->close();
    // run() returns only if the listener's coroutine ended: stop() is clean.
  });
}

}  // namespace
}  // namespace govmail::store::pg
