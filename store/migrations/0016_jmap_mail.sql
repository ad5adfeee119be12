-- govmail schema, version 16: what the JMAP mail methods (RFC 8621) keep beyond the IMAP model.
-- Emails, mailboxes and threads need nothing new: an Email is (account, messages.id), its
-- mailboxIds are the account's mailbox_entries of that message, its state the account's modseq.

-- VacationResponse (RFC 8621 8): one per account.
CREATE TABLE vacation_responses (
  account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  is_enabled boolean NOT NULL DEFAULT false,
  from_date timestamptz,
  to_date timestamptz,
  subject text,
  text_body text,
  html_body text,
  -- bumped by every change: a new period (RFC 3834 5.1 "once per sender per period")
  period bigint NOT NULL DEFAULT 1
);

-- Senders already answered in the current period of an account's vacation response.
CREATE TABLE vacation_replies (
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  period bigint NOT NULL,
  sender text NOT NULL,
  sent_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, period, sender)
);

-- EmailSubmission (RFC 8621 7): the record of a JMAP submission; the message itself went
-- through MailboxStore::deliver (local entries, outbound_queue), as SMTP submission does.
CREATE TABLE email_submissions (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  email_id bigint NOT NULL,
  identity_id text NOT NULL,
  thread_id bigint NOT NULL,
  envelope jsonb NOT NULL,
  send_at timestamptz NOT NULL DEFAULT now(),
  outbound_id bigint,
  modseq bigint NOT NULL
);
CREATE INDEX email_submissions_account ON email_submissions (account_id, id);
