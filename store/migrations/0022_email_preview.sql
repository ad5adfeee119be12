-- JMAP Email preview (RFC 8621 4.1.4), cached: a message list asks for the previews of 50
-- messages on every page, and computing one reads and decodes the message's text. The preview
-- is a function of the raw message (which never changes), written the first time Email/get
-- computes it; NULL = not computed yet. A change of the preview's rules clears the column.
ALTER TABLE messages ADD COLUMN preview text;
