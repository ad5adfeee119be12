// The indexer's round behind the auditors' text index (admin/archive.hpp index_round,
// search/archive_index.hpp): the journal read chain by chain past the index's cursors, purged
// entries forgotten, all committed at once.
#include "search/archive_index.hpp"

#include <algorithm>

#include "admin/archive.hpp"
#include "core/asio.hpp"
#include "core/worker_pool.hpp"
#include "store/mime.hpp"

namespace govmail::admin::archive {
namespace {

constexpr int kPage = 200;  // journal entries read per statement

// Runs `job` off the io thread when there is a pool; false when the pool refused it.
awaitable<bool> off_io(core::WorkerPool* pool, std::function<void()> job) {
  if (!pool) {
    job();
    co_return true;
  }
  co_return co_await pool->run(std::move(job));
}

// The messages of a page's entries (not purged), fetched a few at a time: one statement per
// group instead of one per message, a group at most kGroupBytes (a single larger message alone).
constexpr std::int64_t kGroupBytes = 8 << 20;

awaitable<store::Result<void>> index_page(store::ArchiveStore& store,
                                          search::ArchiveIndexWriter& index,
                                          const std::vector<store::JournalEntry>& page,
                                          core::WorkerPool* pool) {
  for (std::size_t first = 0; first < page.size();) {
    std::size_t end = first;
    std::int64_t bytes = 0;
    std::vector<std::string> shas;
    while (end < page.size() && (end == first || bytes + page[end].size <= kGroupBytes)) {
      if (!page[end].purged) {
        bytes += page[end].size;
        shas.push_back(page[end].blob_sha256);
      }
      ++end;
    }
    auto raws = co_await store.blobs(std::move(shas));
    if (!raws) co_return store::unexpected(raws.error());
    std::function<void()> add = [&] {
      for (std::size_t i = first; i < end; ++i) {
        const auto& e = page[i];
        if (e.purged) {
          index.advance(e.chain, e.seq, e.hash);
          continue;
        }
        auto raw = raws->find(e.blob_sha256);
        const std::string body =
            raw != raws->end() ? store::parse_message(raw->second).search_text : std::string();
        index.add({e.id, e.chain, e.seq, e.hash, entry_text(e, body)});
      }
    };
    if (!co_await off_io(pool, std::move(add)))
      co_return store::unexpected(store::StoreError::temporary);
    first = end;
  }
  co_return store::Result<void>{};
}

// Adds the chain's entries past `after`, at most `max`, up to the first journaled at or after
// `before_us` (0: no bound); returns how many were read.
awaitable<store::Result<std::size_t>> index_chain(store::ArchiveStore& store,
                                                  search::ArchiveIndexWriter& index,
                                                  const std::string& chain, std::int64_t after,
                                                  std::size_t max, core::WorkerPool* pool,
                                                  std::int64_t before_us) {
  std::size_t n = 0;
  while (n < max) {
    const int limit = static_cast<int>(std::min<std::size_t>(kPage, max - n));
    auto page = co_await store.journal_page(chain, after, limit);
    if (!page) co_return store::unexpected(page.error());
    const bool full = static_cast<int>(page->size()) == limit;
    // The cursor is a seq: an entry is left only with everything after it in its chain.
    auto too_new = std::find_if(page->begin(), page->end(), [&](const store::JournalEntry& e) {
      return before_us != 0 && e.at_us >= before_us;
    });
    const bool cut = too_new != page->end();
    page->erase(too_new, page->end());
    if (page->empty()) break;
    auto added = co_await index_page(store, index, *page, pool);
    if (!added) co_return store::unexpected(added.error());
    after = page->back().seq;
    n += page->size();
    if (cut || !full) break;
  }
  co_return n;
}

awaitable<store::Result<void>> forget_purged(store::ArchiveStore& store,
                                             search::ArchiveIndexWriter& index, std::size_t max) {
  auto [audit_id, id] = index.purge_cursor();
  store::PurgedEntry after{audit_id, id};
  auto purged = co_await store.purged_after(after, static_cast<int>(max));
  if (!purged) co_return store::unexpected(purged.error());
  for (const auto& p : *purged) {
    index.remove(p.id);
    index.set_purge_cursor(p.purge_audit_id, p.id);
  }
  co_return store::Result<void>{};
}

}  // namespace

awaitable<store::Result<bool>> index_is_of(store::ArchiveStore& store,
                                           const search::ArchiveCursor& cursor) {
  for (const auto& [chain, mark] : cursor) {
    auto page = co_await store.journal_page(chain, mark.seq - 1, 1);
    if (!page) co_return store::unexpected(page.error());
    if (page->empty() || page->front().seq != mark.seq || page->front().hash != mark.hash)
      co_return false;
  }
  co_return true;
}

std::filesystem::path index_path(const core::Config& cfg) {
  return cfg.server.var_dir / "archive-index";
}

awaitable<store::Result<std::size_t>> index_round(store::ArchiveStore& store,
                                                  search::ArchiveIndexWriter& index,
                                                  std::size_t max, core::WorkerPool* pool,
                                                  std::int64_t before_us) {
  auto heads = co_await store.heads();
  if (!heads) co_return store::unexpected(heads.error());
  const auto cursor = index.cursor();
  auto ours = co_await index_is_of(store, cursor);
  if (!ours) co_return store::unexpected(ours.error());
  if (!*ours) co_return store::unexpected(store::StoreError::conflict);
  std::size_t n = 0;
  for (const auto& h : *heads) {
    if (!h.chain.starts_with("journal.") || n >= max) continue;
    auto at = cursor.find(h.chain);
    const std::int64_t after = at == cursor.end() ? 0 : at->second.seq;
    if (h.seq <= after) continue;
    auto added = co_await index_chain(store, index, h.chain, after, max - n, pool, before_us);
    if (!added) {
      // What was added before is whole (each entry moved its chain's cursor): kept.
      std::function<void()> keep = [&] { index.commit(); };
      co_await off_io(pool, std::move(keep));
      co_return store::unexpected(added.error());
    }
    n += *added;
  }
  auto forgot = co_await forget_purged(store, index, max);
  bool committed = false;
  std::function<void()> commit = [&] { committed = index.commit(); };
  co_await off_io(pool, std::move(commit));
  if (!committed || !forgot)
    co_return store::unexpected(forgot ? store::StoreError::permanent : forgot.error());
  co_return n;
}

}  // namespace govmail::admin::archive
