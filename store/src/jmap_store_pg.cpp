#include "jmap_store_pg.hpp"

#include "core/asio.hpp"
#include "query.hpp"
#include "sql/jmap_sql.hpp"

namespace govmail::store {

using detail::Params;
using detail::run;

awaitable<Result<void>> PgJmapStore::create_session(AccountId account, std::string token_sha256,
                                                    std::string csrf_sha256,
                                                    std::int64_t lifetime_seconds) {
  Params p;
  p.bytes(token_sha256).num(account).bytes(csrf_sha256).num(lifetime_seconds);
  auto rows = co_await run(*pool_, sql::kJmapSessionCreate, p, "jmap session create");
  if (!rows) co_return unexpected(rows.error());
  if (rows->affected() == 0) co_return unexpected(StoreError::not_found);  // account not active
  co_return Result<void>{};
}

awaitable<Result<WebSession>> PgJmapStore::find_session(std::string token_sha256,
                                                        std::int64_t idle_seconds) {
  Params p;
  p.bytes(token_sha256).num(idle_seconds);
  auto rows = co_await run(*pool_, sql::kJmapSessionFind, p, "jmap session find");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  WebSession s;
  s.account_id = rows->get_int(0, 0);
  s.address = std::string(rows->get(0, 1));
  s.csrf_sha256_hex = std::string(rows->get(0, 2));
  s.credentials_version = static_cast<std::uint64_t>(rows->get_int(0, 3));
  co_return s;
}

awaitable<Result<void>> PgJmapStore::delete_session(std::string token_sha256) {
  Params p;
  p.bytes(token_sha256);
  auto rows = co_await run(*pool_, sql::kJmapSessionDelete, p, "jmap session delete");
  if (!rows) co_return unexpected(rows.error());
  co_return Result<void>{};
}

awaitable<Result<void>> PgJmapStore::put_upload(AccountId account, std::string sha256,
                                                std::string type, std::string data,
                                                std::int64_t ttl_seconds) {
  Params p;
  p.num(account).bytes(sha256).text(std::move(type)).bytes(data).num(ttl_seconds);
  auto rows = co_await run(*pool_, sql::kJmapUploadPut, p, "jmap upload");
  if (!rows) co_return unexpected(rows.error());
  co_return Result<void>{};
}

awaitable<Result<StoredBlob>> PgJmapStore::read_blob(AccountId account, std::string sha256) {
  Params p;
  p.num(account).bytes(sha256);
  auto rows = co_await run(*pool_, sql::kJmapBlobRead, p, "jmap blob read");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  StoredBlob b;
  b.data = rows->get_bytea(0, 0);
  b.type = std::string(rows->get(0, 1));
  co_return b;
}

awaitable<Result<std::int64_t>> PgJmapStore::sweep() {
  auto rows = co_await run(*pool_, sql::kJmapSweep, Params(), "jmap sweep");
  if (!rows) co_return unexpected(rows.error());
  co_return rows->size() > 0 ? rows->get_int(0, 0) : 0;
}

awaitable<Result<ModSeq>> PgJmapStore::account_modseq(AccountId account) {
  Params p;
  p.num(account);
  auto rows = co_await run(*pool_, sql::kJmapAccountModseq, p, "jmap account state");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  co_return static_cast<ModSeq>(rows->get_int(0, 0));
}

}  // namespace govmail::store
