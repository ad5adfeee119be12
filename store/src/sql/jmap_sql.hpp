// SQL of JMAP core: login tokens and uploads (migration 0015).
#pragma once
#include "pg/pg.hpp"

namespace govmail::store::sql {

inline constexpr pg::Statement kJmapSessionCreate{
    "gm_jmap_session_create",
    "INSERT INTO jmap_sessions (token_sha256, account_id, csrf_sha256, credentials_version,"
    " expires_at) SELECT $1::bytea, a.id, $3::bytea, a.credentials_version,"
    " now() + make_interval(secs => $4::bigint) FROM accounts a WHERE a.id = $2 AND a.status = 0"};

// Marks the session used at most every 10 seconds: one write per burst of requests.
inline constexpr pg::Statement kJmapSessionFind{
    "gm_jmap_session_find",
    "WITH s AS (SELECT t.account_id, a.address, encode(t.csrf_sha256, 'hex') AS csrf,"
    " t.last_used_at, t.credentials_version FROM jmap_sessions t JOIN accounts a ON a.id = "
    "t.account_id"
    " WHERE t.token_sha256 = $1 AND t.expires_at > now()"
    " AND t.last_used_at > now() - make_interval(secs => $2::bigint)"
    " AND a.status = 0 AND a.credentials_version = t.credentials_version),"
    " u AS (UPDATE jmap_sessions t SET last_used_at = now() FROM s WHERE t.token_sha256 = $1"
    " AND s.last_used_at < now() - interval '10 seconds')"
    " SELECT account_id, address, csrf, credentials_version FROM s"};

inline constexpr pg::Statement kJmapSessionDelete{
    "gm_jmap_session_delete", "DELETE FROM jmap_sessions WHERE token_sha256 = $1"};

inline constexpr pg::Statement kJmapUploadPut{
    "gm_jmap_upload_put",
    "INSERT INTO jmap_uploads (account_id, sha256, type, size, data, expires_at)"
    " VALUES ($1, $2::bytea, $3, octet_length($4::bytea), $4::bytea, now() + make_interval(secs => "
    "$5::bigint))"
    " ON CONFLICT (account_id, sha256) DO UPDATE SET type = EXCLUDED.type,"
    " expires_at = EXCLUDED.expires_at"};

// An upload first; else a message of the account with these bytes (entries by message id).
inline constexpr pg::Statement kJmapBlobRead{
    "gm_jmap_blob_read",
    "SELECT data, type FROM jmap_uploads WHERE account_id = $1::bigint AND sha256 = $2::bytea"
    " AND expires_at > now()"
    " UNION ALL (SELECT b.data, 'message/rfc822' FROM blobs b WHERE b.sha256 = $2 AND EXISTS ("
    " SELECT 1 FROM messages m JOIN mailbox_entries e ON e.message_id = m.id"
    " WHERE m.blob_sha256 = $2 AND e.account_id = $1))"
    " LIMIT 1",
    /*binary_result=*/true};

inline constexpr pg::Statement kJmapSweep{
    "gm_jmap_sweep",
    "WITH s AS (DELETE FROM jmap_sessions WHERE expires_at <= now() RETURNING 1),"
    " u AS (DELETE FROM jmap_uploads WHERE expires_at <= now() RETURNING 1)"
    " SELECT (SELECT count(*) FROM s) + (SELECT count(*) FROM u)"};

inline constexpr pg::Statement kJmapAccountModseq{"gm_jmap_account_modseq",
                                                  "SELECT modseq FROM accounts WHERE id = $1"};

}  // namespace govmail::store::sql
