-- govmail schema, version 5: an index on index_queue.message_id.
-- Expunging a message deletes its messages row, and the ON DELETE CASCADE of index_queue then
-- looked for the message's queue rows with a sequential scan of the whole queue (search text
-- included): about 1 ms per expunged message with 2,000 queued (bench/imap), growing with the
-- queue whenever the indexer lags.
CREATE INDEX index_queue_message ON index_queue (message_id);
