// The archive purge with legal holds by query (docs/ARCHIVE.md, migration 0028): the words of
// each query hold are looked for in every entry the policies would purge, through the auditors'
// text index and by parsing what it has not reached, and the database purges what none of the
// holds keeps.
#include <limits>

#include "admin/archive.hpp"
#include "core/asio.hpp"

namespace govmail::admin::archive {

awaitable<store::Result<std::int64_t>> purge(store::ArchiveStore& store,
                                             const std::filesystem::path& index_dir,
                                             store::ArchiveActor who, bool dry_run) {
  store::QueryHoldMatches matches;
  auto holds = co_await store.holds();
  if (!holds) co_return store::unexpected(holds.error());
  bool any_query = false;
  for (const auto& h : *holds) any_query |= !h.released && !h.query.empty();
  if (any_query) {
    auto candidates = co_await store.purge_candidates();
    if (!candidates) co_return store::unexpected(candidates.error());
    matches.evaluated = *candidates;
    for (const auto& h : *holds) {
      if (h.released || h.query.empty() || candidates->empty()) continue;
      SearchOptions opt;
      opt.text = h.query;
      opt.query.ids = *candidates;
      opt.index_dir = index_dir;
      // Every match: none of them may be missed for a bound (the entries are the candidates).
      opt.scan_max = opt.results_max = std::numeric_limits<std::int32_t>::max();
      auto found = co_await search(store, opt);
      if (!found) co_return store::unexpected(found.error());
      for (const auto& e : *found) {
        matches.match_hold.push_back(h.id);
        matches.match_entry.push_back(e.id);
      }
      matches.holds.push_back(h.id);
    }
  }
  co_return co_await store.purge(std::move(who), dry_run, matches);
}

}  // namespace govmail::admin::archive
