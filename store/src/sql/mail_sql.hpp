// SQL of the JMAP mail view (MailStore): reads over mailbox_entries/messages by account, and the
// JMAP-only records of migration 0016. Email/query's WHERE is assembled from fixed fragments in
// mail_store_pg.cpp (every value a parameter).
#pragma once
#include "pg/pg.hpp"

namespace govmail::store::sql {

inline constexpr pg::Statement kAccountState{"gm_mail_state",
                                             "SELECT modseq FROM accounts WHERE id = $1"};

// One row per entry of the asked messages ($2 bigint[]); JSON only when $3; the last column is
// the account's modseq in the statement's snapshot (EmailRecord::account_modseq).
inline constexpr pg::Statement kEmails{
    "gm_mail_emails",
    "SELECT e.message_id, e.thread_id, m.size, extract(epoch FROM m.internal_date)::bigint, "
    "e.mailbox_id, e.uid, e.flags, e.keywords::text, "
    "CASE WHEN $3::int >= 2 THEN m.envelope::text END, "
    "CASE WHEN $3::int >= 2 THEN m.bodystructure::text END, "
    "encode(m.blob_sha256, 'hex'), CASE WHEN $3::int >= 1 THEN m.preview END, "
    "(SELECT a.modseq FROM accounts a WHERE a.id = $1) "
    "FROM mailbox_entries e JOIN messages m ON m.id = e.message_id "
    "WHERE e.account_id = $1 AND e.message_id = ANY ($2::bigint[]) "
    "ORDER BY e.message_id, e.mailbox_id, e.uid"};

// One mailbox's newest-first page ($2 mailbox, $3 limit, $4 offset; the order of the index
// mailbox_entries (mailbox_id, received_at DESC, message_id DESC), migration 0025), with the
// mailbox's HIGHESTMODSEQ (for PgMailStore::mailbox_total) and the account's modseq (the page's
// state) read in the same snapshot.
inline constexpr pg::Statement kNewestPage{
    "gm_mail_newest_page",
    "SELECT p.message_id, p.thread_id, "
    "(SELECT b.highestmodseq FROM mailboxes b WHERE b.id = $2::bigint AND b.account_id = $1), "
    "(SELECT a.modseq FROM accounts a WHERE a.id = $1) "
    "FROM (SELECT DISTINCT ON (e.received_at, e.message_id) e.received_at, e.message_id, "
    "e.thread_id FROM mailbox_entries e WHERE e.mailbox_id = $2::bigint AND e.account_id = $1 "
    "ORDER BY e.received_at DESC, e.message_id DESC) p "
    "ORDER BY p.received_at DESC, p.message_id DESC LIMIT $3::bigint OFFSET $4::bigint"};

// Caches computed previews ($2 ids, $3 previews) of messages of account $1 (migration 0022).
inline constexpr pg::Statement kSetPreviews{
    "gm_mail_set_previews",
    "UPDATE messages m SET preview = w.p FROM unnest($2::bigint[], $3::text[]) AS w(id, p) "
    "WHERE m.id = w.id AND m.preview IS NULL AND EXISTS ("
    " SELECT 1 FROM mailbox_entries e WHERE e.message_id = m.id AND e.account_id = $1)"};

inline constexpr pg::Statement kThreadEmails{
    "gm_mail_thread_emails",
    "SELECT x.message_id, x.thread_id FROM (SELECT DISTINCT message_id, thread_id "
    "FROM mailbox_entries WHERE account_id = $1 AND thread_id = ANY ($2::bigint[])) x "
    "JOIN messages m ON m.id = x.message_id ORDER BY x.thread_id, m.internal_date, x.message_id"};

inline constexpr pg::Statement kThreadsOf{
    "gm_mail_threads_of",
    "SELECT DISTINCT message_id, thread_id FROM mailbox_entries "
    "WHERE account_id = $1 AND message_id = ANY ($2::bigint[])"};

inline constexpr pg::Statement kThreadCounts{
    "gm_mail_thread_counts",
    "SELECT mailbox_id, count(DISTINCT thread_id), "
    "count(DISTINCT thread_id) FILTER (WHERE flags & 1 = 0) "
    "FROM mailbox_entries WHERE account_id = $1 GROUP BY mailbox_id"};

inline constexpr pg::Statement kAddedBefore{
    "gm_mail_added_before",
    "SELECT DISTINCT message_id FROM change_log WHERE account_id = $1 AND modseq <= $2 "
    "AND kind = 3 AND message_id = ANY ($3::bigint[])"};

#define GOVMAIL_VACATION_COLUMNS                                                             \
  "is_enabled, extract(epoch FROM from_date)::bigint, extract(epoch FROM to_date)::bigint, " \
  "subject, text_body, html_body, period"

inline constexpr pg::Statement kVacation{"gm_mail_vacation",
                                         "SELECT " GOVMAIL_VACATION_COLUMNS
                                         " FROM vacation_responses WHERE account_id = $1"};
// Every change starts a new period: senders answered before are answered again once.
inline constexpr pg::Statement kSetVacation{
    "gm_mail_set_vacation",
    "INSERT INTO vacation_responses AS v (account_id, is_enabled, from_date, to_date, subject, "
    "text_body, html_body) VALUES ($1, $2, to_timestamp($3), to_timestamp($4), $5, $6, $7) "
    "ON CONFLICT (account_id) DO UPDATE SET is_enabled = $2, from_date = to_timestamp($3), "
    "to_date = to_timestamp($4), subject = $5, text_body = $6, html_body = $7, "
    "period = v.period + 1"};
// $2 sender (lower-case), $3 seconds after which the same sender is answered again in the same
// period (RFC 3834 5.1 suggests 7 days). One row when this delivery should be answered.
inline constexpr pg::Statement kClaimVacation{
    "gm_mail_claim_vacation",
    "WITH v AS (SELECT * FROM vacation_responses WHERE account_id = $1 AND is_enabled "
    "AND (from_date IS NULL OR from_date <= now()) AND (to_date IS NULL OR to_date > now())), "
    "ins AS (INSERT INTO vacation_replies AS r (account_id, period, sender) "
    "SELECT $1, v.period, $2 FROM v ON CONFLICT (account_id, period, sender) DO UPDATE "
    "SET sent_at = now() WHERE r.sent_at < now() - make_interval(secs => $3) RETURNING 1) "
    "SELECT " GOVMAIL_VACATION_COLUMNS " FROM v WHERE EXISTS (SELECT 1 FROM ins)"};

// A mailbox's HIGHESTMODSEQ and its distinct messages (JMAP Email/query total), one snapshot.
inline constexpr pg::Statement kMailboxTotal{
    "gm_mail_mailbox_total",
    "SELECT b.highestmodseq, (SELECT count(DISTINCT e.message_id) FROM mailbox_entries e "
    "WHERE e.mailbox_id = b.id AND e.account_id = $1) FROM mailboxes b "
    "WHERE b.id = $2 AND b.account_id = $1"};

inline constexpr pg::Statement kIdentity{
    "gm_mail_identity",
    "SELECT name, reply_to::text, bcc::text, text_signature, html_signature, state, own_state "
    "FROM identity_settings WHERE account_id = $1"};
inline constexpr pg::Statement kSetIdentity{
    "gm_mail_set_identity",
    "INSERT INTO identity_settings AS i (account_id, name, reply_to, bcc, text_signature, "
    "html_signature, state, own_state) VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, $6, 2, 2) "
    "ON CONFLICT (account_id) DO UPDATE SET name = $2, reply_to = $3::jsonb, bcc = $4::jsonb, "
    "text_signature = $5, html_signature = $6, state = i.state + 1, own_state = i.state + 1"};

// The identities a user added (migration 0031). Every change moves the account's identity
// state first (the upsert also serialises concurrent changes of one account).
#define GOVMAIL_BUMP_IDENTITY_STATE(FROM)                                           \
  "s AS (INSERT INTO identity_settings AS i (account_id, state) SELECT $1, 2 " FROM \
  " ON CONFLICT (account_id) DO UPDATE SET state = i.state + 1 RETURNING state) "
inline constexpr pg::Statement kExtraIdentities{
    "gm_mail_extra_identities",
    "SELECT id, email, name, reply_to::text, bcc::text, text_signature, html_signature, "
    "created_state, updated_state, destroyed_state FROM identities WHERE account_id = $1 "
    "ORDER BY id"};
// $2 email, $3 name, $4 replyTo, $5 bcc, $6 text, $7 HTML signature.
inline constexpr pg::Statement kAddIdentity{
    "gm_mail_add_identity",
    "WITH " GOVMAIL_BUMP_IDENTITY_STATE("") "INSERT INTO identities (account_id, email, name, "
    "reply_to, bcc, text_signature, html_signature, created_state, updated_state) "
    "SELECT $1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, s.state, s.state FROM s RETURNING id"};
// $2 the identity, $3.. as kAddIdentity's $3..; no row: no such live identity.
inline constexpr pg::Statement kUpdateIdentity{
    "gm_mail_update_identity",
    "WITH t AS (SELECT id FROM identities WHERE id = $2 AND account_id = $1 "
    "AND destroyed_state IS NULL FOR UPDATE), " GOVMAIL_BUMP_IDENTITY_STATE("FROM t")
    "UPDATE identities d SET name = $3, reply_to = $4::jsonb, bcc = $5::jsonb, "
    "text_signature = $6, html_signature = $7, updated_state = s.state FROM s WHERE d.id = $2 "
    "RETURNING d.id"};
inline constexpr pg::Statement kDestroyIdentity{
    "gm_mail_destroy_identity",
    "WITH t AS (SELECT id FROM identities WHERE id = $2 AND account_id = $1 "
    "AND destroyed_state IS NULL FOR UPDATE), " GOVMAIL_BUMP_IDENTITY_STATE("FROM t")
    "UPDATE identities d SET destroyed_state = s.state FROM s WHERE d.id = $2 RETURNING d.id"};

#define GOVMAIL_SUBMISSION_COLUMNS \
  "id, email_id, thread_id, identity_id, envelope::text, extract(epoch FROM send_at)::bigint"
inline constexpr pg::Statement kAddSubmission{
    "gm_mail_add_submission",
    "INSERT INTO email_submissions (account_id, email_id, thread_id, identity_id, envelope, "
    "outbound_id, modseq) SELECT $1, $2, $3, $4, $5::jsonb, $6, a.modseq FROM accounts a "
    "WHERE a.id = $1 RETURNING " GOVMAIL_SUBMISSION_COLUMNS};
inline constexpr pg::Statement kSubmissions{
    "gm_mail_submissions",
    "SELECT " GOVMAIL_SUBMISSION_COLUMNS
    " FROM email_submissions WHERE account_id = $1 "
    "AND (cardinality($2::bigint[]) = 0 OR id = ANY ($2::bigint[])) ORDER BY id"};

}  // namespace govmail::store::sql
