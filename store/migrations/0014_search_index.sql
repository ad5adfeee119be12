-- 0014: the search indexer (search/, docs/SEARCH.md).
--  * index_queue is drained by the indexer of one govmail process (the holder of the lease
--    below); a row is deleted only after the Xapian commit that holds its documents.
--  * reparse: a row written by `govmail search reindex` or a shard rebuild, without search text;
--    the indexer parses the stored message again.
--  * index_removals: every deleted mailbox entry (expunge, MOVE's source, a deleted mailbox or
--    account) as (account, message), written by a statement trigger; the indexer drops the
--    account's document when the account holds the message nowhere any more.
ALTER TABLE index_queue ADD COLUMN reparse boolean NOT NULL DEFAULT false;

CREATE TABLE index_removals (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL,
  message_id bigint NOT NULL
);

CREATE FUNCTION govmail_note_index_removals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO index_removals (account_id, message_id)
    SELECT DISTINCT account_id, message_id FROM gone_entries;
  RETURN NULL;
END $$;

CREATE TRIGGER mailbox_entries_index_removals AFTER DELETE ON mailbox_entries
  REFERENCING OLD TABLE AS gone_entries FOR EACH STATEMENT
  EXECUTE FUNCTION govmail_note_index_removals();

-- One indexer for the whole database: the process whose lease has not run out.
CREATE TABLE search_indexer_lease (
  id smallint PRIMARY KEY CHECK (id = 1),
  holder text NOT NULL,
  expires_at timestamptz NOT NULL
);

-- Which index directory the consumed queue rows went into (search/INDEX-ID under var_dir): an
-- indexer that finds another id (a lost or replaced directory) queues every message again, and
-- a searcher whose directory has another id does without its index.
CREATE TABLE search_index_state (
  id smallint PRIMARY KEY CHECK (id = 1),
  index_id text NOT NULL
);
