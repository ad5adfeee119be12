// AdminStore::record_login: the last successful login of an account, for `account unused`.
#include "admin_store_pg.hpp"
#include "core/asio.hpp"
#include "query.hpp"

namespace govmail::store {
namespace {

// Throttled in SQL: a client logging in every few seconds does not write a row each time.
inline constexpr pg::Statement kRecordLogin{
    "gm_record_login",
    "UPDATE accounts SET last_login_at = now() WHERE id = $1"
    " AND (last_login_at IS NULL OR last_login_at < now() - interval '1 minute')"};

}  // namespace

awaitable<Result<void>> PgAdminStore::record_login(AccountId id) {
  auto rows = co_await detail::run(*pool_, kRecordLogin, detail::Params().num(id), "record login");
  if (!rows) co_return unexpected(rows.error());
  co_return Result<void>{};
}

}  // namespace govmail::store
