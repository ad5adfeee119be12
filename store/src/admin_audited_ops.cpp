// store/admin_audited.hpp, the operator's larger jobs: account creation, unit import, domain
// merge, purge, DKIM keys and search reindexing, each with its entry in its transaction.
#include <string>

#include "admin_audited_tx.hpp"
#include "admin_store_pg.hpp"
#include "core/asio.hpp"
#include "directory_pg.hpp"
#include "sql/admin_sql.hpp"
#include "sql/directory_sql.hpp"
#include "sql/outbound_sql.hpp"
#include "sql/search_sql.hpp"
#include "store/admin_audited.hpp"

namespace govmail::store::audited {

using detail::Params;
using tx::pool_of;
using tx::rows_and_entry;

awaitable<Result<Account>> add_account(Database& db, NewAccount account, AuditEntry entry) {
  auto params = detail::add_account_params(std::move(account));
  if (!params) co_return unexpected(params.error());
  auto rows = co_await rows_and_entry(db, sql::kAddAccount, std::move(*params), std::move(entry),
                                      "add account");
  if (!rows) co_return unexpected(rows.error());
  co_return detail::parse_account(*rows, 0);
}

awaitable<Result<ImportCounts>> import_units(Database& db, std::vector<OrgUnit> units,
                                             AuditEntry entry) {
  ImportCounts counts;
  auto r = co_await pg::transaction(pool_of(db),
                                    [&](pg::Connection& c) -> awaitable<pg::PgResultOr<void>> {
                                      auto done = co_await detail::upsert_units(c, units);
                                      if (!done) co_return unexpected(done.error());
                                      counts = *done;
                                      AuditEntry e = entry;
                                      e.detail = std::to_string(counts.created) + " created, " +
                                                 std::to_string(counts.updated) + " updated";
                                      co_return co_await tx::write_entry(c, e);
                                    });
  if (!r) co_return unexpected(detail::map_error(r.error(), "import units"));
  co_return counts;
}

awaitable<Result<MergeReport>> merge_domain(Database& db, std::string old_domain,
                                            std::string new_domain, AuditEntry entry) {
  MergeReport m;
  auto r = co_await pg::transaction(
      pool_of(db), [&](pg::Connection& c) -> awaitable<pg::PgResultOr<void>> {
        Params p;
        p.text(old_domain).text(new_domain);
        auto rows = co_await c.exec(sql::kMergeDomain, p.span());
        if (!rows) co_return unexpected(rows.error());
        m = detail::parse_merge(*rows);
        if (!m.collisions.empty()) co_return pg::PgResultOr<void>{};  // refused: nothing changed
        AuditEntry e = entry;
        e.detail += ": " + std::to_string(m.accounts) + " accounts, " + std::to_string(m.aliases) +
                    " aliases, " + std::to_string(m.groups) + " groups moved";
        co_return co_await tx::write_entry(c, e);
      });
  if (!r) co_return unexpected(detail::map_error(r.error(), "merge domain"));
  co_return m;
}

awaitable<Result<std::vector<std::string>>> purge_deleted(Database& db, int retention_days,
                                                          AuditEntry entry) {
  Params days;
  days.num(retention_days);
  auto rows = co_await detail::run(pool_of(db), sql::kPurgeCandidates, days, "purge candidates");
  if (!rows) co_return unexpected(rows.error());
  std::vector<std::string> purged;
  for (int i = 0; i < rows->size(); ++i) {  // one transaction per account: bounded work each
    AuditEntry e = entry;
    e.target = std::string(rows->get(i, 1));
    Params p;
    p.num(rows->get_int(i, 0));
    auto r = co_await rows_and_entry(db, sql::kPurgeAccount, std::move(p), std::move(e),
                                     "purge account", std::nullopt);
    if (r)
      purged.emplace_back(rows->get(i, 1));
    else if (r.error() != StoreError::not_found)  // restored meanwhile: not purged
      co_return unexpected(r.error());
  }
  co_return purged;
}

awaitable<Result<DkimKey>> add_dkim_key(Database& db, DkimKey key, AuditEntry entry) {
  Params p;
  p.text(key.domain).text(key.selector).text(key.algorithm).text(key.private_pem);
  p.text(key.public_b64);
  auto rows =
      co_await rows_and_entry(db, sql::kDkimAdd, std::move(p), std::move(entry), "dkim add");
  if (!rows) co_return unexpected(rows.error());
  key.id = rows->get_int(0, 0);
  key.created_at = rows->get_int(0, 1);
  key.active = true;
  co_return key;
}

awaitable<Result<std::int64_t>> search_requeue(Database& db, std::vector<AccountId> accounts,
                                               AuditEntry entry) {
  std::vector<std::int64_t> ids(accounts.begin(), accounts.end());
  Params p;
  p.num_array(ids);
  const tx::Describe count = [](const pg::Rows& r, AuditEntry& e) {
    e.detail = std::to_string(r.affected()) + " messages queued";
  };
  auto rows = co_await rows_and_entry(db, sql::kSearchRequeue, std::move(p), std::move(entry),
                                      "search requeue", std::nullopt, &count);
  if (!rows) co_return unexpected(rows.error());
  co_return rows->affected();
}

}  // namespace govmail::store::audited
