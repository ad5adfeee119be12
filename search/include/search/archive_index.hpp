// The auditors' full-text index of the archive journal (docs/ARCHIVE.md): one Xapian database,
// <var_dir>/archive-index, a document per journal entry (document id = journal id) holding its
// participants, subject and body folded as search/ folds (core::fold_vietnamese: "cong van"
// finds "Công văn"). No Xapian type appears here.
//
// The journal is its own queue: within a chain, entries commit in seq order (a chain is held by
// one transaction until its COMMIT), so the last seq indexed of each chain, kept in the database's metadata
// and committed with the documents, is a cursor that skips nothing. Nothing is added to the
// delivery transaction.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace govmail::search {

// The last entry indexed of a chain, with its hash: an index kept beside another database's
// journal (a database replaced under the same var_dir) is told apart by it.
struct ChainMark {
  std::int64_t seq = 0;
  std::string hash;  // the journal entry's hash (raw bytes)
  bool operator==(const ChainMark&) const = default;
};
using ArchiveCursor = std::map<std::string, ChainMark>;  // by chain

// What one document is made of.
struct ArchiveDoc {
  std::int64_t id = 0;  // journal id
  std::string chain;
  std::int64_t seq = 0;
  std::string hash;
  std::string text;  // participants, subject, body: folded here
};

// --- read side (any process; opens the database read-only each call) ---
// nullopt: no index yet, or it cannot be read (logged).
std::optional<ArchiveCursor> archive_cursor(const std::filesystem::path& dir);
// Journal ids whose text holds every word of `text`, highest first, at most `limit`. nullopt as
// above; an empty list when `text` has no word.
std::optional<std::vector<std::int64_t>> archive_matches(const std::filesystem::path& dir,
                                                         std::string_view text, std::size_t limit);

// --- write side: one writer at a time (Xapian's lock on the directory) ---
class ArchiveIndexWriter {
 public:
  // Null when another process holds the write lock or the database cannot be opened (logged).
  static std::unique_ptr<ArchiveIndexWriter> open(const std::filesystem::path& dir);
  ~ArchiveIndexWriter();
  ArchiveIndexWriter(const ArchiveIndexWriter&) = delete;
  ArchiveIndexWriter& operator=(const ArchiveIndexWriter&) = delete;

  ArchiveCursor cursor() const;
  // The last purged entry removed: {its purge's audit entry id, its journal id}.
  std::pair<std::int64_t, std::int64_t> purge_cursor() const;
  void add(const ArchiveDoc& doc);  // and moves the chain's cursor to doc.seq
  // An entry with nothing to index (purged): only the chain's cursor moves.
  void advance(const std::string& chain, std::int64_t seq, const std::string& hash);
  void remove(std::int64_t journal_id);
  void set_purge_cursor(std::int64_t audit_id, std::int64_t journal_id);
  // Documents, removals and cursors become visible together. False on failure (logged).
  bool commit();
  std::uint64_t documents() const;

  struct Impl;

 private:
  explicit ArchiveIndexWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace govmail::search
