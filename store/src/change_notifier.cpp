#include "change_notifier.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <mutex>
#include <unordered_map>

#include "core/asio.hpp"
#include "core/spawn.hpp"
#include "query.hpp"

namespace govmail::store {
namespace {

// One short transaction per batch, not waiting for its WAL flush: the notifications are not
// data, and a synchronous commit would hold PostgreSQL's NOTIFY lock through an fsync.
constexpr pg::Statement kBegin{"notify_begin", "BEGIN"};
constexpr pg::Statement kAsync{"notify_async", "SET LOCAL synchronous_commit TO off"};
constexpr pg::Statement kNotify{"notify_batch",
                                "SELECT pg_notify('govmail_mailbox', p) FROM unnest($1::text[]) p"};
constexpr pg::Statement kCommit{"notify_commit", "COMMIT"};
// Other processes are promised about a second; this process's subscribers hear at once.
constexpr auto kGatherWindow = std::chrono::milliseconds(20);

}  // namespace

struct ChangeNotifier::Impl : std::enable_shared_from_this<Impl> {
  Impl(Executor e, std::shared_ptr<pg::Pool> p, std::string o, LocalDispatch l)
      : ex(std::move(e)), pool(std::move(p)), origin(std::move(o)), local(std::move(l)) {}

  Executor ex;
  std::shared_ptr<pg::Pool> pool;
  std::string origin;
  LocalDispatch local;
  std::mutex mu;
  std::unordered_map<MailboxId, MailboxEvent> pending;  // coalesced per mailbox
  bool sending = false;
  bool stopped = false;

  void add(const MailboxEvent& ev) {
    std::lock_guard lock(mu);
    if (stopped) return;
    auto [it, fresh] = pending.try_emplace(ev.mailbox_id, ev);
    // The highest modseq stands for all; an unknown one (0) must stay unknown, or a change
    // after the highest would pass for one already known.
    auto& m = it->second.modseq;
    if (!fresh) m = (m == 0 || ev.modseq == 0) ? 0 : std::max(m, ev.modseq);
    if (!sending) {
      sending = true;
      // A loop ended by an exception (logged) lets the next add() start another.
      asio::co_spawn(
          ex, send_loop(shared_from_this()),
          core::LogExit("store: change notifier", [self = shared_from_this()](bool failed) {
            if (!failed) return;
            std::lock_guard lock(self->mu);
            self->sending = false;
          }));
    }
  }

  std::vector<std::string> take() {
    std::lock_guard lock(mu);
    std::vector<std::string> out;
    for (auto& [id, ev] : pending) out.push_back(payload(ev, origin));
    pending.clear();
    if (out.empty()) sending = false;
    return out;
  }

  // Drains `pending` batch by batch; changes made during a send go out with the next one. Each
  // batch first gathers for a few milliseconds (other processes are promised about a second;
  // this process's subscribers were told at once): one NOTIFY transaction per change was ~2
  // extra transactions per IMAP cycle of bench/imap.
  static awaitable<void> send_loop(std::shared_ptr<Impl> self) {
    asio::steady_timer gather(self->ex);
    for (;;) {
      gather.expires_after(kGatherWindow);
      boost::system::error_code ec;
      co_await gather.async_wait(asio::redirect_error(use_awaitable, ec));
      auto batch = self->take();
      if (batch.empty()) co_return;  // take() cleared `sending`: the next add() starts a loop
      auto lease = co_await self->pool->acquire();
      if (!lease) {
        spdlog::warn("store: {} change notifications not sent: {}", batch.size(),
                     lease.error().message);
        continue;
      }
      detail::Params params;
      params.text_array(batch);
      std::vector<std::pair<const pg::Statement*, std::vector<pg::Param>>> steps;
      steps.push_back({&kBegin, {}});
      steps.push_back({&kAsync, {}});
      steps.push_back({&kNotify, {params.span().begin(), params.span().end()}});
      steps.push_back({&kCommit, {}});
      auto r = co_await (*lease)->pipeline(steps);
      if (!r)
        spdlog::warn("store: {} change notifications not sent: SQLSTATE {}", batch.size(),
                     r.error().sqlstate);
    }
  }
};

ChangeNotifier::ChangeNotifier(Executor ex, std::shared_ptr<pg::Pool> pool, std::string origin,
                               LocalDispatch local)
    : impl_(std::make_shared<Impl>(std::move(ex), std::move(pool), std::move(origin),
                                   std::move(local))) {}

ChangeNotifier::~ChangeNotifier() {
  stop();
}

void ChangeNotifier::changed(AccountId account, MailboxId mailbox, ModSeq modseq) {
  const MailboxEvent ev{account, mailbox, modseq};
  impl_->local(ev);
  impl_->add(ev);
}

void ChangeNotifier::stop() {
  std::lock_guard lock(impl_->mu);
  impl_->stopped = true;
  impl_->pending.clear();
}

std::string ChangeNotifier::payload(const MailboxEvent& ev, const std::string& origin) {
  return std::to_string(ev.account_id) + ":" + std::to_string(ev.mailbox_id) + ":" +
         std::to_string(ev.modseq) + ":" + origin;
}

std::optional<ChangeNotifier::Parsed> ChangeNotifier::parse(std::string_view s) {
  Parsed out;
  const char* end = s.data() + s.size();
  auto field = [&](const char* p, auto& value) -> const char* {
    auto r = std::from_chars(p, end, value);
    return r.ec == std::errc() ? r.ptr : nullptr;
  };
  const char* p = field(s.data(), out.event.account_id);
  if (!p || p == end || *p != ':') return std::nullopt;
  p = field(p + 1, out.event.mailbox_id);
  if (!p || p == end || *p != ':') return std::nullopt;
  p = field(p + 1, out.event.modseq);
  if (!p) return std::nullopt;
  if (p != end) {
    if (*p != ':') return std::nullopt;
    out.origin.assign(p + 1, end);
  }
  return out;
}

}  // namespace govmail::store
