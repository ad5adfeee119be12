-- 0009: admin sessions and second factors that hold across govmail processes.
--  * grant_serial: a new value from the sequence whenever a role is granted or changed. A bearer
--    token carries the serial (and accounts.credentials_version, bumped
--    by a password or status change) read at sign-in; a token whose values differ from the
--    current ones is refused, so a revoke and re-grant never revives an old token.
--  * totp_last_step: the last 30-second TOTP step accepted for this admin; a code of that step
--    or an earlier one is refused (no replay within the window).
CREATE SEQUENCE admins_grant_serial;
ALTER TABLE admins ADD COLUMN grant_serial bigint NOT NULL DEFAULT nextval('admins_grant_serial');
ALTER TABLE admins ADD COLUMN totp_last_step bigint NOT NULL DEFAULT 0;
