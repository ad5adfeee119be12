-- govmail_deliver plans its statements once per database connection and keeps the plans. On a
-- new or small database, the lookup of a message's References among stored messages
-- (messages.message_id_hdr = ANY (...)) was planned as a sequential scan of a table of a few
-- rows, and that plan stayed while the table grew until autovacuum next analysed it: during a
-- bulk import into a fresh server (imapsync, `admin import-mail`), every APPEND read the whole
-- messages table, 0.01 ms at first and 1.9 ms after 4,000 messages (issue 16: one-connection bulk
-- APPEND 576 -> ~240 msg/s). Every statement of the function has an index to go by, so sequential
-- scans are priced out inside it. A later CREATE OR REPLACE of govmail_deliver must say
-- SET enable_seqscan = off itself (a replaced function loses this setting).
DO $$
DECLARE f regprocedure;
BEGIN
  FOR f IN SELECT oid::regprocedure FROM pg_proc WHERE proname = 'govmail_deliver' LOOP
    EXECUTE format('ALTER FUNCTION %s SET enable_seqscan = off', f);
  END LOOP;
END $$;
