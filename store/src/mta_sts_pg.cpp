#include "mta_sts_pg.hpp"

#include "core/asio.hpp"
#include "query.hpp"
#include "sql/mta_sts_sql.hpp"

namespace govmail::store {

using detail::Params;
using detail::run;

awaitable<Result<MtaStsEntry>> PgMtaStsCache::get(std::string domain) {
  auto rows =
      co_await run(*pool_, sql::kMtaStsGet, Params().text(std::move(domain)), "mta-sts get");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  MtaStsEntry e;
  e.domain = std::string(rows->get(0, 0));
  e.policy_id = std::string(rows->get(0, 1));
  e.policy = std::string(rows->get(0, 2));
  e.fetched_at = rows->get_int(0, 3);
  e.expires_at = rows->get_int(0, 4);
  co_return e;
}

awaitable<Result<void>> PgMtaStsCache::put(MtaStsEntry entry) {
  Params p;
  p.text(std::move(entry.domain)).text(std::move(entry.policy_id)).text(std::move(entry.policy));
  p.num(entry.fetched_at).num(entry.expires_at);
  auto rows = co_await run(*pool_, sql::kMtaStsPut, p, "mta-sts put");
  if (!rows) co_return unexpected(rows.error());
  co_return Result<void>{};
}

awaitable<Result<int>> PgMtaStsCache::prune(std::int64_t grace_seconds) {
  auto rows = co_await run(*pool_, sql::kMtaStsPrune, Params().num(grace_seconds), "mta-sts prune");
  if (!rows) co_return unexpected(rows.error());
  co_return static_cast<int>(rows->affected());
}

}  // namespace govmail::store
