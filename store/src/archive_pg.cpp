// ArchiveStore on PostgreSQL: reads of the chains for verify, checkpoints, search, and the
// retention and hold changes, each with its audit entry in the same statement.
#include "core/hex.hpp"
#include "store/archive.hpp"

#include "admin_store_pg.hpp"
#include "store/database.hpp"

#include "core/asio.hpp"
#include "pg/pg.hpp"
#include "query.hpp"
#include "sql/archive_sql.hpp"

namespace govmail::store {

using detail::Params;
using detail::run;

namespace {

JournalEntry parse_journal(const pg::Rows& r, int i) {
  JournalEntry e;
  e.id = r.get_int(i, 0);
  e.chain = std::string(r.get(i, 1));
  e.seq = r.get_int(i, 2);
  e.at_us = r.get_int(i, 3);
  e.purged = r.get_bool(i, 4);
  e.purge_audit_id = r.get_int(i, 5);
  e.direction = std::string(r.get(i, 6));
  e.envelope_from = std::string(r.get(i, 7));
  e.recipients = detail::parse_text_array(r.get(i, 8));
  e.auth_user = std::string(r.get(i, 9));
  e.client_ip = std::string(r.get(i, 10));
  e.blob_sha256 = r.get_bytea(i, 11);
  e.size = r.get_int(i, 12);
  e.subject = std::string(r.get(i, 13));
  e.from_address = std::string(r.get(i, 14));
  e.message_id_hdr = std::string(r.get(i, 15));
  e.prev_hash = r.get_bytea(i, 16);
  e.hash = r.get_bytea(i, 17);
  e.missing = r.get_bool(i, 19);
  e.content_hash = r.get_bytea(i, 18);
  return e;
}

AuditRecord parse_audit(const pg::Rows& r, int i) {
  AuditRecord a;
  a.id = r.get_int(i, 0);
  a.seq = r.get_int(i, 1);
  a.at_us = r.get_int(i, 2);
  a.actor = std::string(r.get(i, 3));
  a.source = std::string(r.get(i, 4));
  a.action = std::string(r.get(i, 5));
  a.target = std::string(r.get(i, 6));
  a.detail = std::string(r.get(i, 7));
  a.ok = r.get_bool(i, 8);
  a.prev_hash = r.get_bytea(i, 9);
  a.hash = r.get_bytea(i, 10);
  return a;
}

template <class T, class F>
Result<std::vector<T>> all_rows(Result<pg::Rows> rows, F parse) {
  if (!rows) return unexpected(rows.error());
  std::vector<T> out;
  out.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) out.push_back(parse(*rows, i));
  return out;
}

Result<std::int64_t> first_int(Result<pg::Rows> rows) {
  if (!rows) return unexpected(rows.error());
  if (rows->size() == 0) return unexpected(StoreError::not_found);
  return rows->get_int(0, 0);
}

class PgArchiveStore final : public ArchiveStore {
 public:
  explicit PgArchiveStore(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

  awaitable<Result<std::vector<JournalEntry>>> journal_page(std::string chain,
                                                            std::int64_t after_seq,
                                                            int limit) override {
    Params p;
    p.text(chain).num(after_seq).num(limit);
    co_return all_rows<JournalEntry>(co_await run(*pool_, sql::kJournalPage, p, "journal page"),
                                     parse_journal);
  }

  awaitable<Result<std::vector<AuditRecord>>> audit_page(std::int64_t after_seq,
                                                         int limit) override {
    Params p;
    p.num(after_seq).num(limit);
    co_return all_rows<AuditRecord>(co_await run(*pool_, sql::kAuditPage, p, "audit page"),
                                    parse_audit);
  }

  awaitable<Result<std::int64_t>> link_journal(int max) override {
    Params p;
    p.num(max);
    auto rows = co_await run(*pool_, sql::kLinkJournal, p, "link journal");
    if (!rows) co_return unexpected(rows.error());
    co_return rows->get_int(0, 0);
  }

  // Every entry whose transaction has ended, a bounded batch per statement.
  awaitable<Result<void>> link_pending() {
    constexpr int kBatch = 50'000;
    for (;;) {
      auto n = co_await link_journal(kBatch);
      if (!n) co_return unexpected(n.error());
      if (*n < kBatch) co_return Result<void>{};
    }
  }

  awaitable<Result<std::vector<ChainHead>>> heads() override {
    // Every reader of the chains sees the entries committed so far in them.
    if (auto linked = co_await link_pending(); !linked) co_return unexpected(linked.error());
    Params p;
    co_return all_rows<ChainHead>(
        co_await run(*pool_, sql::kHeads, p, "chain heads"), [](const pg::Rows& r, int i) {
          return ChainHead{std::string(r.get(i, 0)), r.get_int(i, 1), r.get_bytea(i, 2),
                           r.get_int(i, 3), r.get_bytea(i, 4)};
        });
  }

  awaitable<Result<std::vector<Checkpoint>>> checkpoints() override {
    Params p;
    co_return all_rows<Checkpoint>(
        co_await run(*pool_, sql::kCheckpoints, p, "checkpoints"), [](const pg::Rows& r, int i) {
          return Checkpoint{r.get_int(i, 0),   std::string(r.get(i, 1)), r.get_int(i, 2),
                            r.get_bytea(i, 3), r.get_int(i, 4),          r.get_bytea(i, 5),
                            r.get_bytea(i, 6)};
        });
  }

  awaitable<Result<void>> add_checkpoint(Checkpoint c) override {
    Params p;
    p.text(c.chain).num(c.seq).bytes(c.hash).num(c.at_us).bytes(c.public_key).bytes(c.signature);
    auto rows = co_await run(*pool_, sql::kAddCheckpoint, p, "add checkpoint");
    if (!rows) co_return unexpected(rows.error());
    co_return Result<void>{};
  }

  awaitable<Result<std::string>> pin_public_key(std::string public_key) override {
    auto rows = co_await run(*pool_, sql::kPinPublicKey, Params().bytes(std::move(public_key)),
                             "pin public key");
    if (!rows) co_return unexpected(rows.error());
    if (rows->size() == 0) co_return unexpected(StoreError::permanent);
    co_return rows->get_bytea(0, 0);
  }

  awaitable<Result<std::optional<std::string>>> pinned_public_key() override {
    auto rows = co_await run(*pool_, sql::kPinnedPublicKey, Params(), "pinned public key");
    if (!rows) co_return unexpected(rows.error());
    if (rows->size() == 0) co_return std::optional<std::string>{};
    co_return std::optional<std::string>{rows->get_bytea(0, 0)};
  }

  awaitable<Result<bool>> hold_checkpoint_lease(std::string holder,
                                                std::int64_t ttl_seconds) override {
    auto rows = co_await run(*pool_, sql::kHoldCheckpointLease,
                             Params().text(std::move(holder)).num(ttl_seconds), "checkpoint lease");
    if (!rows) co_return unexpected(rows.error());
    co_return rows->size() > 0;
  }

  awaitable<Result<void>> drop_checkpoint_lease(std::string holder) override {
    auto rows = co_await run(*pool_, sql::kDropCheckpointLease, Params().text(std::move(holder)),
                             "checkpoint lease");
    if (!rows) co_return unexpected(rows.error());
    co_return Result<void>{};
  }

  awaitable<Result<std::optional<std::int64_t>>> find_hash(std::string chain,
                                                           std::string hash) override {
    Params p;
    p.text(chain).bytes(hash);
    auto rows = co_await run(*pool_, sql::kFindHash, p, "find hash");
    if (!rows) co_return unexpected(rows.error());
    if (rows->size() == 0) co_return std::optional<std::int64_t>{};
    co_return std::optional<std::int64_t>{rows->get_int(0, 0)};
  }

  awaitable<Result<std::int64_t>> seq_at(std::string chain, std::int64_t at_us,
                                         bool first_after) override {
    Params p;
    p.text(chain).num(at_us).boolean(first_after);
    co_return first_int(co_await run(*pool_, sql::kSeqAt, p, "seq at"));
  }

  awaitable<Result<std::optional<std::string>>> blob(std::string sha256) override {
    Params p;
    p.bytes(sha256);
    auto rows = co_await run(*pool_, sql::kBlob, p, "archive blob");
    if (!rows) co_return unexpected(rows.error());
    if (rows->size() == 0) co_return std::optional<std::string>{};
    co_return std::optional<std::string>{rows->get_bytea(0, 0)};
  }

  awaitable<Result<std::map<std::string, std::string>>> blobs(
      std::vector<std::string> sha256s) override {
    std::vector<std::string> hex;
    for (const auto& raw : sha256s) hex.push_back(core::to_hex(raw));
    Params p;
    p.text_array(hex);
    auto rows = co_await run(*pool_, sql::kBlobs, p, "archive blobs");
    if (!rows) co_return unexpected(rows.error());
    std::map<std::string, std::string> out;
    for (int i = 0; i < rows->size(); ++i)
      out.emplace(rows->get_bytea(i, 0), rows->get_bytea(i, 1));
    co_return out;
  }

  awaitable<Result<std::optional<std::int64_t>>> unchained_entry() override {
    Params p;
    auto rows = co_await run(*pool_, sql::kUnchainedEntry, p, "unchained entry");
    if (!rows) co_return unexpected(rows.error());
    if (rows->size() == 0) co_return std::nullopt;
    co_return rows->get_int(0, 0);
  }

  awaitable<Result<bool>> is_purge_audit(std::int64_t audit_id) override {
    Params p;
    p.num(audit_id);
    auto rows = co_await run(*pool_, sql::kIsPurgeAudit, p, "purge audit");
    if (!rows) co_return unexpected(rows.error());
    co_return rows->get_bool(0, 0);
  }

  awaitable<Result<std::vector<JournalEntry>>> search(JournalQuery q) override {
    Params p;
    p.num(q.after_id).opt_num(q.from_us).opt_num(q.to_us).text(q.participant).num(q.limit);
    if (q.ids)
      p.num_array(*q.ids);
    else
      p.null();
    if (q.only_above || !q.above_chains.empty())
      p.text_array(q.above_chains).num_array(q.above_seqs);
    else
      p.null().null();
    co_return all_rows<JournalEntry>(co_await run(*pool_, sql::kJournalSearch, p, "search"),
                                     parse_journal);
  }

  awaitable<Result<std::vector<PurgedEntry>>> purged_after(PurgedEntry after, int limit) override {
    Params p;
    p.num(after.purge_audit_id).num(after.id).num(limit);
    co_return all_rows<PurgedEntry>(co_await run(*pool_, sql::kPurgedAfter, p, "purged entries"),
                                    [](const pg::Rows& r, int i) {
                                      return PurgedEntry{r.get_int(i, 0), r.get_int(i, 1)};
                                    });
  }

  awaitable<Result<JournalEntry>> entry(std::int64_t id) override {
    Params p;
    p.num(id);
    auto rows = co_await run(*pool_, sql::kJournalEntry, p, "journal entry");
    if (!rows) co_return unexpected(rows.error());
    if (rows->size() == 0) co_return unexpected(StoreError::not_found);
    co_return parse_journal(*rows, 0);
  }

  awaitable<Result<std::int64_t>> purge(ArchiveActor who, bool dry_run,
                                        const QueryHoldMatches& m) override {
    // An entry is chained before it may become a tombstone (whose content no longer hashes).
    if (auto linked = co_await link_pending(); !linked) co_return unexpected(linked.error());
    Params p;
    p.text(who.actor)
        .text(who.source)
        .boolean(dry_run)
        .num_array(m.evaluated)
        .num_array(m.holds)
        .num_array(m.match_hold)
        .num_array(m.match_entry);
    co_return first_int(co_await run(*pool_, sql::kPurge, p, "archive purge"));
  }

  awaitable<Result<std::vector<std::int64_t>>> purge_candidates() override {
    Params p;
    co_return all_rows<std::int64_t>(
        co_await run(*pool_, sql::kArchivePurgeCandidates, p, "purge candidates"),
        [](const pg::Rows& r, int i) { return r.get_int(i, 0); });
  }

  awaitable<Result<std::int64_t>> audit_prune(ArchiveActor who, int keep_days) override {
    Params p;
    p.num(keep_days).text(who.actor).text(who.source);
    co_return first_int(co_await run(*pool_, sql::kAuditPrune, p, "audit prune"));
  }

  awaitable<Result<std::vector<RetentionPolicy>>> policies() override {
    Params p;
    co_return all_rows<RetentionPolicy>(
        co_await run(*pool_, sql::kPolicies, p, "policies"), [](const pg::Rows& r, int i) {
          return RetentionPolicy{r.get_int(i, 0), std::string(r.get(i, 1)),
                                 std::string(r.get(i, 2)), static_cast<int>(r.get_int(i, 3))};
        });
  }

  awaitable<Result<void>> set_policy(ArchiveActor who, RetentionPolicy pol) override {
    Params p;
    p.text(who.actor).text(who.source).text(pol.scope).text(pol.value).num(pol.years);
    auto rows = co_await run(*pool_, sql::kSetPolicy, p, "set policy");
    if (!rows) co_return unexpected(rows.error());
    co_return Result<void>{};
  }

  awaitable<Result<std::vector<LegalHold>>> holds() override {
    Params p;
    co_return all_rows<LegalHold>(co_await run(*pool_, sql::kHolds, p, "holds"),
                                  [](const pg::Rows& r, int i) {
                                    LegalHold h;
                                    h.id = r.get_int(i, 0);
                                    h.name = std::string(r.get(i, 1));
                                    h.account = std::string(r.get(i, 2));
                                    h.unit = std::string(r.get(i, 3));
                                    if (!r.is_null(i, 4)) h.from_us = r.get_int(i, 4);
                                    if (!r.is_null(i, 5)) h.to_us = r.get_int(i, 5);
                                    h.created_by = std::string(r.get(i, 6));
                                    h.released = r.get_bool(i, 7);
                                    h.query = std::string(r.get(i, 8));
                                    return h;
                                  });
  }

  awaitable<Result<std::int64_t>> add_hold(ArchiveActor who, LegalHold h) override {
    Params p;
    p.text(who.actor)
        .text(who.source)
        .text(h.name)
        .text(h.account)
        .text(h.unit)
        .opt_num(h.from_us)
        .opt_num(h.to_us)
        .text(h.query);
    co_return first_int(co_await run(*pool_, sql::kAddHold, p, "add hold"));
  }

  awaitable<Result<void>> release_hold(ArchiveActor who, std::int64_t id) override {
    Params p;
    p.text(who.actor).text(who.source).num(id);
    auto n = first_int(co_await run(*pool_, sql::kReleaseHold, p, "release hold"));
    if (!n) co_return unexpected(n.error());
    if (*n == 0) co_return unexpected(StoreError::not_found);
    co_return Result<void>{};
  }

  awaitable<Result<std::vector<AuditRecord>>> audit_query(AuditFilter f) override {
    Params p;
    p.num(f.after_seq)
        .opt_num(f.from_us)
        .opt_num(f.to_us)
        .text(f.actor)
        .text(f.target)
        .text(f.action_prefix)
        .num(f.limit);
    co_return all_rows<AuditRecord>(co_await run(*pool_, sql::kAuditQuery, p, "audit query"),
                                    parse_audit);
  }

 private:
  std::shared_ptr<pg::Pool> pool_;
};

}  // namespace

std::unique_ptr<ArchiveStore> archive_of(Database& db) {
  // Database::admin() is always the PostgreSQL store; its pool is the Database's.
  return std::make_unique<PgArchiveStore>(dynamic_cast<PgAdminStore&>(db.admin()).pool());
}

}  // namespace govmail::store
