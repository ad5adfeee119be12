// search/archive_index.hpp on Xapian: one unsharded database; words of the folded text as terms,
// no positions (auditors ask for words, not phrases), the chain cursors as metadata "c:<chain>".
#include "search/archive_index.hpp"

#include <spdlog/spdlog.h>
#include <xapian.h>

#include <set>
#include <utility>

#include "core/text.hpp"

namespace govmail::search {
namespace {

constexpr std::string_view kChainKey = "c:";
constexpr const char* kPurgeKey = "purge";

std::int64_t to_int(const std::string& s) {
  try {
    return s.empty() ? 0 : std::stoll(s);
  } catch (const std::exception&) {
    return 0;
  }
}

// The words of a text the way documents are indexed: folded, then Xapian's word splitting.
std::set<std::string> words(std::string_view text) {
  Xapian::TermGenerator gen;
  Xapian::Document doc;
  gen.set_document(doc);
  gen.index_text_without_positions(core::fold_vietnamese(text));
  return {doc.termlist_begin(), doc.termlist_end()};
}

// A chain's metadata value: "<seq>:" then the hash's raw bytes.
ArchiveCursor cursor_of(const Xapian::Database& db) {
  ArchiveCursor out;
  const std::string prefix(kChainKey);
  for (auto k = db.metadata_keys_begin(prefix); k != db.metadata_keys_end(prefix); ++k) {
    const std::string v = db.get_metadata(*k);
    const auto colon = v.find(':');
    if (colon == std::string::npos) continue;
    out[(*k).substr(prefix.size())] = ChainMark{to_int(v.substr(0, colon)), v.substr(colon + 1)};
  }
  return out;
}

}  // namespace

std::optional<ArchiveCursor> archive_cursor(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return std::nullopt;
  try {
    Xapian::Database db(dir.string());
    return cursor_of(db);
  } catch (const Xapian::Error& e) {
    spdlog::warn("archive index: cannot read {}: {}", dir.string(), e.get_description());
    return std::nullopt;
  }
}

std::optional<std::vector<std::int64_t>> archive_matches(const std::filesystem::path& dir,
                                                         std::string_view text, std::size_t limit) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return std::nullopt;
  auto w = words(text);
  std::vector<std::int64_t> out;
  if (w.empty()) return out;
  try {
    Xapian::Database db(dir.string());
    Xapian::Enquire enquire(db);
    enquire.set_query(Xapian::Query(Xapian::Query::OP_AND, w.begin(), w.end()));
    enquire.set_weighting_scheme(Xapian::BoolWeight());
    enquire.set_docid_order(Xapian::Enquire::DESCENDING);
    auto found = enquire.get_mset(0, static_cast<Xapian::doccount>(limit));
    for (auto it = found.begin(); it != found.end(); ++it)
      out.push_back(static_cast<std::int64_t>(*it));
    return out;
  } catch (const Xapian::Error& e) {
    spdlog::warn("archive index: cannot search {}: {}", dir.string(), e.get_description());
    return std::nullopt;
  }
}

struct ArchiveIndexWriter::Impl {
  Xapian::WritableDatabase db;
  Xapian::TermGenerator gen;
  bool failed = false;  // a write threw: the round is not committed
  bool in_tx = false;   // a round's writes are one Xapian transaction: all or none

  template <class F>
  void guarded(F f) {
    if (failed) return;
    try {
      if (!in_tx) db.begin_transaction(true);  // flushed: commit_transaction writes it out
      in_tx = true;
      f();
    } catch (const Xapian::Error& e) {
      spdlog::error("archive index: write failed: {}", e.get_description());
      failed = true;
    }
  }
};

ArchiveIndexWriter::ArchiveIndexWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ArchiveIndexWriter::~ArchiveIndexWriter() = default;

std::unique_ptr<ArchiveIndexWriter> ArchiveIndexWriter::open(const std::filesystem::path& dir) {
  try {
    auto impl = std::unique_ptr<Impl>(
        new Impl{Xapian::WritableDatabase(dir.string(), Xapian::DB_CREATE_OR_OPEN), {}});
    return std::unique_ptr<ArchiveIndexWriter>(new ArchiveIndexWriter(std::move(impl)));
  } catch (const Xapian::DatabaseLockError&) {
    return nullptr;  // another govmail indexes: it will do this work
  } catch (const Xapian::Error& e) {
    spdlog::error("archive index: cannot open {}: {}", dir.string(), e.get_description());
    return nullptr;
  }
}

ArchiveCursor ArchiveIndexWriter::cursor() const {
  return cursor_of(impl_->db);
}

std::pair<std::int64_t, std::int64_t> ArchiveIndexWriter::purge_cursor() const {
  const std::string v = impl_->db.get_metadata(kPurgeKey);  // "audit:journal"
  const auto colon = v.find(':');
  if (colon == std::string::npos) return {0, 0};
  return {to_int(v.substr(0, colon)), to_int(v.substr(colon + 1))};
}

void ArchiveIndexWriter::add(const ArchiveDoc& d) {
  impl_->guarded([&] {
    Xapian::Document doc;
    impl_->gen.set_document(doc);
    impl_->gen.index_text_without_positions(core::fold_vietnamese(d.text));
    impl_->db.replace_document(static_cast<Xapian::docid>(d.id), doc);
  });
  advance(d.chain, d.seq, d.hash);
}

void ArchiveIndexWriter::advance(const std::string& chain, std::int64_t seq,
                                 const std::string& hash) {
  impl_->guarded([&] {
    impl_->db.set_metadata(std::string(kChainKey) + chain, std::to_string(seq) + ":" + hash);
  });
}

void ArchiveIndexWriter::remove(std::int64_t journal_id) {
  impl_->guarded([&] {
    try {
      impl_->db.delete_document(static_cast<Xapian::docid>(journal_id));
    } catch (const Xapian::DocNotFoundError&) {
      // never indexed (purged before the indexer came to it)
    }
  });
}

void ArchiveIndexWriter::set_purge_cursor(std::int64_t audit_id, std::int64_t journal_id) {
  impl_->guarded([&] {
    impl_->db.set_metadata(kPurgeKey, std::to_string(audit_id) + ":" + std::to_string(journal_id));
  });
}

bool ArchiveIndexWriter::commit() {
  const bool failed = std::exchange(impl_->failed, false);
  if (!std::exchange(impl_->in_tx, false)) return !failed;
  try {
    if (failed)
      impl_->db.cancel_transaction();
    else
      impl_->db.commit_transaction();
    return !failed;
  } catch (const Xapian::Error& e) {
    spdlog::error("archive index: commit failed: {}", e.get_description());
    return false;
  }
}

std::uint64_t ArchiveIndexWriter::documents() const {
  return impl_->db.get_doccount();
}

}  // namespace govmail::search
