// libpq driven by the io_context: non-blocking sockets, waits through asio descriptors
// (NOTES-LIBRARIES.md "libpq on the io_context"). A Connection is used by one coroutine at a time.
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <charconv>
#include <string>
#include <unordered_set>

#include "core/asio.hpp"
#include "pg/pg.hpp"
#include "pg/wait.hpp"

namespace govmail::store::pg {
namespace {

using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using Descriptor = asio::posix::stream_descriptor;

constexpr auto kConnectTimeout = std::chrono::seconds(10);

// Given to libpq before the configured conninfo, which may override each. Over TCP (libpq
// ignores them on a unix socket): probes after 30 s of silence, every 10 s, 3 unanswered end the
// connection; data unacknowledged for 30 s ends it too. A lost server or network then fails the
// waiting query within about a minute (a read error, the connection dropped from the pool)
// instead of holding its pool connection for ever. connect_timeout matches kConnectTimeout for
// libpq's own blocking uses.
constexpr std::pair<const char*, const char*> kNetworkDefaults[] = {
    {"keepalives", "1"},       {"keepalives_idle", "30"},     {"keepalives_interval", "10"},
    {"keepalives_count", "3"}, {"tcp_user_timeout", "30000"}, {"connect_timeout", "10"},
};

// libpq prints notices (and the FATAL sent to an idle connection) on stderr by default.
void ignore_notice(void*, const char*) {}

std::string trimmed(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

PgError conn_error(PGconn* c, std::string_view what = {}) {
  std::string msg = trimmed(c ? PQerrorMessage(c) : "out of memory");
  if (!what.empty()) msg = std::string(what) + (msg.empty() ? "" : ": " + msg);
  return PgError{"", std::move(msg), !c || PQstatus(c) != CONNECTION_OK};
}

PgError result_error(PGconn* c, const PGresult* r) {
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  // After a FATAL (e.g. 57P01 from pg_terminate_backend) the server closes the connection,
  // even if libpq has not read the EOF yet.
  std::string_view severity = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED)
                                  ? PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED)
                                  : "";
  bool lost = PQstatus(c) != CONNECTION_OK || severity == "FATAL" || severity == "PANIC";
  return PgError{state ? state : "", trimmed(PQresultErrorMessage(r)), lost};
}

bool is_error(const PGresult* r) {
  switch (PQresultStatus(r)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_PIPELINE_SYNC:
      return false;
    default:  // errors, aborted pipeline entries, COPY (unsupported here)
      return true;
  }
}

// libpq wants NUL-terminated text values and explicit lengths for binary ones.
struct ParamArrays {
  explicit ParamArrays(std::span<const Param> params) {
    text.reserve(params.size());
    for (const auto& p : params) {
      if (!p.value) {
        values.push_back(nullptr);
        lengths.push_back(0);
      } else if (p.binary) {
        values.push_back(p.value->data());
        lengths.push_back(static_cast<int>(p.value->size()));
      } else {
        values.push_back(text.emplace_back(*p.value).c_str());
        lengths.push_back(0);
      }
      formats.push_back(p.binary ? 1 : 0);
    }
  }
  int size() const { return static_cast<int>(values.size()); }
  std::vector<std::string> text;
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
};

Descriptor wrap(const Executor& ex, PGconn* c) {
  // The descriptor closes its fd when destroyed: give it a duplicate of libpq's socket.
  int fd = ::dup(PQsocket(c));
  Descriptor sd(ex);
  if (fd >= 0) sd.assign(fd);
  return sd;
}

}  // namespace

struct Connection::Impl {
  Impl(Executor e, PGconn* c) : ex(std::move(e)), conn(c), sd(ex) {}
  ~Impl() {
    error_code ignored;
    sd.close(ignored);  // before PQfinish: the fd number must not be reused under asio
    PQfinish(conn);
  }

  Executor ex;
  PGconn* conn;
  Descriptor sd;
  std::unordered_set<std::string> prepared;
  bool broken = false;  // a FATAL was received: the server is closing this connection

  PgError note(PgError e) {
    if (e.connection_lost) broken = true;
    return e;
  }

  awaitable<PgResultOr<void>> flush();
  awaitable<PgResultOr<PGresult*>> next_result();
  awaitable<PgResultOr<Rows>> finish_query();
  awaitable<PgResultOr<void>> prepare(const Statement& stmt);
  awaitable<PgResultOr<std::vector<Rows>>> read_pipeline(std::vector<const Statement*> sent,
                                                         std::size_t queries);
};

// ---- Rows ----------------------------------------------------------------------------------

Rows::Rows(pg_result* r) : res_(r) {}
Rows::Rows(Rows&& o) noexcept : res_(std::exchange(o.res_, nullptr)) {}
Rows& Rows::operator=(Rows&& o) noexcept {
  if (this != &o) {
    if (res_) PQclear(res_);
    res_ = std::exchange(o.res_, nullptr);
  }
  return *this;
}
Rows::~Rows() {
  if (res_) PQclear(res_);
}
int Rows::size() const {
  return res_ ? PQntuples(res_) : 0;
}
int Rows::columns() const {
  return res_ ? PQnfields(res_) : 0;
}
bool Rows::is_null(int row, int col) const {
  return PQgetisnull(res_, row, col) != 0;
}
std::string_view Rows::get(int row, int col) const {
  return {PQgetvalue(res_, row, col), static_cast<std::size_t>(PQgetlength(res_, row, col))};
}
std::int64_t Rows::get_int(int row, int col) const {
  auto v = get(row, col);
  std::int64_t out = 0;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out;
}
bool Rows::get_bool(int row, int col) const {
  return get(row, col) == "t";
}
std::string Rows::get_bytea(int row, int col) const {
  if (is_null(row, col)) return {};
  if (PQfformat(res_, col) == 1)
    return std::string(PQgetvalue(res_, row, col), PQgetlength(res_, row, col));
  std::size_t len = 0;
  auto* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(res_, row, col)), &len);
  if (!raw) return {};
  std::string out(reinterpret_cast<const char*>(raw), len);
  PQfreemem(raw);
  return out;
}
std::int64_t Rows::affected() const {
  if (!res_) return 0;
  std::string_view v = PQcmdTuples(res_);
  std::int64_t out = 0;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out;
}

// ---- Connection ----------------------------------------------------------------------------

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)), conn_(impl_->conn) {}
Connection::~Connection() = default;

awaitable<PgResultOr<std::unique_ptr<Connection>>> Connection::connect(Executor ex,
                                                                       std::string conninfo) {
  // expand_dbname: "dbname" may hold a whole "key=value" string or a postgresql:// URL. Later
  // entries win, so the configured conninfo comes last.
  std::vector<const char*> keys, values;
  for (const auto& [key, value] : kNetworkDefaults) {
    keys.push_back(key);
    values.push_back(value);
  }
  keys.insert(keys.end(), {"dbname", nullptr});
  values.insert(values.end(), {conninfo.c_str(), nullptr});
  auto impl = std::make_unique<Impl>(ex, PQconnectStartParams(keys.data(), values.data(), 1));
  PGconn* c = impl->conn;
  if (!c || PQstatus(c) == CONNECTION_BAD) co_return unexpected(conn_error(c, "connect"));
  PQsetNoticeProcessor(c, ignore_notice, nullptr);
  const auto deadline = Clock::now() + kConnectTimeout;
  auto status = PGRES_POLLING_WRITING;
  while (status != PGRES_POLLING_OK) {
    if (status == PGRES_POLLING_FAILED) co_return unexpected(conn_error(c, "connect"));
    // libpq may switch sockets while polling (several hosts, SSL retry): re-wrap every round.
    Descriptor sd = wrap(ex, c);
    if (!sd.is_open()) co_return unexpected(conn_error(c, "connect"));
    error_code ec;
    auto ready = co_await detail::async_wait_ready(sd, status == PGRES_POLLING_READING,
                                                   status == PGRES_POLLING_WRITING, deadline,
                                                   asio::redirect_error(use_awaitable, ec));
    if (ready == detail::Ready::timeout)
      co_return unexpected(PgError{"", "connect: timed out", true});
    if (ec) co_return unexpected(PgError{"", "connect: " + ec.message(), true});
    status = PQconnectPoll(c);
  }
  if (PQsetnonblocking(c, 1) != 0) co_return unexpected(conn_error(c, "set non-blocking"));
  impl->sd = wrap(ex, c);
  if (!impl->sd.is_open()) co_return unexpected(conn_error(c, "connect"));
  co_return std::unique_ptr<Connection>(new Connection(std::move(impl)));
}

bool Connection::healthy() const {
  return PQstatus(conn_) == CONNECTION_OK;
}

bool Connection::reusable() const {
  return healthy() && PQtransactionStatus(conn_) == PQTRANS_IDLE && !PQisBusy(conn_) &&
         PQpipelineStatus(conn_) == PQ_PIPELINE_OFF;
}

bool Connection::check_alive() {
  // An idle connection receives only what the server sends on its own: notices, NOTIFY, or a
  // FATAL followed by EOF when the backend is terminated. Read until the socket is quiet.
  for (int round = 0; round < 16 && healthy(); ++round) {
    pollfd p{PQsocket(conn_), POLLIN, 0};
    int n = ::poll(&p, 1, 0);
    if (n == 0) return true;
    if (n < 0 || !PQconsumeInput(conn_)) return false;
    while (PGnotify* note = PQnotifies(conn_)) PQfreemem(note);  // also parses the input
  }
  return false;  // still chattering after 16 reads, or broken: do not trust it
}

void Connection::cancel() {
  error_code ignored;
  impl_->sd.cancel(ignored);
}

awaitable<PgResultOr<void>> Connection::Impl::flush() {
  for (;;) {
    int r = PQflush(conn);
    if (r == 0) co_return PgResultOr<void>{};
    if (r < 0) co_return unexpected(conn_error(conn, "send"));
    error_code ec;
    auto ready = co_await detail::async_wait_ready(sd, true, true, std::nullopt,
                                                   asio::redirect_error(use_awaitable, ec));
    if (ec)
      co_return unexpected(PgError{"", "send: " + ec.message(), PQstatus(conn) != CONNECTION_OK});
    if (ready == detail::Ready::read && !PQconsumeInput(conn))
      co_return unexpected(conn_error(conn, "receive"));
  }
}

// The next result of the current command (nullptr when it has none left). Never blocks: waits
// on the socket until libpq has a whole result; if the connection breaks, libpq's PQgetResult
// returns an error result at once (its socket is gone, so it does not wait).
awaitable<PgResultOr<PGresult*>> Connection::Impl::next_result() {
  while (PQisBusy(conn)) {
    error_code ec;
    co_await sd.async_wait(Descriptor::wait_read, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return unexpected(PgError{"", "receive: " + ec.message(), false});
    if (!PQconsumeInput(conn)) break;
  }
  co_return PQgetResult(conn);
}

// Collects every result of the command just sent; the first error wins, else the last result.
awaitable<PgResultOr<Rows>> Connection::Impl::finish_query() {
  if (auto f = co_await flush(); !f) co_return unexpected(f.error());
  Rows last;
  std::optional<PgError> err;
  for (;;) {
    auto r = co_await next_result();
    if (!r) co_return unexpected(r.error());  // interrupted mid-command: connection unusable
    if (!*r) break;
    Rows rows(*r);
    if (is_error(*r)) {
      if (!err) err = note(result_error(conn, *r));
    } else {
      last = std::move(rows);
    }
    if (PQstatus(conn) != CONNECTION_OK) break;
  }
  if (err) co_return unexpected(std::move(*err));
  if (PQstatus(conn) != CONNECTION_OK) co_return unexpected(conn_error(conn));
  co_return last;
}

awaitable<PgResultOr<void>> Connection::Impl::prepare(const Statement& stmt) {
  if (prepared.contains(stmt.name)) co_return PgResultOr<void>{};
  if (!PQsendPrepare(conn, stmt.name, stmt.sql, 0, nullptr))
    co_return unexpected(conn_error(conn, "prepare"));
  auto r = co_await finish_query();
  if (!r) co_return unexpected(r.error());
  prepared.insert(stmt.name);
  co_return PgResultOr<void>{};
}

awaitable<PgResultOr<Rows>> Connection::exec(std::string_view sql, std::span<const Param> params) {
  if (!healthy()) co_return unexpected(conn_error(conn_, "not connected"));
  std::string text(sql);
  // Without parameters the simple protocol runs, so a script of several statements works
  // (migrations); its last result is returned.
  int sent = 0;
  if (params.empty()) {
    sent = PQsendQuery(conn_, text.c_str());
  } else {
    ParamArrays a(params);
    sent = PQsendQueryParams(conn_, text.c_str(), a.size(), nullptr, a.values.data(),
                             a.lengths.data(), a.formats.data(), 0);
  }
  if (!sent) co_return unexpected(conn_error(conn_, "send"));
  co_return co_await impl_->finish_query();
}

awaitable<PgResultOr<Rows>> Connection::exec(const Statement& stmt, std::span<const Param> params) {
  if (!healthy()) co_return unexpected(conn_error(conn_, "not connected"));
  if (auto p = co_await impl_->prepare(stmt); !p) co_return unexpected(p.error());
  ParamArrays a(params);
  if (!PQsendQueryPrepared(conn_, stmt.name, a.size(), a.values.data(), a.lengths.data(),
                           a.formats.data(), stmt.binary_result ? 1 : 0))
    co_return unexpected(conn_error(conn_, "send"));
  co_return co_await impl_->finish_query();
}

awaitable<PgResultOr<std::vector<Rows>>> Connection::pipeline(
    std::span<const std::pair<const Statement*, std::vector<Param>>> batch) {
  if (!healthy()) co_return unexpected(conn_error(conn_, "not connected"));
  if (!PQenterPipelineMode(conn_)) co_return unexpected(conn_error(conn_, "pipeline"));
  // `sent` lists what the server will answer, in order: a Statement* for a Parse we added
  // (statement not yet prepared on this connection), nullptr for a query.
  std::vector<const Statement*> sent;
  std::unordered_set<std::string_view> preparing;
  for (const auto& [stmt, params] : batch) {
    if (!impl_->prepared.contains(stmt->name) && preparing.insert(stmt->name).second) {
      if (!PQsendPrepare(conn_, stmt->name, stmt->sql, 0, nullptr)) break;
      sent.push_back(stmt);
    }
    ParamArrays a(params);
    if (!PQsendQueryPrepared(conn_, stmt->name, a.size(), a.values.data(), a.lengths.data(),
                             a.formats.data(), stmt->binary_result ? 1 : 0))
      break;
    sent.push_back(nullptr);
  }
  if (sent.size() != batch.size() + preparing.size() || !PQpipelineSync(conn_)) {
    auto err = conn_error(conn_, "pipeline send");
    PQexitPipelineMode(conn_);  // fails while results are pending: the lease then drops us
    co_return unexpected(std::move(err));
  }
  if (auto f = co_await impl_->flush(); !f) co_return unexpected(f.error());
  co_return co_await impl_->read_pipeline(std::move(sent), batch.size());
}

awaitable<PgResultOr<std::vector<Rows>>> Connection::Impl::read_pipeline(
    std::vector<const Statement*> sent, std::size_t queries) {
  std::vector<Rows> out;
  out.reserve(queries);
  std::optional<PgError> err;
  // Each command yields its result(s) then nullptr; the sync point yields PGRES_PIPELINE_SYNC.
  for (const Statement* stmt : sent) {
    Rows first;
    for (bool got = false;;) {
      auto r = co_await next_result();
      if (!r) co_return unexpected(r.error());
      if (!*r) break;
      Rows rows(*r);
      if (PQstatus(conn) != CONNECTION_OK) co_return unexpected(conn_error(conn));
      if (is_error(*r) && !err) err = note(result_error(conn, *r));
      if (!got) first = std::move(rows), got = true;
    }
    if (err) continue;  // the rest is PGRES_PIPELINE_ABORTED: drain it
    if (stmt)
      prepared.insert(stmt->name);
    else
      out.push_back(std::move(first));
  }
  auto sync = co_await next_result();
  if (!sync) co_return unexpected(sync.error());
  Rows sync_rows(*sync);
  if (!*sync || PQresultStatus(*sync) != PGRES_PIPELINE_SYNC)
    co_return unexpected(conn_error(conn, "pipeline: lost sync"));
  if (!PQexitPipelineMode(conn)) co_return unexpected(conn_error(conn, "pipeline exit"));
  if (err) co_return unexpected(std::move(*err));
  co_return out;
}

awaitable<PgResultOr<Connection::Notification>> Connection::wait_notification() {
  for (;;) {
    if (!healthy()) co_return unexpected(conn_error(conn_, "listen"));
    if (PGnotify* n = PQnotifies(conn_)) {
      Notification out{n->relname, n->extra ? n->extra : ""};
      PQfreemem(n);
      co_return out;
    }
    error_code ec;
    co_await impl_->sd.async_wait(Descriptor::wait_read, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return unexpected(PgError{"", "listen: " + ec.message(), false});
    if (!PQconsumeInput(conn_)) co_return unexpected(conn_error(conn_, "listen"));
  }
}

}  // namespace govmail::store::pg
