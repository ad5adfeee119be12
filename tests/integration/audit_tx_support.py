"""Shared by the archive_audit_tx tests: make the audit insert of one action fail (a test-only
trigger), count an action's entries."""
from support import psql


def entries(db, action, ok=True):
    return psql(db.url, f"SELECT count(*) FROM audit_log WHERE action = '{action}' AND ok = "
                        f"{'true' if ok else 'false'}")


def fail_audit_of(db, action):
    """From now on the audit insert of `action` raises (a test-only trigger; a table, not a
    setting, so that the running server's connections see it at once)."""
    psql(db.url, "CREATE TABLE IF NOT EXISTS test_fail (action text); DELETE FROM test_fail; "
                 f"INSERT INTO test_fail VALUES ('{action}'); "
                 "CREATE OR REPLACE FUNCTION test_fail_audit() RETURNS trigger LANGUAGE plpgsql "
                 "AS $$ BEGIN IF EXISTS (SELECT 1 FROM test_fail WHERE action = NEW.action) THEN "
                 "RAISE EXCEPTION 'test: audit insert refused'; END IF; RETURN NEW; END $$; "
                 "DROP TRIGGER IF EXISTS test_fail_audit ON audit_log; "
                 "CREATE TRIGGER test_fail_audit BEFORE INSERT ON audit_log FOR EACH ROW "
                 "EXECUTE FUNCTION test_fail_audit()")


def no_trigger(db):
    psql(db.url, "DROP TRIGGER IF EXISTS test_fail_audit ON audit_log; "
                 "DROP TRIGGER IF EXISTS test_fail_change ON accounts")
