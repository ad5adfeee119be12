// The plumbing of store/admin_audited.hpp, shared by its source files: a change and its audit
// entry in one transaction.
#pragma once
#include <functional>
#include <optional>
#include <string_view>

#include "core/awaitable_fwd.hpp"
#include "pg/pg.hpp"
#include "query.hpp"
#include "store/admin_store.hpp"
#include "store/database.hpp"

namespace govmail::store::audited::tx {

pg::Pool& pool_of(Database& db);

// Inserts `e` (ok = true) on the transaction's connection.
awaitable<pg::PgResultOr<void>> write_entry(pg::Connection& c, const AuditEntry& e);

// Completes the entry from the change's rows (a count known only once it ran). Passed by
// pointer: GCC 12 destroys a temporary in a co_await argument twice (docs/NOTES.md).
using Describe = std::function<void(const pg::Rows&, AuditEntry&)>;

// `st` then the entry, in one transaction; the change's rows come back. A change of no row
// fails with `no_row` (nullopt: succeeds: adding what is already there changes nothing, and
// the request did succeed).
awaitable<Result<pg::Rows>> rows_and_entry(Database& db, const pg::Statement& st,
                                           detail::Params params, AuditEntry entry,
                                           std::string_view what,
                                           std::optional<StoreError> no_row = StoreError::not_found,
                                           const Describe* describe = nullptr);

}  // namespace govmail::store::audited::tx
