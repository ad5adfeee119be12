// Async libpq on the io_context (private to store/). Non-blocking connections, a bounded pool,
// prepared statements, reconnect after a server restart, LISTEN/NOTIFY.
//
// Conventions:
// - Results are text format; bytea comes back in its text (hex) form, decoded by get_bytea.
// - A Connection serves one coroutine at a time; Pool and Listener are thread-safe.
// - exec(sql) without parameters uses the simple protocol (a script of several statements
//   works, the last result is returned); with parameters, the extended protocol.
// - Param values are views: their storage must outlive the co_await.
// - A FATAL from the server (57P01 ...) or a broken socket sets PgError::connection_lost; such a
//   connection is never reused by the pool.
// - libpq resolves host NAMES synchronously in PQconnectPoll: configure a socket directory or an
//   IP address (hostaddr=) for a strictly non-blocking connect; "localhost" resolves from
//   /etc/hosts. Connect is bounded at 10 s.
// - Over TCP, TCP keepalives and tcp_user_timeout are on by default (kNetworkDefaults in
//   connection.cpp; the conninfo may override each): a server or network that vanishes breaks
//   the connection within about a minute instead of leaving a query waiting forever.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "core/result.hpp"

struct pg_conn;
struct pg_result;

namespace govmail::store::pg {

struct PgError {
  std::string sqlstate;  // "" when the connection failed before a server answered
  std::string message;
  bool connection_lost = false;
};

template <class T>
using PgResultOr = govmail::Result<T, PgError>;

// One query parameter. Text format unless binary (bytea values are sent binary: no escaping).
struct Param {
  std::optional<std::string_view> value;  // nullopt = SQL NULL
  bool binary = false;

  static Param null() { return {}; }
  static Param text(std::string_view v) { return {v, false}; }
  static Param bytes(std::string_view v) { return {v, true}; }
};

// Owns a PGresult. Values are text format.
class Rows {
 public:
  Rows() = default;
  explicit Rows(pg_result* r);
  Rows(Rows&&) noexcept;
  Rows& operator=(Rows&&) noexcept;
  ~Rows();

  int size() const;
  int columns() const;
  bool is_null(int row, int col) const;
  std::string_view get(int row, int col) const;
  std::int64_t get_int(int row, int col) const;  // 0 for NULL
  bool get_bool(int row, int col) const;
  std::string get_bytea(int row, int col) const;  // decodes the text form of bytea
  std::int64_t affected() const;                   // PQcmdTuples

 private:
  pg_result* res_ = nullptr;
};

// A statement prepared once per connection, by name, on first use.
struct Statement {
  const char* name;
  const char* sql;
  // Every column in binary format: for bytea results (hex text doubles the bytes and costs an
  // encode in the server and a decode here). Rows::get_bytea reads both formats.
  bool binary_result = false;
};

class Connection {
 public:
  static awaitable<PgResultOr<std::unique_ptr<Connection>>> connect(Executor ex,
                                                                     std::string conninfo);
  ~Connection();

  awaitable<PgResultOr<Rows>> exec(std::string_view sql, std::span<const Param> params = {});
  awaitable<PgResultOr<Rows>> exec(const Statement& stmt, std::span<const Param> params = {});
  // Many statements in one round trip (pipeline mode); stops at the first error.
  awaitable<PgResultOr<std::vector<Rows>>> pipeline(
      std::span<const std::pair<const Statement*, std::vector<Param>>> batch);

  // LISTEN support: waits until a notification arrives (or the connection fails).
  struct Notification {
    std::string channel;
    std::string payload;
  };
  awaitable<PgResultOr<Notification>> wait_notification();

  bool healthy() const;  // CONNECTION_OK
  // Safe to hand to another user: healthy and no transaction left open.
  bool reusable() const;
  // For a connection that sat idle (pool): reads what the server sent meanwhile, without
  // waiting, and reports whether it is still usable (false after a server restart or
  // pg_terminate_backend). Never blocks.
  bool check_alive();
  // Aborts pending waits on the socket (the waiting operation returns an error). Call it only
  // from the executor the connection's user runs on (Listener::stop uses a strand).
  void cancel();
  pg_conn* raw() { return conn_; }

  struct Impl;

 private:
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  pg_conn* conn_ = nullptr;
};

class Pool;

// Exclusive use of one connection; returns it to the pool (or drops it if broken) when destroyed.
class Lease {
 public:
  Lease() = default;
  Lease(std::shared_ptr<Pool> pool, std::unique_ptr<Connection> conn);
  Lease(Lease&&) noexcept;
  Lease& operator=(Lease&&) noexcept;
  ~Lease();
  Connection& operator*() { return *conn_; }
  Connection* operator->() { return conn_.get(); }

 private:
  std::shared_ptr<Pool> pool_;
  std::unique_ptr<Connection> conn_;
};

class Pool : public std::enable_shared_from_this<Pool> {
 public:
  struct Options {
    std::string conninfo;
    std::size_t max_size = 16;
    std::chrono::milliseconds acquire_timeout{5000};
    // SQL run once on every new connection, after the pool's own SET plan_cache_mode (the
    // timeouts: store/src/database.cpp).
    std::string session_setup;
  };
  static std::shared_ptr<Pool> create(Executor ex, Options opts);
  ~Pool();

  // Waits (bounded by acquire_timeout) for a free connection; opens a new one while under
  // max_size; a broken connection is replaced transparently.
  awaitable<PgResultOr<Lease>> acquire();
  void close();

  std::size_t open_connections() const;
  // Options::session_setup: a user that changed those settings restores them with it.
  const std::string& session_setup() const;

  struct Impl;
  explicit Pool(std::unique_ptr<Impl> impl);

 private:
  friend class Lease;
  void release(std::unique_ptr<Connection> conn);
  std::unique_ptr<Impl> impl_;
};

// Runs `body` inside BEGIN ... COMMIT on one leased connection; rolls back on error; retries the
// whole transaction on serialization failure or deadlock (40001, 40P01) up to `attempts` times.
template <class T>
using TxBody = std::function<awaitable<PgResultOr<T>>(Connection&)>;

awaitable<PgResultOr<void>> transaction(Pool& pool, TxBody<void> body, int attempts = 5);

// Listens on channels on a dedicated connection; reconnects with back-off and re-LISTENs.
// `on_notify` runs on the io_context; `on_reconnect` after a reconnect (state may have been missed).
class Listener {
 public:
  static std::shared_ptr<Listener> start(Executor ex, std::string conninfo,
                                         std::vector<std::string> channels,
                                         std::function<void(const Connection::Notification&)> on_notify,
                                         std::function<void()> on_reconnect = {});
  void stop();
  ~Listener();
  struct Impl;
  explicit Listener(std::shared_ptr<Impl> impl);

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace govmail::store::pg
