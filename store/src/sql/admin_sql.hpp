// SQL of the administration store (admin_store.hpp), as named prepared statements.
#pragma once
#include "pg/pg.hpp"
#include "sql/directory_sql.hpp"

namespace govmail::store::sql {

#define GOVMAIL_ADMIN_ACCOUNT_COLUMNS                                                     \
  "a.id, a.domain_id, a.address, a.display_name, a.status, a.quota_bytes, a.used_bytes, " \
  "a.used_messages, a.must_change_password, a.unit_code, a.position"

// Inserted or changed units come back (true = inserted); unchanged ones return nothing.
inline constexpr pg::Statement kUpsertUnit{
    "gm_upsert_unit",
    "INSERT INTO org_units (code, name, parent_code, kind) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, parent_code = EXCLUDED.parent_code,"
    " kind = EXCLUDED.kind WHERE (org_units.name, org_units.parent_code, org_units.kind)"
    " IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.parent_code, EXCLUDED.kind) "
    "RETURNING (xmax = 0)"};
inline constexpr pg::Statement kResyncUnitGroups{
    "gm_resync_unit_groups",
    "SELECT govmail_sync_unit_group(id) FROM groups WHERE unit_code IS NOT NULL"};
inline constexpr pg::Statement kListUnits{
    "gm_list_units", "SELECT code, name, parent_code, kind FROM org_units ORDER BY code"};

inline constexpr pg::Statement kMergeDomain{
    "gm_merge_domain",
    "SELECT collisions, n_accounts, n_aliases, n_groups FROM govmail_merge_domain($1, $2)"};

// $2 unit (NULL = all; else the unit and every unit below it), $3 status (NULL = all).
inline constexpr pg::Statement kFilterAccounts{
    "gm_filter_accounts",
    "WITH RECURSIVE sub(code) AS (SELECT code FROM org_units WHERE code = $2 UNION "
    " SELECT u.code FROM org_units u JOIN sub ON u.parent_code = sub.code) "
    "SELECT " GOVMAIL_ADMIN_ACCOUNT_COLUMNS
    " FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE d.name = $1"
    " AND ($2::text IS NULL OR a.unit_code IN (SELECT code FROM sub))"
    " AND ($3::smallint IS NULL OR a.status = $3) ORDER BY a.address"};
inline constexpr pg::Statement kAccountDetail{
    "gm_account_detail",
    "SELECT " GOVMAIL_ADMIN_ACCOUNT_COLUMNS
    ", extract(epoch FROM a.created_at)::bigint, extract(epoch FROM a.last_login_at)::bigint,"
    " extract(epoch FROM a.deleted_at)::bigint,"
    " ARRAY(SELECT l.address FROM aliases l WHERE l.account_id = a.id ORDER BY 1),"
    " ARRAY(SELECT g.address FROM groups g JOIN group_members m ON m.group_id = g.id"
    "       WHERE m.account_id = a.id ORDER BY 1) "
    "FROM accounts a WHERE a.address = $1"};
inline constexpr pg::Statement kAppPasswords{
    "gm_app_passwords",
    "SELECT id, name, extract(epoch FROM created_at)::bigint,"
    " extract(epoch FROM last_used_at)::bigint FROM app_passwords WHERE account_id = $1 ORDER BY "
    "id"};
inline constexpr pg::Statement kSetProfile{
    "gm_set_profile",
    "UPDATE accounts SET display_name = $2, unit_code = $3, position = $4 WHERE id = $1 "
    "RETURNING id"};
inline constexpr pg::Statement kImportUpdate{
    "gm_import_update",
    "UPDATE accounts SET display_name = $2, unit_code = $3, position = $4, quota_bytes = $5 "
    "WHERE id = $1 RETURNING id"};
inline constexpr pg::Statement kRenameAccount{"gm_rename_account",
                                              "SELECT govmail_rename_account($1, $2, $3)"};
inline constexpr pg::Statement kSetAccountStatus{
    "gm_set_account_status",
    "WITH u AS (UPDATE accounts SET status = $2::smallint,"
    " deleted_at = CASE WHEN $2::smallint = 2 THEN coalesce(deleted_at, now()) END,"
    " credentials_version = credentials_version + 1 WHERE id = $1 RETURNING id, "
    "credentials_version) "
    "SELECT " GOVMAIL_NOTIFY_ACCOUNT("u") " FROM u"};
inline constexpr pg::Statement kSetStatusMany{
    "gm_set_status_many",
    "WITH u AS (UPDATE accounts SET status = $2::smallint,"
    " deleted_at = CASE WHEN $2::smallint = 2 THEN coalesce(deleted_at, now()) END,"
    " credentials_version = credentials_version + 1"
    " WHERE address = ANY ($1::text[]) AND status <> $2::smallint RETURNING id, address, "
    "credentials_version) "
    "SELECT u.address, " GOVMAIL_NOTIFY_ACCOUNT("u") " FROM u"};
inline constexpr pg::Statement kExistingAddresses{
    "gm_existing_addresses", "SELECT address FROM accounts WHERE address = ANY ($1::text[])"};
inline constexpr pg::Statement kPurgeCandidates{
    "gm_purge_candidates",
    "SELECT id, address FROM accounts WHERE status = 2"
    " AND deleted_at < now() - make_interval(days => $1::int) ORDER BY id"};
inline constexpr pg::Statement kPurgeAccount{"gm_purge_account",
                                             "SELECT govmail_purge_account($1)"};
inline constexpr pg::Statement kUnusedAccounts{
    "gm_unused_accounts",
    "SELECT " GOVMAIL_ADMIN_ACCOUNT_COLUMNS
    " FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE d.name = $1 AND a.status = 0"
    " AND coalesce(a.last_login_at, a.created_at) < now() - make_interval(days => $2::int)"
    " ORDER BY a.address"};

inline constexpr pg::Statement kAliasesOf{
    "gm_aliases_of", "SELECT address FROM aliases WHERE account_id = $1 ORDER BY address"};
inline constexpr pg::Statement kRemoveAlias{
    "gm_remove_alias", "DELETE FROM aliases WHERE address = $1 RETURNING address"};

inline constexpr pg::Statement kAddAppPassword{
    "gm_add_app_password",
    "INSERT INTO app_passwords (account_id, name, password_hash) SELECT $1, $2, $3"
    " WHERE NOT EXISTS (SELECT 1 FROM app_passwords WHERE account_id = $1 AND name = $2) "
    "RETURNING id, name, extract(epoch FROM created_at)::bigint"};
inline constexpr pg::Statement kRemoveAppPassword{
    "gm_remove_app_password",
    "WITH d AS (DELETE FROM app_passwords WHERE account_id = $1 AND name = $2 RETURNING "
    "account_id),"
    " u AS (UPDATE accounts SET credentials_version = credentials_version + 1"
    " WHERE id IN (SELECT account_id FROM d) RETURNING id, credentials_version) "
    "SELECT " GOVMAIL_NOTIFY_ACCOUNT("u") " FROM u"};

#define GOVMAIL_GROUP_COLUMNS                                    \
  "g.id, g.address, g.display_name, g.send_policy, g.unit_code," \
  " (SELECT count(*) FROM group_members m WHERE m.group_id = g.id)"
inline constexpr pg::Statement kAddGroup{
    "gm_add_group", "SELECT " GOVMAIL_GROUP_COLUMNS " FROM govmail_add_group($1, $2, $3, $4) g"};
inline constexpr pg::Statement kGroupMemberCount{
    "gm_group_member_count", "SELECT count(*) FROM group_members WHERE group_id = $1"};
inline constexpr pg::Statement kListGroups{
    "gm_list_groups", "SELECT " GOVMAIL_GROUP_COLUMNS
                      " FROM groups g WHERE split_part(g.address, '@', 2) = $1 ORDER BY g.address"};
inline constexpr pg::Statement kGroupMembers{
    "gm_group_members",
    "SELECT a.address FROM groups g JOIN group_members m ON m.group_id = g.id"
    " JOIN accounts a ON a.id = m.account_id WHERE g.address = $1 ORDER BY a.address"};
inline constexpr pg::Statement kGroupExists{"gm_group_exists",
                                            "SELECT id FROM groups WHERE address = $1"};
inline constexpr pg::Statement kAddMember{
    "gm_add_member",
    "INSERT INTO group_members (group_id, account_id) SELECT g.id, a.id FROM groups g, accounts a"
    " WHERE g.address = $1 AND a.address = $2 ON CONFLICT DO NOTHING RETURNING group_id"};
inline constexpr pg::Statement kRemoveMember{
    "gm_remove_member",
    "DELETE FROM group_members m USING groups g, accounts a WHERE g.id = m.group_id"
    " AND a.id = m.account_id AND g.address = $1 AND a.address = $2 RETURNING m.group_id"};
inline constexpr pg::Statement kAddSender{
    "gm_add_sender",
    "INSERT INTO group_senders (group_id, account_id) SELECT g.id, a.id FROM groups g, accounts a"
    " WHERE g.address = $1 AND a.address = $2 ON CONFLICT DO NOTHING RETURNING group_id"};
inline constexpr pg::Statement kSetSendPolicy{
    "gm_set_send_policy", "UPDATE groups SET send_policy = $2 WHERE address = $1 RETURNING id"};
inline constexpr pg::Statement kDeleteGroup{"gm_delete_group",
                                            "DELETE FROM groups WHERE address = $1 RETURNING id"};

inline constexpr pg::Statement kTakenAddresses{
    "gm_taken_addresses",
    "SELECT address FROM accounts WHERE domain_id = (SELECT id FROM domains WHERE name = $1) "
    "UNION ALL SELECT address FROM aliases WHERE split_part(address, '@', 2) = $1 "
    "UNION ALL SELECT address FROM groups WHERE split_part(address, '@', 2) = $1"};

inline constexpr pg::Statement kSetAdmin{
    "gm_set_admin",
    "INSERT INTO admins (account_id, role, units) VALUES ($1, $2, $3::text[]) "
    "ON CONFLICT (account_id) DO UPDATE SET role = EXCLUDED.role, units = EXCLUDED.units,"
    " grant_serial = nextval('admins_grant_serial') "
    "RETURNING account_id"};
inline constexpr pg::Statement kRemoveAdmin{
    "gm_remove_admin", "DELETE FROM admins WHERE account_id = $1 RETURNING account_id"};
#define GOVMAIL_ADMIN_COLUMNS                                                       \
  "m.account_id, a.address, m.role, m.units, m.totp_secret, a.credentials_version," \
  " m.grant_serial"
inline constexpr pg::Statement kFindAdmin{
    "gm_find_admin",
    "SELECT " GOVMAIL_ADMIN_COLUMNS
    " FROM admins m JOIN accounts a ON a.id = m.account_id WHERE m.account_id = $1"};
inline constexpr pg::Statement kListAdmins{
    "gm_list_admins", "SELECT " GOVMAIL_ADMIN_COLUMNS
                      " FROM admins m JOIN accounts a ON a.id = m.account_id ORDER BY a.address"};
inline constexpr pg::Statement kSetTotp{
    "gm_set_totp", "UPDATE admins SET totp_secret = $2 WHERE account_id = $1 RETURNING account_id"};
// Claims TOTP step $2 for admin $1: no row back when that step or a later one was used already.
inline constexpr pg::Statement kUseTotpStep{
    "gm_use_totp_step",
    "UPDATE admins SET totp_last_step = $2 WHERE account_id = $1 AND totp_last_step < $2"
    " RETURNING account_id"};
inline constexpr pg::Statement kDomainsOfUnits{
    "gm_domains_of_units",
    "WITH RECURSIVE down(code, depth) AS ("
    " SELECT code, 0 FROM org_units WHERE code = ANY ($1::text[])"
    " UNION ALL SELECT u.code, down.depth + 1 FROM org_units u JOIN down"
    " ON u.parent_code = down.code WHERE down.depth < 8) "
    "SELECT d.name FROM domains d WHERE EXISTS (SELECT 1 FROM accounts a"
    " WHERE a.domain_id = d.id AND a.unit_code IN (SELECT code FROM down)) ORDER BY d.name"};
inline constexpr pg::Statement kUnitWithin{"gm_unit_within",
                                           "SELECT govmail_unit_chain($1) && $2::text[]"};

inline constexpr pg::Statement kAudit{
    "gm_audit",
    "INSERT INTO audit_log (actor, source, action, target, detail, ok) "
    "VALUES ($1, $2, $3, $4, $5, $6)"};
inline constexpr pg::Statement kAuditLog{
    "gm_audit_log",
    "SELECT id, extract(epoch FROM at)::bigint, actor, source, action, target, detail, ok"
    " FROM audit_log WHERE ($1::text IS NULL OR target = $1)"
    " AND ($2::text IS NULL OR starts_with(action, $2)) ORDER BY id DESC LIMIT $3"};

}  // namespace govmail::store::sql
