#include "login_audit.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "admin_store_pg.hpp"
#include "core/asio.hpp"
#include "core/log.hpp"
#include "core/spawn.hpp"
#include "query.hpp"

namespace govmail::store {
namespace {

// One statement for the whole batch: the chain trigger links the rows in order.
constexpr pg::Statement kAuditLogins{
    "gm_audit_logins",
    "INSERT INTO audit_log (actor, source, action, target, detail, ok) SELECT * FROM unnest("
    "$1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]::boolean[])"};

}  // namespace

struct LoginAuditWriter::Impl {
  Impl(Executor e, std::shared_ptr<pg::Pool> p, std::chrono::milliseconds f, std::size_t max)
      : pool(std::move(p)), flush_every(f), queue_max(max), timer(asio::make_strand(e)) {}
  std::shared_ptr<pg::Pool> pool;
  std::chrono::milliseconds flush_every;
  std::size_t queue_max;
  asio::steady_timer timer;
  std::atomic<bool> stopped{false};
  std::mutex mutex;                 // queue: logins arrive on every io thread
  std::vector<LoginAttempt> queue;  // at most queue_max

  // Takes the queue, writes it; on failure puts it back in front (order kept, bound kept).
  awaitable<Result<void>> write() {
    std::vector<LoginAttempt> batch;
    {
      std::lock_guard lock(mutex);
      batch.swap(queue);
    }
    if (batch.empty()) co_return Result<void>{};
    std::vector<std::string> actor, source, action, target, detail, ok;
    for (const auto& a : batch) {
      // Client text (a user name as typed) is bounded and escaped: valid UTF-8 for the text
      // column, nothing that could break a reader of the log.
      actor.push_back(core::log_safe(a.user, 320));
      source.push_back(core::log_safe(a.ip, 64));
      action.push_back("login." + a.protocol);
      target.push_back(core::log_safe(a.user, 320));
      detail.push_back(a.detail);
      ok.push_back(a.ok ? "t" : "f");
    }
    detail::Params p;
    p.text_array(actor).text_array(source).text_array(action).text_array(target);
    p.text_array(detail).text_array(ok);
    auto r = co_await detail::run(*pool, kAuditLogins, p, "audit logins");
    if (r) co_return Result<void>{};
    std::lock_guard lock(mutex);
    batch.insert(batch.end(), std::make_move_iterator(queue.begin()),
                 std::make_move_iterator(queue.end()));
    queue = std::move(batch);
    co_return unexpected(r.error());
  }

  static awaitable<void> loop(std::shared_ptr<Impl> self) {
    while (!self->stopped) {
      self->timer.expires_after(self->flush_every);
      boost::system::error_code ec;
      co_await self->timer.async_wait(asio::redirect_error(use_awaitable, ec));
      if (self->stopped) break;
      if (auto r = co_await self->write(); !r)
        spdlog::warn("store: login audit entries not written yet: {}", to_string(r.error()));
    }
  }
};

LoginAuditWriter::LoginAuditWriter(Executor ex, std::shared_ptr<pg::Pool> pool,
                                   std::chrono::milliseconds flush, std::size_t queue_max)
    : impl_(std::make_shared<Impl>(std::move(ex), std::move(pool), flush, queue_max)) {}

LoginAuditWriter::~LoginAuditWriter() {
  stop();
}

void LoginAuditWriter::start() {
  asio::co_spawn(impl_->timer.get_executor(), Impl::loop(impl_),
                 core::LogExit("store: login audit writer"));
}

bool LoginAuditWriter::add(LoginAttempt attempt) {
  std::lock_guard lock(impl_->mutex);
  if (impl_->queue.size() >= impl_->queue_max) return false;
  impl_->queue.push_back(std::move(attempt));
  return true;
}

awaitable<Result<void>> LoginAuditWriter::flush() {
  co_return co_await impl_->write();
}

void LoginAuditWriter::stop() {
  if (impl_->stopped.exchange(true)) return;
  asio::post(impl_->timer.get_executor(), [impl = impl_] { impl->timer.cancel(); });
}

}  // namespace govmail::store

namespace govmail::store {
namespace {

const char* outcome_detail(core::AuthOutcome o) {
  switch (o) {
    case core::AuthOutcome::ok:
      return "ok";
    case core::AuthOutcome::bad_credentials:
      return "bad credentials";
    case core::AuthOutcome::locked_out:
      return "locked out";
    default:
      return "temporary failure";
  }
}

}  // namespace

core::AuthResult audited_login(Database& db, std::string protocol, std::string typed,
                               std::string ip, core::AuthResult result) {
  const bool ok = result.outcome == core::AuthOutcome::ok;
  std::string detail = outcome_detail(result.outcome);
  if (ok && result.app_password) detail += " (app password)";
  LoginAttempt a{std::move(protocol), ok ? result.address : std::move(typed), std::move(ip), ok,
                 std::move(detail)};
  auto* writer = dynamic_cast<PgAdminStore&>(db.admin()).login_audit();
  if (!writer || !writer->add(std::move(a))) {
    spdlog::error(
        "store: the audit log's login queue is full (archive.login_audit_queue_max): login "
        "refused");
    core::AuthResult refused;
    refused.outcome = core::AuthOutcome::temporary;
    return refused;
  }
  if (ok) db.note_login(result.account_id);
  return result;
}

}  // namespace govmail::store

namespace govmail::store {

awaitable<Result<void>> flush_login_audit(Database& db) {
  auto* writer = dynamic_cast<PgAdminStore&>(db.admin()).login_audit();
  if (!writer) co_return unexpected(StoreError::unavailable);
  co_return co_await writer->flush();
}

}  // namespace govmail::store
