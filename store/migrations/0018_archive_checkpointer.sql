-- Periodic signed checkpoints from `govmail serve` (docs/ARCHIVE.md): several govmail processes
-- may share one database; the one holding this lease signs the chain heads, the others wait.
-- An expired lease (a holder that stopped renewing) is taken over.
CREATE TABLE archive_checkpoint_lease (
  id smallint PRIMARY KEY CHECK (id = 1),
  holder text NOT NULL,
  expires_at timestamptz NOT NULL
);
