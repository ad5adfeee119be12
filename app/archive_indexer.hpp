// `govmail serve` keeps the auditors' text index (search/archive_index.hpp, docs/ARCHIVE.md) up
// with the journal: every few seconds, the entries past its cursors and the purges since. Of the
// processes sharing a var_dir, the one holding Xapian's write lock does it; the others try again
// each round.
#pragma once
#include <memory>

#include "core/awaitable_fwd.hpp"
#include "core/config.hpp"
#include "store/database.hpp"

namespace govmail::app {

class ArchiveIndexer {
 public:
  ArchiveIndexer(Executor ex, const core::Config& cfg, std::shared_ptr<store::Database> db);
  ~ArchiveIndexer();
  void start();
  // The writer closes (and its lock goes) when the loop ends, which this waits for (at most 10 s).
  awaitable<void> stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace govmail::app
