// SQL of the mailbox store, as named prepared statements. The heavy operations are plpgsql
// functions of the schema (store/migrations): one statement, one round trip, one transaction.
#pragma once
#include "pg/pg.hpp"

namespace govmail::store::sql {

// Columns of a Mailbox, in the order parse_mailbox() reads them.
#define GOVMAIL_MAILBOX_COLUMNS                                          \
  "id, account_id, name, parent_id, special_use, uidvalidity, uidnext, " \
  "highestmodseq, messages, unseen, size_bytes, "                        \
  "COALESCE((SELECT r.first_recent_uid FROM mailbox_recent r WHERE r.mailbox_id = id), 1)"

inline constexpr pg::Statement kListMailboxes{
    "gm_list_mailboxes",
    "SELECT " GOVMAIL_MAILBOX_COLUMNS " FROM mailboxes WHERE account_id = $1 ORDER BY name"};
inline constexpr pg::Statement kMailboxByName{
    "gm_mailbox_by_name",
    "SELECT " GOVMAIL_MAILBOX_COLUMNS " FROM mailboxes WHERE account_id = $1 AND name = $2"};
inline constexpr pg::Statement kMailboxById{"gm_mailbox_by_id",
                                            "SELECT " GOVMAIL_MAILBOX_COLUMNS
                                            " FROM mailboxes WHERE account_id = $1 AND id = $2"};
// The mailbox, then "uid modseq flags" of every entry, comma-separated in UID order, in one
// column: one row however big the mailbox.
inline constexpr pg::Statement kOpenMailbox{
    "gm_open_mailbox",
    "SELECT " GOVMAIL_MAILBOX_COLUMNS
    ", (SELECT string_agg(e.uid || ' ' || e.modseq || ' ' || "
    "e.flags, ',' ORDER BY e.uid) FROM mailbox_entries e WHERE e.mailbox_id = b.id) "
    "FROM mailboxes b WHERE account_id = $1 AND name = $2"};
// The UIDs not yet claimed by a session, [first_recent_uid, uidnext), become the caller's
// (RFC 3501 2.3.2 \Recent): the row lock of ON CONFLICT orders concurrent claims, and a claim
// never moves the mark back (a snapshot's uidnext may be older than another claimer's); when
// the snapshot shows nothing unclaimed, no row is written or locked at all (most SELECTs). The CTE
// "c" gives (first, next), no row when there was nothing to claim. mailbox_recent is unlogged:
// the commit waits for no fsync (migration 0013).
// clang-format off
#define GOVMAIL_CLAIM_RECENT(WHERE)                                                        \
  "WITH c AS (INSERT INTO mailbox_recent AS r (mailbox_id, claimed_from, first_recent_uid) " \
  "SELECT id, 1, uidnext FROM mailboxes m WHERE " WHERE " AND uidnext > COALESCE("          \
  "(SELECT first_recent_uid FROM mailbox_recent x WHERE x.mailbox_id = m.id), 1) "          \
  "ON CONFLICT (mailbox_id) DO UPDATE SET claimed_from = r.first_recent_uid, "             \
  "first_recent_uid = EXCLUDED.first_recent_uid "                                          \
  "WHERE r.first_recent_uid < EXCLUDED.first_recent_uid "                                  \
  "RETURNING r.claimed_from AS first, r.first_recent_uid AS next) "
// kOpenMailbox that claims too (SELECT by an IMAP4rev1 session), in the same round trip.
inline constexpr pg::Statement kOpenMailboxClaim{
    "gm_open_mailbox_claim",
    GOVMAIL_CLAIM_RECENT("account_id = $1 AND name = $2")
    "SELECT " GOVMAIL_MAILBOX_COLUMNS
    ", (SELECT string_agg(e.uid || ' ' || e.modseq || ' ' || "
    "e.flags, ',' ORDER BY e.uid) FROM mailbox_entries e WHERE e.mailbox_id = b.id), "
    "(SELECT first FROM c), (SELECT next FROM c) "
    "FROM mailboxes b WHERE account_id = $1 AND name = $2"};
inline constexpr pg::Statement kClaimRecent{
    "gm_claim_recent",
    GOVMAIL_CLAIM_RECENT("account_id = $1 AND id = $2") "SELECT first, next FROM c"};
// clang-format on
inline constexpr pg::Statement kCreateMailbox{"gm_create_mailbox",
                                              "SELECT " GOVMAIL_MAILBOX_COLUMNS
                                              " FROM govmail_create_mailbox($1, $2, $3)"};
inline constexpr pg::Statement kRenameMailbox{"gm_rename_mailbox",
                                              "SELECT govmail_rename_mailbox($1, $2, $3)"};
inline constexpr pg::Statement kDeleteMailbox{"gm_delete_mailbox",
                                              "SELECT govmail_delete_mailbox($1, $2)"};
// Subscriptions are names (migration 0010): a subscription outlives its mailbox.
inline constexpr pg::Statement kListSubscriptions{
    "gm_list_subscriptions",
    "SELECT name FROM mailbox_subscriptions WHERE account_id = $1 ORDER BY name"};
inline constexpr pg::Statement kSubscribe{
    "gm_subscribe",
    "INSERT INTO mailbox_subscriptions (account_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING"};
inline constexpr pg::Statement kUnsubscribe{
    "gm_unsubscribe", "DELETE FROM mailbox_subscriptions WHERE account_id = $1 AND name = $2"};

// $1 sha256, $2 data, $3 internal date, $4 envelope, $5 bodystructure, $6 subject, $7 from,
// $8 Message-ID, $9 thread refs, $10 accounts, $11 mailboxes, $12 flags, $13 keywords,
// $14 search text, $15 envelope from, $16-$18 remote recipients, $19 ENVID, $20 RET,
// $21-$25 the archive journal entry: write it, direction, authenticated user, client IP,
// recipients as given (migration 0017); $26 the entry's content hash (migration 0027).
#define GOVMAIL_DELIVER_CALL                                                                     \
  "SELECT ord, mailbox_id, uidvalidity, uid, modseq, message_id, outbound_id FROM "              \
  "govmail_deliver($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, " \
  "$18, $19, $20, $21, $22, $23, $24, $25, $26)"
// The message's IMAP renderings (store::IngestForms), in the delivery's statement: $27 the
// renderer's version (0: none), $28-$30 ENVELOPE, BODYSTRUCTURE and header block. The message
// row is new (govmail_deliver inserts one per delivery), so is its renderings' row.
#define GOVMAIL_DELIVER_FORMS                                                                    \
  "f AS (INSERT INTO message_imap_forms (message_id, version, envelope, bodystructure, header) " \
  "SELECT message_id, $27::integer, $28::bytea, $29::bytea, $30::bytea FROM d "                  \
  "WHERE ord > 0 AND $27::integer > 0 LIMIT 1) "
inline constexpr pg::Statement kDeliver{
    "gm_deliver", "WITH d AS (" GOVMAIL_DELIVER_CALL "), " GOVMAIL_DELIVER_FORMS "SELECT * FROM d"};
// An APPEND by an IMAP4rev1 session that has the mailbox selected: the delivery, then the claim
// of \Recent up to the new message (as kClaimRecent, from the UID the delivery gave), in the
// same statement and transaction, so the session's "* n RECENT" costs no round trip of its own.
// Two more columns: the claimed range (first, next), NULL when another session claimed first.
inline constexpr pg::Statement kDeliverClaim{
    "gm_deliver_claim",
    "WITH d AS (" GOVMAIL_DELIVER_CALL "), " GOVMAIL_DELIVER_FORMS
    ", c AS (INSERT INTO mailbox_recent AS r (mailbox_id, claimed_from, first_recent_uid) "
    "SELECT mailbox_id, 1, uid + 1 FROM d WHERE ord > 0 "
    "ON CONFLICT (mailbox_id) DO UPDATE SET claimed_from = r.first_recent_uid, "
    "first_recent_uid = EXCLUDED.first_recent_uid "
    "WHERE r.first_recent_uid < EXCLUDED.first_recent_uid "
    "RETURNING r.claimed_from AS first, r.first_recent_uid AS next) "
    "SELECT d.*, (SELECT first FROM c), (SELECT next FROM c) FROM d"};

// The entries of mailbox b in the UID ranges ($3 firsts, $4 lasts): one index range scan per
// range whatever the plan. Pool connections use generic plans, which know neither how many
// ranges nor how wide; joined the plain way, the generic plan read the whole mailbox. The
// statements below leave out ORDER BY: sorting 2,000 wide rows cost PostgreSQL more than
// reading them, and the ranges' scans give UID order, which the store checks (in_uid_order).
#define GOVMAIL_ENTRIES_IN_RANGES                                                            \
  " FROM unnest($3::bigint[], $4::bigint[]) r(f, l) CROSS JOIN LATERAL ("                    \
  " SELECT * FROM mailbox_entries x WHERE x.mailbox_id = b.id AND x.uid BETWEEN r.f AND r.l" \
  " OFFSET 0) e"

// Entry columns: uid, modseq, flags, keywords, message_id, size, internal_date, thread_id.
// A mailbox of another account gives no row at all; an empty selection gives one NULL row.
inline constexpr pg::Statement kListEntries{
    "gm_list_entries",
    "SELECT e.uid, e.modseq, e.flags, e.keywords, e.message_id, e.size, e.idate, e.thread_id "
    "FROM mailboxes b LEFT JOIN LATERAL ("
    " SELECT e.*, extract(epoch FROM m.internal_date)::bigint AS idate" GOVMAIL_ENTRIES_IN_RANGES
    " JOIN messages m ON m.id = e.message_id) e ON true "
    "WHERE b.id = $2 AND b.account_id = $1"};
// kListEntries without reading the messages: internal_date 0.
inline constexpr pg::Statement kListEntriesUndated{
    "gm_list_entries_undated",
    "SELECT e.uid, e.modseq, e.flags, e.keywords, e.message_id, e.size, 0, e.thread_id "
    "FROM mailboxes b LEFT JOIN LATERAL (SELECT e.*" GOVMAIL_ENTRIES_IN_RANGES
    ") e ON true "
    "WHERE b.id = $2 AND b.account_id = $1"};
// The entry columns (as text: the result is binary for the bytea), then the whole message of
// the first entries up to $5 bytes in total (always the first), NULL past it.
inline constexpr pg::Statement kListEntriesWithRaws{
    "gm_list_entries_raws",
    "SELECT e.uid::text, e.modseq::text, e.flags::text, e.keywords::text, e.message_id::text, "
    "e.size::text, e.idate::text, e.thread_id::text, e.data "
    "FROM mailboxes b LEFT JOIN LATERAL ("
    " SELECT e.*, extract(epoch FROM m.internal_date)::bigint AS idate,"
    " CASE WHEN sum(e.size) OVER w <= $5 OR row_number() OVER w = 1 THEN bl.data END AS "
    "data" GOVMAIL_ENTRIES_IN_RANGES
    " JOIN messages m ON m.id = e.message_id JOIN blobs bl ON bl.sha256 = m.blob_sha256"
    " WINDOW w AS (ORDER BY e.uid)) e ON true "
    "WHERE b.id = $2 AND b.account_id = $1 ORDER BY e.uid",
    /*binary_result=*/true};
inline constexpr pg::Statement kFetchMeta{
    "gm_fetch_meta",
    "SELECT e.uid, e.modseq, e.flags, e.keywords, e.message_id, e.size, e.idate, e.thread_id, "
    "e.envelope, e.bodystructure, e.sha "
    "FROM mailboxes b LEFT JOIN LATERAL ("
    " SELECT e.*, extract(epoch FROM m.internal_date)::bigint AS idate,"
    " CASE WHEN $5::boolean THEN m.envelope::text ELSE '' END AS envelope,"
    " CASE WHEN $6::boolean THEN m.bodystructure::text ELSE '' END AS bodystructure,"
    " encode(m.blob_sha256, 'hex') AS sha" GOVMAIL_ENTRIES_IN_RANGES
    " JOIN messages m ON m.id = e.message_id) e ON true "
    "WHERE b.id = $2 AND b.account_id = $1"};
// kFetchMeta with the stored IMAP renderings of version $7 (message_imap_forms): the JSON
// documents only where the rendering is missing ($8: the bodystructure whatever the forms), the
// header block only with $9. The message row is read only for what the renderings lack or with
// $10 (internal date and blob hash; else 0 and ''): for a listing of stored renderings it would
// be most of the pages read. Binary result (the renderings are bytea), so the entry columns are
// cast to text as parse_entry reads them.
inline constexpr pg::Statement kFetchMetaForms{
    "gm_fetch_meta_forms",
    "SELECT e.uid::text, e.modseq::text, e.flags::text, e.keywords::text, e.message_id::text, "
    "e.size::text, e.idate::text, e.thread_id::text, e.envelope, e.bodystructure, e.sha, "
    "e.f_envelope, e.f_bodystructure, e.f_header "
    "FROM mailboxes b LEFT JOIN LATERAL ("
    " SELECT e.*, coalesce(m.idate, 0) AS idate, coalesce(m.envelope, '') AS envelope,"
    " coalesce(m.bodystructure, '') AS bodystructure, coalesce(m.sha, '') AS sha,"
    " f.envelope AS f_envelope, f.bodystructure AS f_bodystructure,"
    " CASE WHEN $9::boolean THEN f.header END AS f_header" GOVMAIL_ENTRIES_IN_RANGES
    " LEFT JOIN message_imap_forms f ON f.message_id = e.message_id AND f.version = $7::integer"
    " LEFT JOIN LATERAL (SELECT extract(epoch FROM m.internal_date)::bigint AS idate,"
    "  CASE WHEN $5::boolean AND f.envelope IS NULL THEN m.envelope::text ELSE '' END AS envelope,"
    "  CASE WHEN $6::boolean AND ($8::boolean OR f.bodystructure IS NULL)"
    "  THEN m.bodystructure::text ELSE '' END AS bodystructure,"
    "  encode(m.blob_sha256, 'hex') AS sha FROM messages m WHERE m.id = e.message_id"
    "  AND ($10::boolean OR ($5::boolean AND f.envelope IS NULL)"
    "  OR ($6::boolean AND ($8::boolean OR f.bodystructure IS NULL))) OFFSET 0) m ON true"
    ") e ON true "
    "WHERE b.id = $2 AND b.account_id = $1",
    /*binary_result=*/true};
// Renderings ($3 ids; $4-$6 hex, '' = none) of messages the account $1 holds, version $2: a
// row of another version is replaced, one of the same version completed.
inline constexpr pg::Statement kSaveImapForms{
    "gm_save_imap_forms",
    "INSERT INTO message_imap_forms AS f (message_id, version, envelope, bodystructure, header) "
    "SELECT w.id, $2::integer, decode(NULLIF(w.e, ''), 'hex'), decode(NULLIF(w.b, ''), 'hex'),"
    " decode(NULLIF(w.h, ''), 'hex') "
    "FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[]) w(id, e, b, h) "
    "WHERE EXISTS (SELECT 1 FROM mailbox_entries x WHERE x.message_id = w.id"
    " AND x.account_id = $1) "
    "ON CONFLICT (message_id) DO UPDATE SET version = EXCLUDED.version,"
    " envelope = COALESCE(EXCLUDED.envelope, CASE WHEN f.version = EXCLUDED.version"
    " THEN f.envelope END),"
    " bodystructure = COALESCE(EXCLUDED.bodystructure, CASE WHEN f.version = EXCLUDED.version"
    " THEN f.bodystructure END),"
    " header = COALESCE(EXCLUDED.header, CASE WHEN f.version = EXCLUDED.version THEN f.header "
    "END)"};
// $3 is the 1-based start, $4 the length or NULL for "to the end".
inline constexpr pg::Statement kFetchRaw{
    "gm_fetch_raw",
    "SELECT CASE WHEN $4::integer IS NULL THEN substring(b.data FROM $3::integer)"
    " ELSE substring(b.data FROM $3::integer FOR $4::integer) END "
    "FROM messages m JOIN blobs b ON b.sha256 = m.blob_sha256 WHERE m.id = $2 AND EXISTS ("
    " SELECT 1 FROM mailbox_entries e WHERE e.message_id = m.id AND e.account_id = $1)",
    /*binary_result=*/true};

inline constexpr pg::Statement kFetchRaws{
    "gm_fetch_raws",
    "SELECT m.id::text, b.data FROM messages m JOIN blobs b ON b.sha256 = m.blob_sha256 "
    "WHERE m.id = ANY ($2::bigint[]) AND EXISTS ("
    " SELECT 1 FROM mailbox_entries e WHERE e.message_id = m.id AND e.account_id = $1)",
    /*binary_result=*/true};

// The header of each (through the blank line: the parse's body_offset); lz4 TOAST decompresses
// only that prefix.
inline constexpr pg::Statement kFetchHeaders{
    "gm_fetch_headers",
    "SELECT m.id::text, substring(b.data FROM 1 FOR (m.bodystructure->>'body_offset')::int) "
    "FROM messages m JOIN blobs b ON b.sha256 = m.blob_sha256 "
    "WHERE m.id = ANY ($2::bigint[]) AND EXISTS ("
    " SELECT 1 FROM mailbox_entries e WHERE e.message_id = m.id AND e.account_id = $1)",
    /*binary_result=*/true};

// The header and the first $3 bytes of the body of each (MailboxStore::RawPart::preview).
inline constexpr pg::Statement kFetchPreviews{
    "gm_fetch_previews",
    "SELECT m.id::text, substring(b.data FROM 1 FOR "
    "(m.bodystructure->>'body_offset')::int + $3::int) "
    "FROM messages m JOIN blobs b ON b.sha256 = m.blob_sha256 "
    "WHERE m.id = ANY ($2::bigint[]) AND EXISTS ("
    " SELECT 1 FROM mailbox_entries e WHERE e.message_id = m.id AND e.account_id = $1)",
    /*binary_result=*/true};

// One statement, not a plpgsql function (whose call cost 40% of it, bench/imap). Locks in the
// writers' order: the account row (modseq bump), then the mailbox, then the entries (each CTE
// reads the one before, so it runs after it). $5 op (0 add, 1 remove, 2 replace), $6 system
// flags, $7 keywords, $8 UNCHANGEDSINCE or NULL. Rows: kind 0 updated entry, 1 conflict (uid),
// 2 the mailbox (col 10 its HIGHESTMODSEQ before the write); no kind 2 row: no such mailbox;
// 3 an entry the STORE leaves as it was (its flags, for the untagged FETCH). `pre` reads without
// locks: when no entry would change, the statement writes nothing (a STORE that repeats a flag,
// half of what clients send, costs no account modseq, no row locks and no commit flush). Its
// snapshot is then the STORE's point in time, as for any read. $9: commit without waiting for
// the WAL flush (core::DatabaseConfig::durable_flag_changes false), set only when it writes.
// `pre` keeps its ranges apart with OFFSET 0 (GOVMAIL_ENTRIES_IN_RANGES says why): flattened,
// its generic plan read every entry of the mailbox, dead versions too, and filtered on the UIDs
// afterwards (bench/imap/mix.sh: 70 buffers a STORE, 238 after four rounds of the mix).
// The internal date is not read (0): a join with messages made the generic plan hash them all;
// the UPDATE's UID bounds keep its generic plan on the index (without them: a sequential scan of
// every entry when one mailbox dominates the statistics).
// kSetFlags' new flags (nf), keywords (nk) and UNCHANGEDSINCE conflict (c) of entry alias `e`,
// computed the same way before the locks (`pre`) and under them (`calc`).
#define GOVMAIL_NEW_FLAGS(e)                                                  \
  " (CASE $5::smallint WHEN 0 THEN " e ".flags | $6::smallint WHEN 1 THEN " e \
  ".flags & ~$6::smallint ELSE $6::smallint END)::smallint AS nf,"            \
  " CASE WHEN $5::smallint <> 2 AND cardinality($7::text[]) = 0 THEN " e      \
  ".keywords"                                                                 \
  " ELSE govmail_keywords($5::smallint, " e                                   \
  ".keywords, $7::text[]) END AS nk,"                                         \
  " ($8::bigint IS NOT NULL AND " e ".modseq > $8::bigint) AS c"

inline constexpr pg::Statement kSetFlags{
    "gm_set_flags",
    "WITH pre AS (SELECT x.uid, x.flags, x.keywords, x.modseq, x.message_id, x.size, x.thread_id,"
    GOVMAIL_NEW_FLAGS("x")
    " FROM mailboxes b, unnest($3::bigint[], $4::bigint[]) r(f, l) CROSS JOIN LATERAL ("
    " SELECT * FROM mailbox_entries y WHERE y.mailbox_id = b.id AND y.uid BETWEEN r.f AND r.l"
    " OFFSET 0) x WHERE b.id = $2 AND b.account_id = $1), "
    "need AS (SELECT EXISTS (SELECT 1 FROM pre p WHERE NOT p.c"
    " AND (p.nf <> p.flags OR p.nk <> p.keywords)) AS v), "
    "acc AS (UPDATE accounts SET modseq = modseq + 1 WHERE id = $1 AND (SELECT v FROM need)"
    " AND (NOT $9::boolean OR set_config('synchronous_commit', 'off', true) IS NOT NULL)"
    " RETURNING modseq), "
    "mb AS (SELECT b.id, b.highestmodseq AS prior, acc.modseq FROM acc, mailboxes b"
    " WHERE b.id = $2 AND b.account_id = $1 FOR UPDATE OF b), "
    "tgt AS (SELECT e.uid, e.flags, e.keywords, e.modseq, e.message_id, e.size, e.thread_id,"
    " b.modseq AS newmod FROM mb b, unnest($3::bigint[], $4::bigint[]) r(f, l)"
    " CROSS JOIN LATERAL (SELECT * FROM mailbox_entries x WHERE x.mailbox_id = b.id"
    " AND x.uid BETWEEN r.f AND r.l FOR UPDATE) e), "
    "calc AS (SELECT t.uid, t.flags AS oldf, t.keywords AS oldk, t.modseq AS oldm, t.newmod,"
    " t.message_id, t.size, t.thread_id,"
    GOVMAIL_NEW_FLAGS("t") " FROM tgt t), "
    "upd AS (UPDATE mailbox_entries e SET flags = c.nf, keywords = c.nk, modseq = c.newmod"
    " FROM calc c WHERE e.mailbox_id = $2 AND e.uid = c.uid AND NOT c.c"
    " AND e.uid BETWEEN (SELECT min(uid) FROM calc) AND (SELECT max(uid) FROM calc)"
    " AND (c.nf <> c.oldf OR c.nk <> c.oldk)"
    " RETURNING e.uid, e.modseq, e.flags, e.keywords, e.message_id, e.size, e.thread_id, c.oldf), "
    "mbx AS (UPDATE mailboxes SET highestmodseq = (SELECT modseq FROM mb),"
    " unseen = unseen + (SELECT coalesce(sum((u.oldf & 1) - (u.flags & 1)), 0) FROM upd u)"
    " WHERE id = $2 AND EXISTS (SELECT 1 FROM upd) RETURNING 1), "
    "log AS (INSERT INTO change_log (account_id, modseq, kind, mailbox_id, uid, message_id)"
    " SELECT $1, u.modseq, 4, $2, u.uid, u.message_id FROM upd u RETURNING 1) "
    "SELECT 0 AS kind, u.uid, u.modseq, u.flags, u.keywords, u.message_id, u.size, 0::bigint,"
    " u.thread_id, 0::bigint FROM upd u "
    "UNION ALL SELECT 1, c.uid, 0, 0::smallint, '{}', 0, 0, 0, 0, 0 FROM calc c WHERE c.c "
    "UNION ALL SELECT 2, 0, 0, 0::smallint, '{}', 0, 0, 0, 0, mb.prior FROM mb "
    "UNION ALL SELECT 3, c.uid, c.oldm, c.oldf, c.oldk, c.message_id, c.size, 0, c.thread_id, 0"
    " FROM calc c WHERE NOT c.c AND c.nf = c.oldf AND c.nk = c.oldk "
    // Nothing to change: no write at all (no modseq, no lock, no WAL flush at commit).
    "UNION ALL SELECT 1, p.uid, 0, 0::smallint, '{}', 0, 0, 0, 0, 0 FROM pre p"
    " WHERE p.c AND NOT (SELECT v FROM need) "
    "UNION ALL SELECT 2, 0, 0, 0::smallint, '{}', 0, 0, 0, 0, b.highestmodseq FROM mailboxes b"
    " WHERE b.id = $2 AND b.account_id = $1 AND NOT (SELECT v FROM need) "
    "UNION ALL SELECT 3, p.uid, p.modseq, p.flags, p.keywords, p.message_id, p.size, 0,"
    " p.thread_id, 0 FROM pre p WHERE NOT p.c AND NOT (SELECT v FROM need)"};
inline constexpr pg::Statement kCopy{
    "gm_copy", "SELECT src_uid, dst_uid, uidvalidity FROM govmail_copy($1, $2, $3, $4, $5, $6)"};
inline constexpr pg::Statement kExpunge{
    "gm_expunge", "SELECT uid, modseq, prior FROM govmail_expunge($1, $2, $3, $4)"};

// POP3's maildrop lease ($3 holder, $4 seconds): taken when free, expired or already ours. One
// row when held: two sessions racing wait on the row's lock, and the second sees the first's.
inline constexpr pg::Statement kLeaseMailbox{
    "gm_lease_mailbox",
    "INSERT INTO mailbox_leases (mailbox_id, holder, expires_at) "
    "SELECT b.id, $3, now() + make_interval(secs => $4) FROM mailboxes b "
    "WHERE b.id = $2 AND b.account_id = $1 "
    "ON CONFLICT (mailbox_id) DO UPDATE SET holder = excluded.holder, "
    "expires_at = excluded.expires_at "
    "WHERE mailbox_leases.holder = excluded.holder OR mailbox_leases.expires_at < now() "
    "RETURNING mailbox_id"};
inline constexpr pg::Statement kReleaseLease{
    "gm_release_lease",
    "DELETE FROM mailbox_leases l USING mailboxes b "
    "WHERE l.mailbox_id = $2 AND l.holder = $3 AND b.id = l.mailbox_id AND b.account_id = $1"};
inline constexpr pg::Statement kExpungeLeased{
    "gm_expunge_leased",
    "SELECT uid, modseq, prior FROM govmail_expunge_leased($1, $2, $3, $4, $5)"};

// One snapshot: row kind 0 = the mailbox (col 1 highestmodseq), 1 = changed entry, 2 = expunged,
// 3 = the change log was pruned past $3 (expunges since then are not all known).
inline constexpr pg::Statement kChangesSince{
    "gm_changes_since",
    "WITH b AS (SELECT id, highestmodseq FROM mailboxes WHERE id = $2 AND account_id = $1) "
    "SELECT 0 AS k, b.highestmodseq AS uid, 0::bigint, 0::smallint, '{}'::text[], 0::bigint, 0, "
    "0::bigint, 0::bigint FROM b "
    "UNION ALL SELECT 1, e.uid, e.modseq, e.flags, e.keywords, e.message_id, e.size, "
    "extract(epoch FROM m.internal_date)::bigint, e.thread_id FROM b "
    "JOIN mailbox_entries e ON e.mailbox_id = b.id AND e.modseq > $3 "
    "JOIN messages m ON m.id = e.message_id "
    "UNION ALL SELECT DISTINCT 2, c.uid, 0::bigint, 0::smallint, '{}'::text[], 0::bigint, 0, "
    "0::bigint, 0::bigint FROM b "
    "JOIN change_log c ON c.mailbox_id = b.id AND c.kind = 5 AND c.modseq > $3 "
    "UNION ALL SELECT 3, 0, 0::bigint, 0::smallint, '{}'::text[], 0::bigint, 0, 0::bigint, "
    "0::bigint FROM b JOIN change_log_horizon h ON h.account_id = $1 AND h.modseq > $3 "
    "ORDER BY 1, 2"};
// Whole modseq groups: up to the modseq of the $3-th record (a group is never cut in two). A
// first row of modseq -1 says the log was pruned past $2.
inline constexpr pg::Statement kAccountChanges{
    "gm_account_changes",
    "SELECT -1::bigint AS modseq, 0::smallint AS kind, 0::bigint AS mailbox_id, 0::bigint AS uid,"
    " 0::bigint AS message_id FROM change_log_horizon WHERE account_id = $1 AND modseq > $2 "
    "UNION ALL SELECT modseq, kind, mailbox_id, uid, message_id FROM change_log "
    "WHERE account_id = $1 AND modseq > $2 AND modseq <= coalesce(("
    " SELECT modseq FROM change_log WHERE account_id = $1 AND modseq > $2"
    " ORDER BY modseq OFFSET $3 - 1 LIMIT 1), 9223372036854775807) "
    "ORDER BY modseq, kind, mailbox_id, uid"};
inline constexpr pg::Statement kQuota{
    "gm_quota", "SELECT quota_bytes, used_bytes, used_messages FROM accounts WHERE id = $1"};

}  // namespace govmail::store::sql
