// SQL of the search indexer's queue (migration 0014, docs/SEARCH.md).
#pragma once
#include "pg/pg.hpp"

namespace govmail::store::sql {

inline constexpr pg::Statement kSearchHoldLease{
    "gm_search_hold_lease",
    "INSERT INTO search_indexer_lease (id, holder, expires_at)"
    " VALUES (1, $1, now() + make_interval(secs => $2::bigint))"
    " ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at"
    " WHERE search_indexer_lease.holder = EXCLUDED.holder"
    " OR search_indexer_lease.expires_at < now() RETURNING holder"};

inline constexpr pg::Statement kSearchDropLease{
    "gm_search_drop_lease", "DELETE FROM search_indexer_lease WHERE id = 1 AND holder = $1"};

// A queue row is parsed again from the stored message (`reparse`) when it was queued so
// (reindex) or without a text: deliveries queue none since ingest stopped extracting it (a
// message whose text is really empty parses to the same nothing).
#define GOVMAIL_QUEUE_REPARSE "(q.reparse OR q.search_text = '')"

// Binary: the last column is the raw header block (the whole raw message with reparse); the
// others are cast to text, whose binary form is its bytes.
inline constexpr pg::Statement kSearchNextJobs{
    "gm_search_next_jobs",
    "SELECT q.id::text, q.message_id::text, " GOVMAIL_QUEUE_REPARSE
    "::text,"
    " array_to_string(ARRAY(SELECT DISTINCT e.account_id FROM mailbox_entries e"
    "  WHERE e.message_id = q.message_id AND e.account_id = ANY (q.account_ids)), ','),"
    " q.search_text, extract(epoch FROM m.internal_date)::bigint::text, m.size::text,"
    " m.envelope::text,"
    " CASE WHEN " GOVMAIL_QUEUE_REPARSE
    " THEN b.data"
    "  ELSE substring(b.data FROM 1 FOR (m.bodystructure->>'body_offset')::int) END "
    "FROM index_queue q JOIN messages m ON m.id = q.message_id"
    " JOIN blobs b ON b.sha256 = m.blob_sha256 WHERE q.id > $2 ORDER BY q.id LIMIT $1",
    /*binary_result=*/true};

inline constexpr pg::Statement kSearchFinishJobs{
    "gm_search_finish_jobs", "DELETE FROM index_queue WHERE id = ANY ($1::bigint[])"};

inline constexpr pg::Statement kSearchNextRemovals{
    "gm_search_next_removals",
    "SELECT r.id, r.account_id, r.message_id, EXISTS (SELECT 1 FROM mailbox_entries e"
    " WHERE e.message_id = r.message_id AND e.account_id = r.account_id) "
    "FROM index_removals r ORDER BY r.id LIMIT $1"};

inline constexpr pg::Statement kSearchFinishRemovals{
    "gm_search_finish_removals", "DELETE FROM index_removals WHERE id = ANY ($1::bigint[])"};

inline constexpr pg::Statement kSearchStats{
    "gm_search_stats",
    "SELECT (SELECT count(*) FROM index_queue),"
    " (SELECT COALESCE(extract(epoch FROM now() - min(enqueued_at))::bigint, 0) FROM index_queue),"
    " (SELECT count(*) FROM index_removals),"
    " COALESCE((SELECT holder FROM search_indexer_lease WHERE expires_at > now()), '')"};

// A message already queued by a requeue for all of these accounts is not queued again: a lost
// index directory found twice, or a reindex repeated before the indexer caught up, queued every
// message once more each time (944,400 rows for 100,000 messages, next_jobs 3x slower).
// Deliveries' rows do not count: a reindex is asked for after them, and counts what it queued.
inline constexpr pg::Statement kSearchRequeue{
    "gm_search_requeue",
    "INSERT INTO index_queue (message_id, account_ids, search_text, reparse)"
    " SELECT e.message_id, array_agg(DISTINCT e.account_id), '', true FROM mailbox_entries e"
    " WHERE cardinality($1::bigint[]) = 0 OR e.account_id = ANY ($1::bigint[])"
    " GROUP BY e.message_id"
    " HAVING NOT EXISTS (SELECT 1 FROM index_queue q WHERE q.message_id = e.message_id"
    "  AND q.reparse AND q.account_ids @> array_agg(DISTINCT e.account_id))"
    " ORDER BY e.message_id"};

inline constexpr pg::Statement kSearchQueuedFor{
    "gm_search_queued_for",
    "SELECT count(*) FROM index_queue WHERE $1::bigint = 0 OR $1::bigint = ANY (account_ids)"};

inline constexpr pg::Statement kSearchAccountsWithMail{"gm_search_accounts",
                                                       "SELECT id FROM accounts ORDER BY id"};

inline constexpr pg::Statement kSearchPending{
    "gm_search_pending",
    "SELECT DISTINCT message_id FROM index_queue WHERE $1::bigint = ANY (account_ids)"
    " LIMIT $2"};

inline constexpr pg::Statement kSearchPendingTexts{
    "gm_search_pending_texts",
    "SELECT q.message_id, q.search_text, " GOVMAIL_QUEUE_REPARSE
    " FROM index_queue q"
    " WHERE $1::bigint = ANY (q.account_ids) AND q.message_id = ANY ($2::bigint[])"
    " ORDER BY 1, 3"};

inline constexpr pg::Statement kSearchUidsOf{
    "gm_search_uids_of",
    "SELECT message_id, uid FROM mailbox_entries WHERE mailbox_id = $2 AND account_id = $1"
    " AND message_id = ANY ($3::bigint[]) ORDER BY uid"};

// Every entry of the mailbox, for a candidate set that is most of it: cheaper than = ANY of a
// large array, whose planning alone (selectivity per element) took 79 ms for 66,000 ids.
inline constexpr pg::Statement kSearchMailboxUids{
    "gm_search_mailbox_uids",
    "SELECT message_id, uid FROM mailbox_entries WHERE mailbox_id = $2 AND account_id = $1"
    " ORDER BY uid"};

inline constexpr pg::Statement kSearchIndexId{
    "gm_search_index_id", "SELECT COALESCE((SELECT index_id FROM search_index_state), '')"};

inline constexpr pg::Statement kSearchSetIndexId{
    "gm_search_set_index_id",
    "INSERT INTO search_index_state (id, index_id) VALUES (1, $1)"
    " ON CONFLICT (id) DO UPDATE SET index_id = EXCLUDED.index_id"};

}  // namespace govmail::store::sql
