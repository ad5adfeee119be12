-- govmail schema, version 3: cheaper ingest (profiled on 100 KB messages through SMTP).
-- The search text queued for the indexer is compressed with LZ4 like the blobs: PostgreSQL's
-- default pglz was the largest single cost of govmail_deliver (about a sixth of the backend's CPU).
ALTER TABLE index_queue ALTER COLUMN search_text SET COMPRESSION lz4;
