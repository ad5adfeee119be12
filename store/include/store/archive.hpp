// The archive (docs/ARCHIVE.md): the journal of every delivered message, the hash chains of the
// journal and the audit log, signed checkpoints, retention policies and legal holds. Rows come
// back as stored; checking them (hashes, signatures) is admin/archive.hpp's job.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "store/error.hpp"

namespace govmail::store {

// Hashes are raw 32-byte SHA-256 values; times are microseconds since the epoch.
struct JournalEntry {
  std::int64_t id = 0;
  std::string chain;
  std::int64_t seq = 0;
  std::int64_t at_us = 0;
  bool purged = false;
  std::int64_t purge_audit_id = 0;
  std::string direction, envelope_from;
  std::vector<std::string> recipients;
  std::string auth_user, client_ip, blob_sha256;
  std::int64_t size = 0;
  std::string subject, from_address, message_id_hdr;
  std::string prev_hash, hash;
  // Empty for entries written before migration 0027, whose hash covers their canonical form
  // itself ("GMJ1"); else what the "GMJ2" link covers (store::journal_content_canon).
  std::string content_hash;
  // A link whose journal row is gone (removed): only id, chain, seq and the hashes are set.
  bool missing = false;
};

struct AuditRecord {
  std::int64_t id = 0, seq = 0, at_us = 0;
  std::string actor, source, action, target, detail;
  bool ok = true;
  std::string prev_hash, hash;
};

struct ChainHead {
  std::string chain;
  std::int64_t seq = 0;
  std::string hash;
  std::int64_t floor_seq = 1;
  std::string floor_hash;
};

struct Checkpoint {
  std::int64_t id = 0;
  std::string chain;
  std::int64_t seq = 0;
  std::string hash;
  std::int64_t at_us = 0;
  std::string public_key, signature;  // Ed25519, raw
};

// Journal search by metadata: entries (not purged) in id order after `after_id`.
struct JournalQuery {
  std::optional<std::int64_t> from_us, to_us;  // [from, to)
  std::string participant;                     // sender or any recipient (exact, lower-cased)
  std::int64_t after_id = 0;
  int limit = 1000;
  // Only these entries (the auditors' text index's matches).
  std::optional<std::vector<std::int64_t>> ids;
  // Only entries past these seqs of their chain (a chain not named: every entry): the ones the
  // text index has not reached yet. Set when above_chains is not empty or only_above is.
  bool only_above = false;
  std::vector<std::string> above_chains;
  std::vector<std::int64_t> above_seqs;
};

// A purged journal entry, by its purge's audit entry (for the text index to forget it).
struct PurgedEntry {
  std::int64_t purge_audit_id = 0;
  std::int64_t id = 0;
};

struct RetentionPolicy {
  std::int64_t id = 0;
  std::string scope;  // default, domain, unit, group
  std::string value;
  int years = 0;  // 0 = permanent
};

struct LegalHold {
  std::int64_t id = 0;
  std::string name, account, unit;  // empty = any
  std::string query;  // words that must all occur in the entry's text (folded); empty = any
  std::optional<std::int64_t> from_us, to_us;
  std::string created_by;
  bool released = false;
};

// What admin::archive::purge found for the holds by query (migration 0028): a query hold keeps
// an entry unless the entry was evaluated for it and its words were not all there.
struct QueryHoldMatches {
  std::vector<std::int64_t> evaluated;                // the entries whose text was evaluated
  std::vector<std::int64_t> holds;                    // the query holds they were evaluated for
  std::vector<std::int64_t> match_hold, match_entry;  // pairs: the hold's words are in the entry
};

// Who does an archive action (written to the audit log in the same transaction).
struct ArchiveActor {
  std::string actor, source;
};

class ArchiveStore {
 public:
  virtual ~ArchiveStore() = default;
  // Links the journal entries not in a chain yet (migration 0030, govmail_journal_link), at
  // most `max`; returns how many. heads() and purge do it first (all, 50,000 a statement).
  virtual awaitable<Result<std::int64_t>> link_journal(int max) = 0;
  // The first journal entry that should be linked and is not: one written behind the link
  // cursor of journal.32 (an old transaction id) or with no transaction id and no link.
  virtual awaitable<Result<std::optional<std::int64_t>>> unchained_entry() = 0;
  // Chain pages, in seq order, seq > after_seq.
  virtual awaitable<Result<std::vector<JournalEntry>>> journal_page(std::string chain,
                                                                    std::int64_t after_seq,
                                                                    int limit) = 0;
  virtual awaitable<Result<std::vector<AuditRecord>>> audit_page(std::int64_t after_seq,
                                                                 int limit) = 0;
  virtual awaitable<Result<std::vector<ChainHead>>> heads() = 0;
  virtual awaitable<Result<std::vector<Checkpoint>>> checkpoints() = 0;
  virtual awaitable<Result<void>> add_checkpoint(Checkpoint c) = 0;
  // The trusted checkpoint public key (migration 0021): pins `public_key` when none is pinned
  // yet and returns the pinned one (which may differ: then the caller's key is not trusted).
  virtual awaitable<Result<std::string>> pin_public_key(std::string public_key) = 0;
  virtual awaitable<Result<std::optional<std::string>>> pinned_public_key() = 0;
  // The periodic checkpointer's lease (one `serve` per database signs): takes or renews it for
  // `ttl_seconds`; false while another holder has it.
  virtual awaitable<Result<bool>> hold_checkpoint_lease(std::string holder,
                                                        std::int64_t ttl_seconds) = 0;
  virtual awaitable<Result<void>> drop_checkpoint_lease(std::string holder) = 0;
  // The seq of the entry of `chain` whose hash is `hash` (reordering diagnosis).
  virtual awaitable<Result<std::optional<std::int64_t>>> find_hash(std::string chain,
                                                                   std::string hash) = 0;
  // Seq of the first entry at or after `at_us` (for --from), or of the last before (--to).
  virtual awaitable<Result<std::int64_t>> seq_at(std::string chain, std::int64_t at_us,
                                                 bool first_after) = 0;
  virtual awaitable<Result<std::optional<std::string>>> blob(std::string sha256) = 0;
  // Several messages in one statement, by SHA-256 (raw bytes): the ones found, by hash.
  virtual awaitable<Result<std::map<std::string, std::string>>> blobs(
      std::vector<std::string> sha256s) = 0;
  // Whether an audit entry with this id exists and records an archive purge.
  virtual awaitable<Result<bool>> is_purge_audit(std::int64_t audit_id) = 0;

  virtual awaitable<Result<std::vector<JournalEntry>>> search(JournalQuery q) = 0;
  // Entries purged after (purge_audit_id, id), in that order, at most `limit`.
  virtual awaitable<Result<std::vector<PurgedEntry>>> purged_after(PurgedEntry after,
                                                                   int limit) = 0;
  virtual awaitable<Result<JournalEntry>> entry(std::int64_t id) = 0;

  // Purges what every policy and hold allows (dry_run: counts only); logged in its transaction.
  virtual awaitable<Result<std::int64_t>> purge(ArchiveActor who, bool dry_run,
                                                const QueryHoldMatches& matches) = 0;
  // What the policies and the holds other than by query would purge now, in id order.
  virtual awaitable<Result<std::vector<std::int64_t>>> purge_candidates() = 0;
  virtual awaitable<Result<std::int64_t>> audit_prune(ArchiveActor who, int keep_days) = 0;
  virtual awaitable<Result<std::vector<RetentionPolicy>>> policies() = 0;
  // years < 0 removes the policy. Logged in the same transaction.
  virtual awaitable<Result<void>> set_policy(ArchiveActor who, RetentionPolicy p) = 0;
  virtual awaitable<Result<std::vector<LegalHold>>> holds() = 0;
  virtual awaitable<Result<std::int64_t>> add_hold(ArchiveActor who, LegalHold h) = 0;
  virtual awaitable<Result<void>> release_hold(ArchiveActor who, std::int64_t id) = 0;
  // Audit entries by time range, actor and target (each optional), in seq order.
  struct AuditFilter {
    std::optional<std::int64_t> from_us, to_us;
    std::string actor, target, action_prefix;
    std::int64_t after_seq = 0;
    int limit = 1000;
  };
  virtual awaitable<Result<std::vector<AuditRecord>>> audit_query(AuditFilter f) = 0;
};

class Database;

// The archive store on the Database's connection pool (the Database must outlive it).
std::unique_ptr<ArchiveStore> archive_of(Database& db);

}  // namespace govmail::store
