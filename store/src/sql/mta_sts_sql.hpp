// SQL of the MTA-STS policy cache (migration 0012).
#pragma once
#include "pg/pg.hpp"

namespace govmail::store::sql {

inline constexpr pg::Statement kMtaStsGet{
    "gm_mta_sts_get",
    "SELECT domain, policy_id, policy, extract(epoch FROM fetched_at)::bigint,"
    " extract(epoch FROM expires_at)::bigint FROM mta_sts_policies WHERE domain = $1"};

inline constexpr pg::Statement kMtaStsPut{
    "gm_mta_sts_put",
    "INSERT INTO mta_sts_policies (domain, policy_id, policy, fetched_at, expires_at)"
    " VALUES ($1, $2, $3, to_timestamp($4), to_timestamp($5))"
    " ON CONFLICT (domain) DO UPDATE SET policy_id = EXCLUDED.policy_id,"
    " policy = EXCLUDED.policy, fetched_at = EXCLUDED.fetched_at,"
    " expires_at = EXCLUDED.expires_at"};

inline constexpr pg::Statement kMtaStsPrune{
    "gm_mta_sts_prune",
    "DELETE FROM mta_sts_policies WHERE expires_at < now() - make_interval(secs => $1::bigint)"};

}  // namespace govmail::store::sql
