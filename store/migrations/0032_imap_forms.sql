-- What an IMAP FETCH renders of a message from the parse's JSON (issue 16: a client's listing
-- of a 2,000-message mailbox parsed 4,000 JSON documents and read 2,000 header blocks out of
-- the blobs, every time): ENVELOPE and BODYSTRUCTURE in their plain (not UTF8=ACCEPT) form and
-- the header block, written the first time a FETCH renders them, as Dovecot's
-- dovecot.index.cache fills on first access, then read by every FETCH after. They are
-- functions of the message's bytes and of the renderer, whose `version` the IMAP front end
-- names: rows of another version are ignored and replaced. They leave with the message.
CREATE TABLE message_imap_forms (
  message_id bigint PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
  version integer NOT NULL,
  envelope bytea,
  bodystructure bytea,
  header bytea
);
