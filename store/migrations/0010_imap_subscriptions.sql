-- IMAP subscriptions by name, apart from the mailboxes (RFC 3501 6.3.6, RFC 9051 6.3.7, RFC 5258):
-- the server must not drop a subscription because its mailbox is gone, so a deleted mailbox
-- stays subscribed (LIST (SUBSCRIBED) shows it \NonExistent, LSUB lists it) until UNSUBSCRIBE.
-- INBOX and the special-use mailboxes are subscribed when they are made (those of a new account,
-- CREATE with USE), so that clients showing subscribed mailboxes only see them; a mailbox the
-- client creates is not (RFC 3501 CREATE does not subscribe; imaptest's subscribe and listext
-- expect it so: the former column made every mailbox subscribed). A rename takes the
-- subscriptions of the mailbox and of its children along. Triggers, so that every path that
-- makes or renames a mailbox does it in its own transaction.
CREATE TABLE mailbox_subscriptions (
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name text NOT NULL,  -- as mailboxes.name: full path, '/' separated, "INBOX" upper-case
  PRIMARY KEY (account_id, name)
);
INSERT INTO mailbox_subscriptions (account_id, name)
SELECT account_id, name FROM mailboxes WHERE subscribed;
ALTER TABLE mailboxes DROP COLUMN subscribed;

CREATE FUNCTION govmail_subscribe_new_mailbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mailbox_subscriptions (account_id, name) VALUES (NEW.account_id, NEW.name)
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER mailboxes_subscribe_new AFTER INSERT ON mailboxes
FOR EACH ROW WHEN (NEW.name = 'INBOX' OR NEW.special_use <> 0)
EXECUTE FUNCTION govmail_subscribe_new_mailbox();

CREATE FUNCTION govmail_rename_subscription() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM mailbox_subscriptions WHERE account_id = OLD.account_id AND name = OLD.name;
  IF FOUND THEN
    INSERT INTO mailbox_subscriptions (account_id, name) VALUES (NEW.account_id, NEW.name)
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER mailboxes_rename_subscription AFTER UPDATE OF name ON mailboxes
FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
EXECUTE FUNCTION govmail_rename_subscription();
