// The archive's checks and auditor tools (docs/ARCHIVE.md): the canonical hashes of journal and
// audit entries (identical to govmail_journal_canon / govmail_audit_canon in migration 0017),
// the Ed25519 checkpoint key, `archive verify`, search with Vietnamese folding, and signed
// exports that verify on another machine with the public key alone.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <chrono>
#include "core/awaitable_fwd.hpp"
#include "core/config.hpp"
#include "core/hex.hpp"
#include "core/sha256.hpp"
#include "store/archive.hpp"

namespace govmail::search {
class ArchiveIndexWriter;
struct ChainMark;
}  // namespace govmail::search
namespace govmail::core {
class WorkerPool;
}

namespace govmail::admin::archive {

using core::sha256;  // raw 32 bytes
using core::to_hex;  // lower-case hexadecimal
std::optional<std::string> from_hex(std::string_view hex);

// sha256(prev_hash || canonical form): what the database stored as `hash`, when nothing changed.
std::string journal_hash(const store::JournalEntry& e);
// SHA-256 of the entry's content form (store::journal_content_canon), for "GMJ2" entries: what
// content_hash holds when nothing changed.
std::string journal_content_hash(const store::JournalEntry& e);
std::string audit_hash(const store::AuditRecord& a);

// Ed25519 key pair; the secret key (64 bytes, libsodium layout) never leaves this machine.
struct SigningKey {
  std::string public_key, secret_key;
};
// The checkpoint key file: archive.signing_key_file, or server.var_dir/archive-signing.key.
std::filesystem::path key_path(const core::Config& cfg);
// The auditors' text index: <server.var_dir>/archive-index.
std::filesystem::path index_path(const core::Config& cfg);
// Loads the key file (hex), or creates it (mode 0600) when absent. nullopt + message on failure.
std::optional<SigningKey> load_or_create_key(const std::filesystem::path& file, std::string& error);
std::string sign(const SigningKey& key, std::string_view message);
bool signature_ok(std::string_view public_key, std::string_view message,
                  std::string_view signature);
std::string checkpoint_message(const store::Checkpoint& c);

// Signs the current head of every chain that moved since its last checkpoint; returns how many.
// The first key used is pinned in the database; another key signs nothing (conflict).
awaitable<store::Result<int>> checkpoint(store::ArchiveStore& store, const SigningKey& key);

struct VerifyOptions {
  std::optional<std::int64_t> from_us, to_us;  // journal entries by time; audit entries all
  bool blobs = true;
  // Raw; empty: the key pinned in the database (store::ArchiveStore::pin_public_key). A
  // checkpoint signed by any other key is a problem, as is one with no key to check it by.
  std::string trusted_public_key;
  std::function<void(std::int64_t done, std::int64_t total)> progress;
  int page = 10000;
};
struct VerifyReport {
  std::vector<std::string> problems;  // the first problem of each chain comes first
  std::int64_t entries = 0, audit_entries = 0, checkpoints = 0, blobs = 0;
  std::uint64_t blob_bytes = 0;
  // Wall-clock time of the blob check's two halves: reading the blobs from the store, hashing.
  double blob_read_seconds = 0, blob_hash_seconds = 0;
  bool ok() const { return problems.empty(); }
};
awaitable<store::Result<VerifyReport>> verify(store::ArchiveStore& store, VerifyOptions opt);

// Auditor search: participants and dates in SQL, text through the archive's text index
// (search/archive_index.hpp) for the entries it holds, and by reading and parsing each candidate
// for those it has not reached yet (or every candidate, without an index).
struct SearchStats {
  bool indexed = false;        // the text index answered
  std::size_t index_hits = 0;  // documents whose text matched, before the SQL filters
  std::size_t from_index = 0;  // matches it gave that passed them
  std::size_t scanned = 0;     // entries read and parsed instead
};
struct SearchOptions {
  store::JournalQuery query;
  std::string text;  // every word must occur in the subject, addresses or body
  std::size_t scan_max =
      20000;  // entries read one by one; also the most matches taken from the index
  std::size_t results_max = 1000;
  std::filesystem::path index_dir;  // index_path(cfg); empty: no index
  SearchStats* stats = nullptr;     // filled when set
};
awaitable<store::Result<std::vector<store::JournalEntry>>> search(store::ArchiveStore& store,
                                                                  SearchOptions opt);
// The text matcher behind search (folding: core::fold_vietnamese until search/ offers its own).
bool text_matches(std::string_view folded_haystack, std::string_view query);
// What an entry's text is: subject, addresses, recipients and the message's decoded body.
std::string entry_text(const store::JournalEntry& e, std::string_view body);

// `govmail archive purge`: what every retention policy allows and no legal hold keeps. The words
// of the holds by query are looked for (search above, every match) in each entry the policies
// would purge; an entry not evaluated is kept by every query hold whose other criteria it meets.
awaitable<store::Result<std::int64_t>> purge(store::ArchiveStore& store,
                                             const std::filesystem::path& index_dir,
                                             store::ArchiveActor who, bool dry_run);

// Whether the index's cursors name entries of this journal (same chain, seq and hash): false for
// an index left beside another database, which then must not be trusted.
awaitable<store::Result<bool>> index_is_of(store::ArchiveStore& store,
                                           const std::map<std::string, search::ChainMark>& cursor);

// One round of the indexer `govmail serve` runs: conflict when the index is not of this
// journal (index_is_of); at most `max` journal entries past the index's
// cursors added (purged ones only passed), the entries purged since the last round removed, then
// committed. The MIME parsing and the Xapian writes run on `pool` (inline when null). Entries
// journaled at or after `before_us` (microseconds since the epoch; 0: no bound) wait for a later
// round, and so does the rest of their chain. Returns the entries added or passed.
awaitable<store::Result<std::size_t>> index_round(store::ArchiveStore& store,
                                                  search::ArchiveIndexWriter& index,
                                                  std::size_t max, core::WorkerPool* pool,
                                                  std::int64_t before_us = 0);
std::string fold_for_search(std::string_view text);

// Writes the messages to `dir` (mbox: one file messages.mbox; eml: one file per message) and a
// signed manifest.json + manifest.sig. Returns the number of messages written.
enum class ExportFormat { eml, mbox };
awaitable<store::Result<std::size_t>> export_messages(
    store::ArchiveStore& store, const std::vector<store::JournalEntry>& entries,
    const std::filesystem::path& dir, ExportFormat format, const SigningKey& key,
    const std::function<void(std::int64_t, std::int64_t)>& progress, std::string& error);
// What verify-export reads of a manifest.json (sans I/O): per message where it is and its hash.
// nullopt when the text is not a manifest (not JSON, a field of the wrong type, a bad format),
// so that a crafted manifest is refused, never thrown on.
struct ManifestEntry {
  std::string file, chain, sha256;  // sha256: hex
  std::int64_t seq = 0;
  std::uint64_t offset = 0, length = 0;  // mbox: the message in messages.mbox
};
struct Manifest {
  bool mbox = false;
  std::vector<ManifestEntry> messages;
};
std::optional<Manifest> parse_manifest(std::string_view text);
// Whether [offset, offset + length) lies within `size` bytes (no overflow).
bool within(std::uint64_t offset, std::uint64_t length, std::uint64_t size);

// Checks an export: manifest signature (with `public_key`), then every message's hash.
// Problems are returned; empty = verified.
std::vector<std::string> verify_export(const std::filesystem::path& dir,
                                       std::string_view public_key);

}  // namespace govmail::admin::archive
