// The queue workers: one claim loop, one report loop, and per destination domain up to
// outbound.max_connections_per_domain runners, each holding at most one connection that it
// reuses for the domain's next jobs. Shared state (jobs per domain, runner counts) sits behind
// one mutex; coroutines run on the io_context's threads.
#include <spdlog/spdlog.h>

#include <atomic>
#include <deque>
#include <map>
#include <mutex>

#include "core/asio.hpp"
#include "core/dns.hpp"
#include "core/log.hpp"
#include "core/spawn.hpp"
#include "core/tls.hpp"
#include "destination.hpp"
#include "message.hpp"
#include "policy.hpp"
#include "reporter.hpp"
#include "smtp/outbound.hpp"
#include "store/database.hpp"
#include "store/outbound.hpp"
#include "transfer.hpp"

namespace govmail::smtp {

using namespace std::chrono_literals;
using outbound::AttemptResult;

namespace {

struct Job {
  std::int64_t token = 0;
  std::vector<store::ClaimedRecipient> rcpts;  // one queue entry, one domain
  std::shared_ptr<const std::string> raw;      // fetched with the claim when small, else later
  std::chrono::steady_clock::time_point claimed_at = std::chrono::steady_clock::now();
};

// Messages up to this size are fetched together with their claim (one query per batch);
// bigger ones by the runner that sends them, so a batch never holds much memory.
constexpr std::uint64_t kPrefetchBytes = 256 * 1024;

struct DomainQueue {
  std::deque<Job> jobs;
  std::size_t runners = 0;
};

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

awaitable<void> sleep_for(Executor ex, std::chrono::milliseconds d) {
  asio::steady_timer t(ex, d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
}

}  // namespace

struct OutboundService::Impl : std::enable_shared_from_this<Impl> {
  Executor ex;
  core::OutboundConfig cfg;
  std::string hostname;
  std::vector<core::OutboundRoute> routes;
  std::shared_ptr<store::Database> db;
  std::shared_ptr<Backend> backend;
  std::shared_ptr<core::Resolver> resolver;
  outbound::TransferSettings transfer;
  outbound::OutcomeRules rules;
  outbound::DkimKeys dkim;

  std::mutex mu;
  std::map<std::string, DomainQueue> domains;
  std::size_t runners = 0;
  std::size_t inflight = 0;                      // claimed recipients not yet recorded
  std::vector<store::AttemptOutcome> to_record;  // decided, waiting for the recorder
  std::atomic<bool> stopping{false};
  std::atomic<int> loops{0};  // claim loop, report loop and runners still going

  store::OutboundQueue& queue() { return db->outbound(); }
  std::size_t max_inflight() const { return std::max<std::size_t>(cfg.claim_batch * 2, 1); }

  // ---- claiming and dispatch ------------------------------------------------------------------

  void dispatch(store::Claim claim,
                const std::map<store::MessageId, std::shared_ptr<const std::string>>& raws) {
    std::map<std::pair<std::int64_t, std::string>, std::vector<store::ClaimedRecipient>> groups;
    for (auto& r : claim.recipients) {
      auto key = std::make_pair(r.queue_id, outbound::domain_of_address(r.address));
      groups[key].push_back(std::move(r));
    }
    std::lock_guard lock(mu);
    for (auto& [key, rcpts] : groups) {
      auto& dq = domains[key.second];
      for (std::size_t i = 0; i < rcpts.size(); i += cfg.max_rcpts_per_transaction) {
        Job job;
        job.token = claim.token;
        const auto end = std::min(rcpts.size(), i + cfg.max_rcpts_per_transaction);
        job.rcpts.assign(std::make_move_iterator(rcpts.begin() + static_cast<long>(i)),
                         std::make_move_iterator(rcpts.begin() + static_cast<long>(end)));
        if (auto it = raws.find(job.rcpts.front().message_id); it != raws.end())
          job.raw = it->second;
        inflight += job.rcpts.size();
        dq.jobs.push_back(std::move(job));
      }
    }
    spawn_runners_locked();
  }

  // Starts runners where jobs wait, within the per-domain and per-process limits. Domains with
  // no runner at all come first, so that one busy domain cannot starve the others.
  void spawn_runners_locked() {
    for (int pass = 0; pass < 2; ++pass) {
      for (auto& [domain, dq] : domains) {
        if (pass == 0 && dq.runners > 0) continue;
        while (!stopping && runners < cfg.max_connections &&
               dq.runners < cfg.max_connections_per_domain && dq.runners < dq.jobs.size()) {
          ++dq.runners;
          ++runners;
          ++loops;
          // Named first: GCC 12 may destroy a temporary passed to a coroutine twice (NOTES).
          std::shared_ptr<Impl> me = shared_from_this();
          std::string name = domain;
          asio::co_spawn(ex, run_domain(me, name), core::LogExit("outbound runner"));
        }
      }
    }
  }

  static awaitable<void> claim_loop(std::shared_ptr<Impl> self) {
    co_await self->dkim.reload(self->queue());
    while (!self->stopping) {
      std::size_t room;
      {
        std::lock_guard lock(self->mu);
        room = self->max_inflight() - std::min(self->max_inflight(), self->inflight);
      }
      if (room < std::max<std::size_t>(1, self->cfg.claim_batch / 2)) {
        co_await sleep_for(self->ex, 20ms);
        continue;
      }
      const int want = static_cast<int>(std::min(room, self->cfg.claim_batch));
      auto claim = co_await self->queue().claim(want, self->cfg.lease);
      if (!claim) {
        spdlog::warn("outbound: claiming from the queue failed: {}",
                     store::to_string(claim.error()));
        co_await sleep_for(self->ex, self->cfg.poll_interval);
        continue;
      }
      const auto got = claim->recipients.size();
      if (got > 0) {
        auto raws = co_await self->prefetch(*claim);
        self->dispatch(std::move(*claim), raws);
      }
      if (static_cast<int>(got) < want) co_await sleep_for(self->ex, self->cfg.poll_interval);
    }
    --self->loops;
  }

  // The small messages of a claim in one query (a failure only means the runners fetch them).
  awaitable<std::map<store::MessageId, std::shared_ptr<const std::string>>> prefetch(
      const store::Claim& claim) {
    std::map<store::MessageId, std::shared_ptr<const std::string>> out;
    std::vector<store::MessageId> ids;
    for (const auto& r : claim.recipients)
      if (ids.empty() || ids.back() != r.message_id) ids.push_back(r.message_id);
    auto raws = co_await queue().small_messages(ids, kPrefetchBytes);
    if (!raws) co_return out;
    for (std::size_t i = 0; i < ids.size() && i < raws->size(); ++i)
      if ((*raws)[i]) out[ids[i]] = (*raws)[i];
    co_return out;
  }

  // ---- runners --------------------------------------------------------------------------------

  // The domain's next job; with a connection open, waits up to connection_idle for one. When
  // there is none the runner is counted out under the same lock that dispatch takes, so a job
  // added just after always finds a runner to start.
  awaitable<std::optional<Job>> next_job(const std::string& domain, bool connected) {
    const auto deadline = std::chrono::steady_clock::now() + cfg.connection_idle;
    for (;;) {
      {
        std::lock_guard lock(mu);
        auto& dq = domains[domain];
        if (!dq.jobs.empty() && !stopping) {
          Job job = std::move(dq.jobs.front());
          dq.jobs.pop_front();
          co_return job;
        }
        // An idle connection gives its slot up at once when the process is at its connection
        // limit and another domain's mail waits for a runner.
        if (!connected || stopping || std::chrono::steady_clock::now() >= deadline ||
            (runners >= cfg.max_connections && starved_locked())) {
          --dq.runners;
          --runners;
          if (dq.runners == 0 && dq.jobs.empty()) domains.erase(domain);
          spawn_runners_locked();
          co_return std::nullopt;
        }
      }
      co_await sleep_for(ex, 20ms);
    }
  }

  bool starved_locked() const {
    for (const auto& [name, dq] : domains)
      if (dq.runners == 0 && !dq.jobs.empty()) return true;
    return false;
  }

  static awaitable<void> run_domain(std::shared_ptr<Impl> self, std::string domain) {
    outbound::Link link;
    std::optional<outbound::Destination> dest;
    bool holds_slot = true;  // until next_job gives it back
    try {
      for (;;) {
        auto job = co_await self->next_job(domain, link.connection != nullptr);
        if (!job) {
          holds_slot = false;
          break;
        }
        if (!dest) {
          dest = co_await outbound::resolve_destination(*self->resolver, self->cfg, self->routes,
                                                        domain);
        }
        co_await self->deliver(*job, *dest, link);
      }
      if (link.connection) co_await link.connection->quit();
    } catch (...) {
      // The job in hand stays claimed until its lease ends, then another runner takes it.
      spdlog::error("outbound: runner for {} ended by an exception: {}", core::log_safe(domain),
                    core::describe(std::current_exception()));
      if (holds_slot) self->release_slot(domain);
    }
    --self->loops;
  }

  // What next_job does when a runner ends: its domain may get another runner.
  void release_slot(const std::string& domain) {
    std::lock_guard lock(mu);
    auto& dq = domains[domain];
    --dq.runners;
    --runners;
    if (dq.runners == 0 && dq.jobs.empty()) domains.erase(domain);
    spawn_runners_locked();
  }

  // The claim, record and report loops run for the life of the service: one that ends by an
  // exception is logged and started again a second later, unless the service is stopping.
  using Loop = awaitable<void> (*)(std::shared_ptr<Impl>);
  static void spawn_loop(std::shared_ptr<Impl> self, Loop loop, const char* name) {
    auto ex = self->ex;
    asio::co_spawn(ex, loop(self),
                   core::LogExit(std::string("outbound ") + name, [self, loop, name](bool failed) {
                     if (failed)
                       asio::co_spawn(self->ex, restart_loop(self, loop, name),
                                      core::LogExit("outbound restart"));
                   }));
  }
  static awaitable<void> restart_loop(std::shared_ptr<Impl> self, Loop loop, const char* name) {
    co_await sleep_for(self->ex, std::chrono::seconds(1));
    if (self->stopping) {
      --self->loops;  // the failed loop did not reach its own decrement
      co_return;
    }
    spdlog::warn("outbound: restarting the {}", name);
    spawn_loop(self, loop, name);
  }

  // A job that waited a third of its lease gets the lease extended first; recipients no longer
  // held (the lease ran out and another worker may have them) are dropped, never sent twice.
  awaitable<bool> keep_claim(Job& job) {
    if (std::chrono::steady_clock::now() - job.claimed_at < cfg.lease / 3) co_return true;
    std::vector<std::pair<std::int64_t, int>> ids;
    for (const auto& r : job.rcpts) ids.push_back({r.queue_id, r.ordinal});
    auto held = co_await queue().renew(job.token, ids, cfg.lease);
    if (!held) co_return true;  // cannot tell: the lease may still hold (logged by the store)
    const std::size_t before = job.rcpts.size();
    std::erase_if(job.rcpts, [&](const store::ClaimedRecipient& r) {
      return std::find(held->begin(), held->end(), std::make_pair(r.queue_id, r.ordinal)) ==
             held->end();
    });
    if (job.rcpts.size() != before) {
      spdlog::warn(
          "outbound: {} recipient(s) waited past their lease and were left to the worker "
          "that took them",
          before - job.rcpts.size());
      finish(before - job.rcpts.size());
    }
    job.claimed_at = std::chrono::steady_clock::now();
    co_return !job.rcpts.empty();
  }

  awaitable<void> deliver(Job& job, const outbound::Destination& dest, outbound::Link& link) {
    if (!co_await keep_claim(job)) co_return;
    const auto& first = job.rcpts.front();
    std::vector<AttemptResult> results;
    store::Result<std::shared_ptr<const std::string>> raw = job.raw;
    if (!job.raw) raw = co_await queue().message(first.message_id);
    if (!raw && raw.error() == store::StoreError::not_found) {
      finish(job.rcpts.size());  // deleted by an operator meanwhile
      co_return;
    }
    if (!raw) {
      AttemptResult a;
      a.reply = "451 4.3.0 Local store error: " + std::string(store::to_string(raw.error()));
      results.assign(job.rcpts.size(), a);
    } else if (dest.failure) {
      results.assign(job.rcpts.size(), *dest.failure);
    } else {
      auto message = dkim.prepare(**raw, cfg.dkim_sign, now_unix());
      if (message) {
        results = co_await outbound::transfer(ex, transfer, dest, link, job.rcpts, *message);
      } else {  // never sent unsigned in place of a signature the domain publishes a key for
        AttemptResult a;
        a.reply = "451 4.7.0 Not sent: " + message.error();
        results.assign(job.rcpts.size(), a);
      }
    }
    co_await record(job, results);
  }

  // Outcomes go to the recorder, which writes those of every runner in one statement every few
  // milliseconds (one commit for many). Until it has, the recipients count as in flight; a
  // process killed before then sends them again when their lease ends (never loses them).
  awaitable<void> record(const Job& job, const std::vector<AttemptResult>& results) {
    const auto now = now_unix();
    std::vector<store::AttemptOutcome> outcomes;
    for (std::size_t i = 0; i < job.rcpts.size(); ++i) {
      const auto& r = job.rcpts[i];
      outcomes.push_back(outbound::decide(r, results[i], rules, now));
      outcomes.back().claim = job.token;
      const auto& o = outcomes.back();
      spdlog::info("outbound Q{} to=<{}> relay={} attempt={} status={} ({})", r.queue_id,
                   core::log_safe(r.address, 100),
                   results[i].host.empty() ? "none" : results[i].host, r.attempts,
                   store::to_string(o.status), core::log_safe(o.reply, 200));
    }
    std::lock_guard lock(mu);
    for (auto& o : outcomes) to_record.push_back(std::move(o));
    co_return;
  }

  static awaitable<void> record_loop(std::shared_ptr<Impl> self) {
    for (;;) {
      std::vector<store::AttemptOutcome> batch;
      bool done = false;
      {
        std::lock_guard lock(self->mu);
        batch.swap(self->to_record);
        done = self->stopping && batch.empty() && self->runners == 0;
      }
      if (done) break;
      if (batch.empty()) {
        // Every few ms while mail is in flight; an idle server is not woken 200 times a second.
        bool busy = false;
        {
          std::lock_guard lock(self->mu);
          busy = self->inflight > 0;
        }
        co_await sleep_for(self->ex, busy ? 5ms : 100ms);
        continue;
      }
      // A failed write leaves the rows claimed: due again when the lease ends.
      for (int attempt = 0; attempt < 3; ++attempt) {
        auto recorded = co_await self->queue().record(0, batch);
        if (recorded) break;
        spdlog::error("outbound: recording {} outcomes failed: {}", batch.size(),
                      store::to_string(recorded.error()));
        co_await sleep_for(self->ex, 500ms);
      }
      self->finish(batch.size());
    }
    --self->loops;
  }

  void finish(std::size_t n) {
    std::lock_guard lock(mu);
    inflight -= std::min(inflight, n);
  }

  // ---- reports and housekeeping ---------------------------------------------------------------

  static awaitable<void> report_loop(std::shared_ptr<Impl> self) {
    auto last_prune = std::chrono::steady_clock::now() - 1h;
    auto last_keys = std::chrono::steady_clock::now();
    while (!self->stopping) {
      // Named, and capturing a raw pointer: GCC 12 destroys a std::function temporary made in a
      // co_await expression twice (NOTES); `self` keeps the Impl alive meanwhile.
      Impl* me = self.get();
      store::OutboundQueue::ReportSender sender = [me](std::vector<store::ReportItem> items) {
        return outbound::send_reports(me->hostname, me->queue(), *me->backend, std::move(items));
      };
      for (int batch = 0; batch < 20 && !self->stopping; ++batch) {
        auto sent = co_await self->queue().take_reports(50, sender);
        if (!sent) {
          spdlog::warn("outbound: delivery reports failed: {}", store::to_string(sent.error()));
          break;
        }
        if (*sent == 0) break;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now - last_prune > 1min) {
        last_prune = now;
        if (auto n = co_await self->queue().prune(self->cfg.history, 1000); n && *n > 0)
          spdlog::info("outbound: {} finished queue entries pruned", *n);
      }
      if (now - last_keys > 1min) {
        last_keys = now;
        co_await self->dkim.reload(self->queue());
      }
      co_await sleep_for(self->ex, self->cfg.poll_interval);
    }
    --self->loops;
  }

  // Jobs claimed but not started go back to the queue at once.
  awaitable<void> release_waiting() {
    std::map<std::int64_t, std::vector<std::pair<std::int64_t, int>>> by_token;
    {
      std::lock_guard lock(mu);
      for (auto& [domain, dq] : domains) {
        for (const auto& job : dq.jobs) {
          for (const auto& r : job.rcpts) by_token[job.token].push_back({r.queue_id, r.ordinal});
          inflight -= std::min(inflight, job.rcpts.size());
        }
        dq.jobs.clear();
      }
    }
    for (auto& [token, rcpts] : by_token)
      if (auto r = co_await queue().release(token, rcpts); !r)
        spdlog::warn("outbound: handing back {} recipients failed: {}", rcpts.size(),
                     store::to_string(r.error()));
  }
};

OutboundService::OutboundService(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
OutboundService::~OutboundService() = default;

Result<std::shared_ptr<OutboundService>, std::string> OutboundService::create(
    Executor ex, const core::Config& cfg, std::shared_ptr<store::Database> db,
    std::shared_ptr<Backend> backend, std::shared_ptr<core::Resolver> resolver,
    dkim::MasterKey dkim_master) {
  auto impl = std::make_shared<Impl>();
  impl->ex = ex;
  impl->cfg = cfg.outbound;
  impl->hostname = cfg.server.hostname;
  for (const auto& text : cfg.outbound.routes) {
    auto route = core::parse_outbound_route(text);
    if (!route) return unexpected("outbound.routes: cannot read \"" + text + "\"");
    impl->routes.push_back(std::move(*route));
  }
  impl->resolver = std::move(resolver);
  impl->db = std::move(db);
  impl->backend = std::move(backend);
  impl->dkim.set_master(std::move(dkim_master));
  auto& o = impl->transfer.options;
  o.helo_name = cfg.server.hostname;
  o.tls_ctx_noverify = core::make_client_tls_context_noverify();
  o.tls_ctx_verify = core::make_client_tls_context();
  o.connect = cfg.outbound.connect_timeout;
  o.greeting = o.ehlo = o.mail = o.rcpt = cfg.outbound.command_timeout;
  o.data_init = std::min<std::chrono::milliseconds>(cfg.outbound.command_timeout, 120s);
  o.data_block = std::min<std::chrono::milliseconds>(cfg.outbound.command_timeout, 180s);
  o.data_end = cfg.outbound.data_timeout;
  impl->transfer.max_messages_per_connection = cfg.outbound.max_messages_per_connection;
  impl->rules = {cfg.outbound.retry_min, cfg.outbound.retry_max, cfg.outbound.lifetime,
                 cfg.outbound.delay_warning};
  return std::make_shared<OutboundService>(std::move(impl));
}

void OutboundService::start() {
  auto self = impl_;
  self->loops += 3;
  Impl::spawn_loop(self, &Impl::claim_loop, "claim loop");
  Impl::spawn_loop(self, &Impl::record_loop, "record loop");
  Impl::spawn_loop(self, &Impl::report_loop, "report loop");
  spdlog::info("outbound: queue workers started ({} connections, {} per domain)",
               self->cfg.max_connections, self->cfg.max_connections_per_domain);
}

awaitable<void> OutboundService::stop() {
  auto self = impl_;
  if (self->stopping.exchange(true)) co_return;
  co_await self->release_waiting();
  // Transactions in progress finish and are recorded; bounded by the shutdown budget.
  for (int i = 0; i < 500 && self->loops > 0; ++i) co_await sleep_for(self->ex, 20ms);
  if (self->loops > 0)
    spdlog::warn("outbound: stopped with {} deliveries in progress (due again after the lease)",
                 self->loops.load());
  spdlog::info("outbound: stopped; {} connections opened, {} transactions",
               self->transfer.connections->load(), self->transfer.transactions->load());
}

}  // namespace govmail::smtp
