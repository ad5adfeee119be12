// SQL of the archive store (store/src/archive_pg.cpp); schema in migrations/0017_archive.sql.
#pragma once
#include "pg/pg.hpp"

namespace govmail::store::sql {

// An entry and its link (migration 0030: archive_links). The content hash: stored, else, for an
// entry linked since 0030 (txid set), the one its link covers; empty for a "GMJ1" entry. The
// last column says that the link's entry is gone (a link without its journal row).
#define GM_JOURNAL_COLS                                                                       \
  "coalesce(l.id, j.id), coalesce(l.chain, ''), coalesce(l.seq, 0), "                         \
  "coalesce(govmail_us(j.at)::bigint, 0), "                                                   \
  "j.purged_at IS NOT NULL, "                                                                 \
  "coalesce(j.purge_audit_id, 0), coalesce(j.direction, ''), coalesce(j.envelope_from, ''), " \
  "coalesce(j.recipients, '{}'), coalesce(j.auth_user, ''), coalesce(j.client_ip, ''), "      \
  "coalesce(j.blob_sha256, ''), coalesce(j.size, 0), coalesce(j.subject, ''), "               \
  "coalesce(j.from_address, ''), coalesce(j.message_id_hdr, ''), coalesce(l.prev_hash, ''), " \
  "coalesce(l.hash, ''), coalesce(CASE WHEN j.txid IS NOT NULL "                              \
  "THEN govmail_journal_content_hash(j) ELSE j.content_hash END, ''), j.id IS NULL"
// Every link of a chain, with its entry when there is one.
#define GM_LINKED " FROM archive_links l LEFT JOIN archive_journal j ON j.id = l.id "
// Every entry, with its link when it has one already.
#define GM_ENTRIES " FROM archive_journal j LEFT JOIN archive_links l ON l.id = j.id "

#define GM_AT(p) "('epoch'::timestamptz + " p " * interval '1 microsecond')"

inline constexpr pg::Statement kJournalPage{
    "gm_ar_journal_page", "SELECT " GM_JOURNAL_COLS GM_LINKED
                          "WHERE l.chain = $1 AND l.seq > $2 ORDER BY l.seq LIMIT $3"};

inline constexpr pg::Statement kJournalEntry{
    "gm_ar_entry", "SELECT " GM_JOURNAL_COLS GM_ENTRIES "WHERE j.id = $1"};

inline constexpr pg::Statement kJournalSearch{
    "gm_ar_search",
    "SELECT " GM_JOURNAL_COLS GM_ENTRIES "WHERE j.purged_at IS NULL AND j.id > $1 "
    "AND ($2::bigint IS NULL OR j.at >= " GM_AT("$2") ") "
    "AND ($3::bigint IS NULL OR j.at < " GM_AT("$3") ") "
    "AND ($4 = '' OR $4 = ANY (govmail_journal_participants(j))) "
    "AND ($6::bigint[] IS NULL OR j.id = ANY ($6)) "
    "AND ($7::text[] IS NULL OR l.id IS NULL OR l.seq > coalesce((SELECT c.s FROM "
    "unnest($7::text[], $8::bigint[]) c(ch, s) WHERE c.ch = l.chain), 0)) ORDER BY j.id LIMIT $5"};

inline constexpr pg::Statement kPurgedAfter{
    "gm_ar_purged_after",
    "SELECT purge_audit_id, id FROM archive_journal WHERE purge_audit_id IS NOT NULL"
    " AND (purge_audit_id, id) > ($1, $2) ORDER BY purge_audit_id, id LIMIT $3"};

#define GM_AUDIT_COLS \
  "id, seq, govmail_us(at)::bigint, actor, source, action, target, detail, ok, prev_hash, hash"

inline constexpr pg::Statement kAuditPage{"gm_ar_audit_page",
                                          "SELECT " GM_AUDIT_COLS
                                          " FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"};

inline constexpr pg::Statement kAuditQuery{
    "gm_ar_audit_query",
    "SELECT " GM_AUDIT_COLS " FROM audit_log WHERE seq > $1 "
    "AND ($2::bigint IS NULL OR at >= " GM_AT("$2") ") "
    "AND ($3::bigint IS NULL OR at < " GM_AT("$3") ") "
    "AND ($4 = '' OR actor = $4) AND ($5 = '' OR target = $5) "
    "AND ($6 = '' OR starts_with(action, $6)) ORDER BY seq LIMIT $7"};

inline constexpr pg::Statement kHeads{
    "gm_ar_heads",
    "SELECT chain, seq, hash, floor_seq, floor_hash FROM archive_chain_heads "
    "ORDER BY chain"};

inline constexpr pg::Statement kCheckpoints{
    "gm_ar_checkpoints",
    "SELECT id, chain, seq, hash, govmail_us(at)::bigint, public_key, signature "
    "FROM archive_checkpoints ORDER BY chain, seq, id"};

inline constexpr pg::Statement kAddCheckpoint{
    "gm_ar_add_checkpoint",
    "INSERT INTO archive_checkpoints (chain, seq, hash, at, public_key, signature) "
    "VALUES ($1, $2, $3, " GM_AT("$4") ", $5, $6)"};

// The inserted row or the one already there (the CTE's insert is not visible to the second
// SELECT of the same statement, so exactly one of them returns a row).
inline constexpr pg::Statement kPinPublicKey{
    "gm_ar_pin_key",
    "WITH ins AS (INSERT INTO archive_signing_key (id, public_key) VALUES (1, $1)"
    " ON CONFLICT (id) DO NOTHING RETURNING public_key)"
    " SELECT public_key FROM ins UNION ALL"
    " SELECT public_key FROM archive_signing_key WHERE id = 1"};

inline constexpr pg::Statement kPinnedPublicKey{
    "gm_ar_pinned_key", "SELECT public_key FROM archive_signing_key WHERE id = 1"};

// Takes or renews the checkpointer lease (migration 0018), like the search indexer's.
inline constexpr pg::Statement kHoldCheckpointLease{
    "gm_ar_hold_lease",
    "INSERT INTO archive_checkpoint_lease (id, holder, expires_at)"
    " VALUES (1, $1, now() + make_interval(secs => $2::bigint))"
    " ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at"
    " WHERE archive_checkpoint_lease.holder = EXCLUDED.holder"
    " OR archive_checkpoint_lease.expires_at < now() RETURNING holder"};

inline constexpr pg::Statement kDropCheckpointLease{
    "gm_ar_drop_lease", "DELETE FROM archive_checkpoint_lease WHERE id = 1 AND holder = $1"};

inline constexpr pg::Statement kFindHash{
    "gm_ar_find_hash", "SELECT seq FROM archive_links WHERE chain = $1 AND hash = $2 LIMIT 1"};

inline constexpr pg::Statement kSeqAt{
    "gm_ar_seq_at",
    "SELECT CASE WHEN $3 THEN (SELECT coalesce(min(l.seq), 0)" GM_LINKED
    "  WHERE l.chain = $1 AND j.at >= " GM_AT("$2") ") "
    "ELSE (SELECT coalesce(max(l.seq), 0)" GM_LINKED "WHERE l.chain = $1 "
    "  AND j.at < " GM_AT("$2") ") END"};
inline constexpr pg::Statement kUnchainedEntry{
    "gm_ar_unchained",
    "SELECT j.id FROM archive_journal j, archive_chain_heads h WHERE h.chain = 'journal.32' "
    "AND (j.txid IS NULL OR (j.txid, j.id) <= (h.link_txid, h.link_id)) "
    "AND NOT EXISTS (SELECT 1 FROM archive_links l WHERE l.id = j.id) ORDER BY j.id LIMIT 1"};
inline constexpr pg::Statement kLinkJournal{"gm_ar_link", "SELECT govmail_journal_link($1::int)"};

inline constexpr pg::Statement kBlob{"gm_ar_blob", "SELECT data FROM blobs WHERE sha256 = $1",
                                     true};

inline constexpr pg::Statement kBlobs{"gm_ar_blobs",
                                      "SELECT sha256, data FROM blobs WHERE sha256 = ANY "
                                      "(SELECT decode(x, 'hex') FROM unnest($1::text[]) x)",
                                      true};

inline constexpr pg::Statement kIsPurgeAudit{"gm_ar_is_purge",
                                             "SELECT EXISTS (SELECT 1 FROM audit_log WHERE id = $1 "
                                             "AND action = 'archive.purge')"};

inline constexpr pg::Statement kPurge{"gm_ar_purge",
                                      "SELECT govmail_archive_purge($1, $2, $3, $4, $5, $6, $7)"};
inline constexpr pg::Statement kArchivePurgeCandidates{
    "gm_ar_purge_candidates", "SELECT id FROM govmail_archive_purge_candidates() ORDER BY id"};
inline constexpr pg::Statement kAuditPrune{
    "gm_ar_audit_prune", "SELECT govmail_audit_prune(make_interval(days => $1), $2, $3)"};

inline constexpr pg::Statement kPolicies{
    "gm_ar_policies",
    "SELECT id, scope, value, years FROM archive_retention ORDER BY scope, value"};

// Each change and its audit entry in one statement: one transaction.
inline constexpr pg::Statement kSetPolicy{
    "gm_ar_set_policy",
    "WITH a AS (INSERT INTO audit_log (actor, source, action, target, detail) "
    "  VALUES ($1, $2, 'archive.policy', $3 || ':' || $4, $5::int::text || ' years')), "
    "d AS (DELETE FROM archive_retention WHERE scope = $3 AND value = $4 AND $5::int < 0) "
    "INSERT INTO archive_retention (scope, value, years) SELECT $3, $4, $5::int "
    "WHERE $5::int >= 0 "
    "ON CONFLICT (scope, value) DO UPDATE SET years = EXCLUDED.years"};

inline constexpr pg::Statement kHolds{
    "gm_ar_holds",
    "SELECT id, name, coalesce(account, ''), coalesce(unit, ''), govmail_us(from_at)::bigint, "
    "govmail_us(to_at)::bigint, created_by, released_at IS NOT NULL, coalesce(query, '') "
    "FROM archive_holds "
    "ORDER BY id"};

inline constexpr pg::Statement kAddHold{
    "gm_ar_add_hold",
    "WITH h AS (INSERT INTO archive_holds (name, account, unit, from_at, to_at, created_by, query) "
    "  VALUES ($3, nullif($4, ''), nullif($5, ''), " GM_AT("$6::bigint") ", " GM_AT("$7::bigint")
    ", $1, nullif($8, '')) RETURNING id), "
    "a AS (INSERT INTO audit_log (actor, source, action, target, detail) "
    "  SELECT $1, $2, 'archive.hold.add', 'hold:' || h.id, $3 FROM h) SELECT id FROM h"};

inline constexpr pg::Statement kReleaseHold{
    "gm_ar_release_hold",
    "WITH h AS (UPDATE archive_holds SET released_at = now() WHERE id = $3 "
    "  AND released_at IS NULL RETURNING id), "
    "a AS (INSERT INTO audit_log (actor, source, action, target) "
    "  SELECT $1, $2, 'archive.hold.release', 'hold:' || h.id FROM h) SELECT count(*) FROM h"};

#undef GM_AT

}  // namespace govmail::store::sql
