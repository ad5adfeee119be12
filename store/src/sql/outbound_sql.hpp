// SQL of the outbound queue (migration 0008 explains the states and the claim protocol).
#pragma once
#include "pg/pg.hpp"

namespace govmail::store::sql {

inline constexpr pg::Statement kOutboundClaim{
    "gm_outbound_claim",
    "WITH c AS (SELECT r.queue_id, r.ordinal FROM outbound_recipients r"
    "  WHERE r.status IN (0, 1) AND r.next_attempt <= now()"
    "  ORDER BY r.next_attempt LIMIT $1 FOR UPDATE SKIP LOCKED),"
    " u AS (UPDATE outbound_recipients r SET claim = $3, attempts = r.attempts + 1,"
    "  next_attempt = now() + make_interval(secs => $2::integer), updated_at = now()"
    "  FROM c WHERE r.queue_id = c.queue_id AND r.ordinal = c.ordinal"
    "  RETURNING r.queue_id, r.ordinal, r.address, r.dsn_notify, r.dsn_orcpt, r.attempts, r.warned)"
    " SELECT u.queue_id, u.ordinal, u.address, u.dsn_notify, u.dsn_orcpt, u.attempts, u.warned,"
    "  q.message_id, q.envelope_from, q.dsn_envid, q.dsn_ret,"
    "  extract(epoch FROM q.created_at)::bigint"
    " FROM u JOIN outbound_queue q ON q.id = u.queue_id ORDER BY u.queue_id, u.ordinal"};

inline constexpr pg::Statement kOutboundRecord{
    "gm_outbound_record",
    "SELECT govmail_outbound_record($1::bigint[], $2::bigint[], $3::integer[], $4::smallint[],"
    " $5::integer[], $6::text[], $7::text[], $8::text[])"};

// Hands claimed recipients back untried (a stopping worker): due now, the attempt not counted.
inline constexpr pg::Statement kOutboundRelease{
    "gm_outbound_release",
    "UPDATE outbound_recipients r SET claim = NULL, next_attempt = now(),"
    " attempts = greatest(r.attempts - 1, 0) FROM unnest($2::bigint[], $3::integer[]) o(qid, ord)"
    " WHERE r.queue_id = o.qid AND r.ordinal = o.ord AND r.claim = $1"};

// Extends a claim's lease on the given rows; returns the ordinals still held (queue id, ordinal).
inline constexpr pg::Statement kOutboundRenew{
    "gm_outbound_renew",
    "UPDATE outbound_recipients r SET next_attempt = now() + make_interval(secs => $4::integer)"
    " FROM unnest($2::bigint[], $3::integer[]) o(qid, ord)"
    " WHERE r.queue_id = o.qid AND r.ordinal = o.ord AND r.claim = $1 AND r.status IN (0, 1)"
    " RETURNING r.queue_id, r.ordinal"};

inline constexpr pg::Statement kOutboundMessage{
    "gm_outbound_message",
    "SELECT b.data FROM messages m JOIN blobs b ON b.sha256 = m.blob_sha256 WHERE m.id = $1",
    /*binary_result=*/true};

// Row i is message $1[i]: its bytes, or NULL when it is gone or larger than $2.
inline constexpr pg::Statement kOutboundMessages{
    "gm_outbound_messages",
    "SELECT CASE WHEN m.size <= $2 THEN b.data END FROM unnest($1::bigint[]) WITH ORDINALITY"
    " u(id, o) LEFT JOIN messages m ON m.id = u.id LEFT JOIN blobs b ON b.sha256 = m.blob_sha256"
    " ORDER BY u.o",
    /*binary_result=*/true};

inline constexpr pg::Statement kOutboundReportsDue{
    "gm_outbound_reports_due",
    "SELECT r.queue_id, r.ordinal, r.address, r.dsn_orcpt, r.report, r.remote_reply,"
    " r.remote_host, r.attempts, q.message_id, q.envelope_from, q.dsn_envid, q.dsn_ret,"
    " extract(epoch FROM q.created_at)::bigint"
    " FROM outbound_recipients r JOIN outbound_queue q ON q.id = r.queue_id"
    " WHERE r.report <> '' AND r.queue_id IN (SELECT DISTINCT queue_id FROM outbound_recipients"
    "  WHERE report <> '' ORDER BY queue_id LIMIT $1)"
    " ORDER BY r.queue_id, r.ordinal FOR UPDATE OF r SKIP LOCKED"};

inline constexpr pg::Statement kOutboundReportsClear{
    "gm_outbound_reports_clear",
    "UPDATE outbound_recipients r SET report = '' FROM unnest($1::bigint[], $2::integer[])"
    " o(qid, ord) WHERE r.queue_id = o.qid AND r.ordinal = o.ord"};

inline constexpr pg::Statement kOutboundPrune{
    "gm_outbound_prune", "SELECT govmail_outbound_prune(make_interval(secs => $1::integer), $2)"};

inline constexpr pg::Statement kOutboundList{
    "gm_outbound_list",
    "SELECT q.id, q.envelope_from, extract(epoch FROM q.created_at)::bigint,"
    " extract(epoch FROM q.finished_at)::bigint, m.size, coalesce(m.subject, '')"
    " FROM outbound_queue q JOIN messages m ON m.id = q.message_id"
    " WHERE $1::boolean OR q.finished_at IS NULL ORDER BY q.id LIMIT $2"};

inline constexpr pg::Statement kOutboundEntry{
    "gm_outbound_entry",
    "SELECT q.id, q.envelope_from, extract(epoch FROM q.created_at)::bigint,"
    " extract(epoch FROM q.finished_at)::bigint, m.size, coalesce(m.subject, '')"
    " FROM outbound_queue q JOIN messages m ON m.id = q.message_id WHERE q.id = $1"};

inline constexpr pg::Statement kOutboundRecipients{
    "gm_outbound_recipients",
    "SELECT queue_id, ordinal, address, status, attempts,"
    " extract(epoch FROM next_attempt)::bigint, claim IS NOT NULL AND next_attempt > now(),"
    " remote_host, remote_reply, report"
    " FROM outbound_recipients WHERE queue_id = ANY ($1::bigint[]) ORDER BY queue_id, ordinal"};

inline constexpr pg::Statement kOutboundRetry{
    "gm_outbound_retry",
    "UPDATE outbound_recipients SET next_attempt = now(), updated_at = now()"
    " WHERE queue_id = $1 AND status IN (0, 1) AND (claim IS NULL OR next_attempt <= now())"};

inline constexpr pg::Statement kOutboundDelete{
    "gm_outbound_delete",
    "WITH d AS (DELETE FROM outbound_queue WHERE id = $1 RETURNING message_id)"
    " INSERT INTO message_release_queue (message_id) SELECT message_id FROM d RETURNING 1"};

inline constexpr pg::Statement kOutboundStats{
    "gm_outbound_stats",
    "SELECT (SELECT count(*) FROM outbound_recipients WHERE status IN (0, 1)),"
    " (SELECT count(DISTINCT queue_id) FROM outbound_recipients WHERE status IN (0, 1)),"
    " coalesce((SELECT extract(epoch FROM now() - min(q.created_at))::bigint"
    "  FROM outbound_queue q WHERE q.finished_at IS NULL), 0),"
    " (SELECT count(*) FROM outbound_recipients WHERE report <> '')"};

inline constexpr pg::Statement kDkimAdd{
    "gm_dkim_add",
    "WITH off AS (UPDATE dkim_keys SET active = false WHERE domain = $1 RETURNING 1)"
    " INSERT INTO dkim_keys (domain, selector, algorithm, private_pem, public_b64)"
    " SELECT $1, $2, $3, $4, $5 FROM (SELECT count(*) FROM off) x"
    " RETURNING id, extract(epoch FROM created_at)::bigint"};

inline constexpr pg::Statement kDkimList{
    "gm_dkim_list",
    "SELECT id, domain, selector, algorithm, private_pem, public_b64, active,"
    " extract(epoch FROM created_at)::bigint FROM dkim_keys"
    " WHERE $1 = '' OR domain = $1 ORDER BY domain, created_at DESC, id DESC"};

inline constexpr pg::Statement kDkimReplacePrivate{
    "gm_dkim_replace_private",
    "UPDATE dkim_keys SET private_pem = $3 WHERE id = $1 AND private_pem = $2 RETURNING id"};

}  // namespace govmail::store::sql
