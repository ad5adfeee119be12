// govmail search stats | reindex --account ADDR | --all [--progress] | query ADDR TEXT...
// (docs/SEARCH.md). The CLI never writes Xapian: reindex queues every message of the accounts
// for the running server's indexer (the one writer) and follows the queue as it drains.
#include <unistd.h>

#include <chrono>

#include "admin/import_run.hpp"
#include "admin_cli.hpp"
#include "commands.hpp"
#include "core/asio.hpp"
#include "runtime.hpp"
#include "search/index.hpp"
#include "store/admin_audited.hpp"
#include "store/search_queue.hpp"

namespace govmail::app {
namespace {

std::filesystem::path search_dir(const core::Config& cfg) {
  return cfg.server.var_dir / "search";
}

awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(use_awaitable);
}

}  // namespace

awaitable<int> search_stats(AdminContext& c) {
  if (!c.args.empty()) co_return admin_usage_error("search stats takes no argument");
  auto s = co_await c.db.search_queue().stats();
  if (!s) co_return admin_fail(store_error(s.error(), "search queue"));
  std::printf("queue: %lld messages, oldest %lld s, %lld removals\nindexer: %s\n",
              static_cast<long long>(s->queued), static_cast<long long>(s->oldest_age_seconds),
              static_cast<long long>(s->removals),
              s->lease_holder.empty() ? "none running" : s->lease_holder.c_str());
  std::uint64_t total = 0;
  for (const auto& st : search::read_shard_stats(search_dir(c.cfg), c.cfg.search.shards)) {
    total += st.documents;
    if (st.documents == 0 && st.healthy) continue;
    std::printf("shard %03u: %llu documents%s\n", st.shard,
                static_cast<unsigned long long>(st.documents), st.healthy ? "" : " (rebuilding)");
  }
  std::printf("documents: %llu in %u shards\n", static_cast<unsigned long long>(total),
              c.cfg.search.shards);
  co_return 0;
}

awaitable<int> search_reindex(AdminContext& c) {
  const bool all = take_flag(c.args, "--all");
  const bool force_progress = take_flag(c.args, "--progress");
  auto address = take_option(c.args, "--account");
  if (!c.args.empty() || all == address.has_value())
    co_return admin_usage_error("search reindex --account ADDRESS | --all [--progress]");
  std::vector<store::AccountId> accounts;
  store::AccountId watch = 0;
  if (address) {
    auto a = co_await find_account_or_report(c, *address);
    if (!a) co_return 1;
    accounts.push_back(a->id);
    watch = a->id;
    c.audit_target = a->address;
  } else {
    c.audit_target = "all accounts";
  }
  auto& q = c.db.search_queue();
  auto queued = co_await store::audited::search_requeue(c.db, accounts, c.entry());
  if (!queued) co_return admin_fail(store_error(queued.error(), "search reindex"));
  c.audit_written = true;
  auto stats = co_await q.stats();
  if (!stats) co_return admin_fail(store_error(stats.error(), "search queue"));
  if (stats->lease_holder.empty()) {
    std::printf("%lld messages queued; no indexer is running: `govmail serve` indexes them\n",
                static_cast<long long>(*queued));
    co_return 0;
  }
  // Follow the queue: total is what it held for these accounts right after queueing.
  auto start = co_await q.queued_for(watch);
  if (!start) co_return admin_fail(store_error(start.error(), "search queue"));
  const auto total = static_cast<std::size_t>(*start);
  admin::ProgressBar bar(stderr, force_progress);
  auto last_change = std::chrono::steady_clock::now();
  std::int64_t left = *start;
  while (left > 0) {
    co_await sleep_for(std::chrono::milliseconds(200));
    auto now_left = co_await q.queued_for(watch);
    if (!now_left) co_return admin_fail(store_error(now_left.error(), "search queue"));
    if (*now_left < left) last_change = std::chrono::steady_clock::now();
    left = *now_left;
    bar.update("indexing", total - static_cast<std::size_t>(std::min<std::int64_t>(left, total)),
               total);
    if (std::chrono::steady_clock::now() - last_change > 2 * c.cfg.search.lease_ttl) {
      bar.finish();
      co_return admin_fail("the indexer made no progress for " +
                           std::to_string(2 * c.cfg.search.lease_ttl.count()) + " s (" +
                           std::to_string(left) + " messages still queued)");
    }
  }
  bar.finish();
  std::printf("reindexed %lld messages\n", static_cast<long long>(*queued));
  co_return 0;
}

awaitable<int> search_query(AdminContext& c) {
  if (c.args.size() < 2) co_return admin_usage_error("search query ADDRESS TEXT...");
  auto a = co_await find_account_or_report(c, c.args[0]);
  if (!a) co_return 1;
  std::string text;
  for (std::size_t i = 1; i < c.args.size(); ++i) text += (i > 1 ? " " : "") + c.args[i];
  // A shared_ptr that is never started: reads only. The database outlives it (the context).
  std::shared_ptr<store::Database> db(&c.db, [](store::Database*) {});
  search::Index index(co_await asio::this_coro::executor, c.cfg.search, search_dir(c.cfg), db);
  auto hits = co_await index.query(a->id, text, 100);
  if (!hits) co_return admin_fail(std::string(search::to_string(hits.error())));
  for (const auto& h : *hits)
    std::printf("%lld\t%.3f\n", static_cast<long long>(h.message), h.weight);
  co_return 0;
}

int cmd_search(std::vector<std::string> args) {
  args.insert(args.begin(), "search");
  return cmd_admin(std::move(args));
}

}  // namespace govmail::app
