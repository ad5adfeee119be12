// SQL of the SMTP-facing directory queries: recipients with their quota, and send-as rights.
#pragma once
#include "pg/pg.hpp"

namespace govmail::store::sql {

// The address as given plus its rewrite through an alias domain (as gm_resolve does).
#define GOVMAIL_CANDIDATES(param)                                                 \
  "c AS (SELECT " param "::text AS addr UNION SELECT split_part(" param           \
  ", '@', 1) || '@' || t.name FROM domains d JOIN domains t ON t.id = d.alias_of" \
  " WHERE d.name = split_part(" param ", '@', 2))"

// Columns: account id, reached through a group, quota, used, the account's address, the group's
// send policy, the canonical domain of the address (an alias domain's target).
inline constexpr pg::Statement kResolveRecipient{
    "gm_resolve_recipient",
    "WITH " GOVMAIL_CANDIDATES("$1") ", r AS ("
    " SELECT a.id, false AS grp FROM accounts a JOIN c ON a.address = c.addr"
    " UNION SELECT l.account_id, false FROM aliases l JOIN c ON l.address = c.addr"
    " UNION SELECT m.account_id, true FROM groups g JOIN c ON g.address = c.addr"
    " JOIN group_members m ON m.group_id = g.id) "
    "SELECT a.id, bool_or(r.grp), a.quota_bytes, a.used_bytes, a.address,"
    " (SELECT max(g.send_policy) FROM groups g JOIN c ON g.address = c.addr),"
    " (SELECT coalesce(t.name, d.name) FROM domains d LEFT JOIN domains t ON t.id = d.alias_of"
    " WHERE d.name = split_part($1, '@', 2)) FROM r"
    " JOIN accounts a ON a.id = r.id AND a.status <> 2"
    " GROUP BY a.id, a.quota_bytes, a.used_bytes, a.address ORDER BY a.id"};

inline constexpr pg::Statement kMaySendAs{
    "gm_may_send_as",
    "WITH " GOVMAIL_CANDIDATES("$2") " SELECT"
    " EXISTS (SELECT 1 FROM accounts a JOIN c ON a.address = c.addr WHERE a.id = $1)"
    " OR EXISTS (SELECT 1 FROM aliases l JOIN c ON l.address = c.addr WHERE l.account_id = $1)"
    " OR EXISTS (SELECT 1 FROM groups g JOIN c ON g.address = c.addr"
    " JOIN group_senders s ON s.group_id = g.id WHERE s.account_id = $1)"};

#undef GOVMAIL_CANDIDATES

}  // namespace govmail::store::sql
