// SQL of the directory (domains, accounts, aliases, groups), as named prepared statements.
#pragma once
#include "pg/pg.hpp"

namespace govmail::store::sql {

#define GOVMAIL_ACCOUNT_COLUMNS                                                            \
  "id, domain_id, address, display_name, status, quota_bytes, used_bytes, used_messages, " \
  "must_change_password, unit_code, position"

// The notification of a credentials change of the row `u` (accounts: id, credentials_version)
// to every govmail process: "id:version", as store/src/database.cpp's parse_account_change and
// the plpgsql senders of migration 0033 write it. Sessions opened with an older version end.
#define GOVMAIL_NOTIFY_ACCOUNT(u) \
  "pg_notify('govmail_account', " u ".id::text || ':' || " u ".credentials_version)"

inline constexpr pg::Statement kAddDomain{
    "gm_add_domain", "INSERT INTO domains (name) VALUES ($1) RETURNING id, name, alias_of"};
inline constexpr pg::Statement kFindDomain{
    "gm_find_domain", "SELECT id, name, alias_of FROM domains WHERE name = $1"};
inline constexpr pg::Statement kListDomains{"gm_list_domains",
                                            "SELECT id, name, alias_of FROM domains ORDER BY name"};

// Active accounts, then groups, in address order (the webmail's recipient completion).
inline constexpr pg::Statement kAddressBook{
    "gm_address_book",
    "(SELECT address, display_name, false FROM accounts WHERE status = 0 ORDER BY address)"
    " UNION ALL (SELECT address, display_name, true FROM groups ORDER BY address) LIMIT $1"};

inline constexpr pg::Statement kAddAccount{"gm_add_account",
                                           "SELECT " GOVMAIL_ACCOUNT_COLUMNS
                                           " FROM govmail_add_account($1, $2, $3, $4, $5, $6, $7)"};
inline constexpr pg::Statement kFindAccount{
    "gm_find_account", "SELECT " GOVMAIL_ACCOUNT_COLUMNS " FROM accounts WHERE address = $1"};
inline constexpr pg::Statement kGetAccount{
    "gm_get_account", "SELECT " GOVMAIL_ACCOUNT_COLUMNS " FROM accounts WHERE id = $1"};
inline constexpr pg::Statement kListAccounts{
    "gm_list_accounts", "SELECT " GOVMAIL_ACCOUNT_COLUMNS
                        " FROM accounts WHERE domain_id = "
                        "(SELECT id FROM domains WHERE name = $1) ORDER BY address"};
// The address as given, else rewritten through an alias domain: after `domain merge OLD NEW`,
// user@OLD still logs in (as the account user@NEW, whose address is returned).
inline constexpr pg::Statement kCredentials{
    "gm_credentials",
    "WITH c AS (SELECT $1::text AS addr, 0 AS pref UNION ALL"
    " SELECT split_part($1, '@', 1) || '@' || t.name, 1 FROM domains d"
    " JOIN domains t ON t.id = d.alias_of WHERE d.name = split_part($1, '@', 2)) "
    "SELECT a.id, a.address, a.status, a.password_hash, a.credentials_version, "
    "ARRAY(SELECT p.password_hash FROM app_passwords p WHERE p.account_id = a.id ORDER BY p.id) "
    "FROM c JOIN accounts a ON a.address = c.addr ORDER BY c.pref LIMIT 1"};
// Both bump credentials_version and tell every govmail process (auth caches flush).
inline constexpr pg::Statement kSetPassword{
    "gm_set_password",
    "WITH u AS (UPDATE accounts SET password_hash = $2, must_change_password = $3,"
    " credentials_version = credentials_version + 1 WHERE id = $1 RETURNING id, "
    "credentials_version) "
    "SELECT " GOVMAIL_NOTIFY_ACCOUNT("u") " FROM u"};
inline constexpr pg::Statement kSetStatus{
    "gm_set_status",
    "WITH u AS (UPDATE accounts SET status = $2, credentials_version = credentials_version + 1"
    " WHERE id = $1 RETURNING id, credentials_version) "
    "SELECT " GOVMAIL_NOTIFY_ACCOUNT("u") " FROM u"};
inline constexpr pg::Statement kSetQuota{
    "gm_set_quota", "UPDATE accounts SET quota_bytes = $2 WHERE id = $1 RETURNING id"};
inline constexpr pg::Statement kAddAlias{
    "gm_add_alias",
    "INSERT INTO aliases (address, account_id) SELECT $1, $2 WHERE NOT EXISTS ("
    " SELECT 1 FROM accounts WHERE address = $1) AND NOT EXISTS ("
    " SELECT 1 FROM groups WHERE address = $1) RETURNING address"};
// Account, alias or group members; the address as given and rewritten through an alias domain.
inline constexpr pg::Statement kResolve{
    "gm_resolve",
    "WITH c AS (SELECT $1::text AS addr UNION SELECT split_part($1, '@', 1) || '@' || t.name"
    " FROM domains d JOIN domains t ON t.id = d.alias_of WHERE d.name = split_part($1, '@', 2)) "
    "SELECT a.id, false FROM accounts a JOIN c ON a.address = c.addr WHERE a.status <> 2 "
    "UNION SELECT l.account_id, false FROM aliases l JOIN c ON l.address = c.addr "
    "JOIN accounts a ON a.id = l.account_id AND a.status <> 2 "
    "UNION SELECT m.account_id, true FROM groups g JOIN c ON g.address = c.addr "
    "JOIN group_members m ON m.group_id = g.id "
    "JOIN accounts a ON a.id = m.account_id AND a.status <> 2 ORDER BY 1"};

}  // namespace govmail::store::sql
