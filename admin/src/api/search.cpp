// GET search/stats (province admins): the search indexer's lag and the index size, as
// `govmail search stats` prints them (docs/SEARCH.md).
#include "api.hpp"
#include "core/asio.hpp"
#include "search/index.hpp"
#include "store/search_queue.hpp"

namespace govmail::admin::api {

awaitable<HttpResponse> search_stats(Call& c) {
  auto q = co_await c.s.db->search_queue().stats();
  if (!q) co_return store_fail(q.error(), "search queue");
  json shards = json::array();
  std::uint64_t total = 0;
  if (c.s.search) {
    for (const auto& st : co_await c.s.search->shard_stats()) {
      total += st.documents;
      shards.push_back({{"shard", st.shard}, {"documents", st.documents}, {"healthy", st.healthy}});
    }
  }
  co_return ok({{"queued", q->queued},
                {"oldest_age_seconds", q->oldest_age_seconds},
                {"removals", q->removals},
                {"indexer", q->lease_holder},
                {"documents", total},
                {"shards", shards}});
}

}  // namespace govmail::admin::api
