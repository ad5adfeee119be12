-- 0012: the MTA-STS policy cache (RFC 8461 3.3). One row per recipient domain: the last policy
-- fetched from https://mta-sts.<domain>/.well-known/mta-sts.txt, the id of the _mta-sts TXT
-- record it was fetched under, and when it expires (fetch time + max_age). Outbound workers of
-- every process read and replace it; a policy keeps applying until expires_at even when a
-- later fetch fails. The body is stored as served and parsed again when read.
CREATE TABLE mta_sts_policies (
    domain      text PRIMARY KEY,
    policy_id   text NOT NULL,
    policy      text NOT NULL,
    fetched_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
