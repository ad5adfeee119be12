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
};

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
  std::size_t inflight = 0;  // claimed recipients not yet recorded
  std::atomic<bool> stopping{false};
  std::atomic<int> loops{0};  // claim loop, report loop and runners still going

  store::OutboundQueue& queue() { return db->outbound(); }
  std::size_t max_inflight() const { return std::max<std::size_t>(cfg.claim_batch * 2, 1); }

  // ---- claiming and dispatch ------------------------------------------------------------------

  void dispatch(store::Claim claim) {
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
          asio::co_spawn(ex, run_domain(me, name), asio::detached);
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
      if (got > 0) self->dispatch(std::move(*claim));
      if (static_cast<int>(got) < want) co_await sleep_for(self->ex, self->cfg.poll_interval);
    }
    --self->loops;
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
        if (!connected || stopping || std::chrono::steady_clock::now() >= deadline) {
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

  static awaitable<void> run_domain(std::shared_ptr<Impl> self, std::string domain) {
    outbound::Link link;
    std::optional<outbound::Destination> dest;
    for (;;) {
      auto job = co_await self->next_job(domain, link.connection != nullptr);
      if (!job) break;
      if (!dest) {
        dest = co_await outbound::resolve_destination(*self->resolver, self->cfg, self->routes,
                                                      domain);
      }
      co_await self->deliver(*job, *dest, link);
    }
    if (link.connection) co_await link.connection->quit();
    --self->loops;
  }

  awaitable<void> deliver(const Job& job, const outbound::Destination& dest, outbound::Link& link) {
    const auto& first = job.rcpts.front();
    std::vector<AttemptResult> results;
    auto raw = co_await queue().message(first.message_id);
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
      const std::string message = dkim.prepare(**raw, cfg.dkim_sign, now_unix());
      results = co_await outbound::transfer(ex, transfer, dest, link, job.rcpts, message);
    }
    co_await record(job, results);
  }

  awaitable<void> record(const Job& job, const std::vector<AttemptResult>& results) {
    std::vector<store::AttemptOutcome> outcomes;
    const auto now = now_unix();
    for (std::size_t i = 0; i < job.rcpts.size(); ++i) {
      const auto& r = job.rcpts[i];
      outcomes.push_back(outbound::decide(r, results[i], rules, now));
      const auto& o = outcomes.back();
      spdlog::info("outbound Q{} to=<{}> relay={} attempt={} status={} ({})", r.queue_id,
                   core::log_safe(r.address, 100),
                   results[i].host.empty() ? "none" : results[i].host, r.attempts,
                   store::to_string(o.status), core::log_safe(o.reply, 200));
    }
    // A failed write leaves the rows claimed: they are due again when the lease ends, and
    // recipients that were delivered may then be sent twice (never lost).
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto recorded = co_await queue().record(job.token, outcomes);
      if (recorded) break;
      spdlog::error("outbound Q{}: recording outcomes failed: {}", job.rcpts.front().queue_id,
                    store::to_string(recorded.error()));
      co_await sleep_for(ex, 500ms);
    }
    finish(job.rcpts.size());
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
        for (const auto& job : dq.jobs)
          for (const auto& r : job.rcpts) by_token[job.token].push_back({r.queue_id, r.ordinal});
        inflight -= std::min(inflight, dq.jobs.size());
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
    std::shared_ptr<Backend> backend) {
  auto impl = std::make_shared<Impl>();
  impl->ex = ex;
  impl->cfg = cfg.outbound;
  impl->hostname = cfg.server.hostname;
  for (const auto& text : cfg.outbound.routes) {
    auto route = core::parse_outbound_route(text);
    if (!route) return unexpected("outbound.routes: cannot read \"" + text + "\"");
    impl->routes.push_back(std::move(*route));
  }
  core::DnsOptions dns;
  dns.forwarders = cfg.outbound.resolvers;
  dns.timeout = cfg.outbound.dns_timeout;
  auto resolver = core::Resolver::create(ex, dns);
  if (!resolver) return unexpected("outbound resolver: " + resolver.error());
  impl->resolver = *resolver;
  impl->db = std::move(db);
  impl->backend = std::move(backend);
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
  self->loops += 2;
  asio::co_spawn(self->ex, Impl::claim_loop(self), asio::detached);
  asio::co_spawn(self->ex, Impl::report_loop(self), asio::detached);
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
  self->resolver->stop();
  spdlog::info("outbound: stopped; {} connections opened, {} transactions",
               self->transfer.connections->load(), self->transfer.transactions->load());
}

}  // namespace govmail::smtp
