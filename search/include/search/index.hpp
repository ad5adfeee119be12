// Full-text search over every account's mail (docs/SEARCH.md): Xapian databases sharded by
// account under <var_dir>/search, fed by the indexer from the store's index queue, read by IMAP
// SEARCH (substring candidates + stored text) and by ranked queries (webmail, CLI).
// No Xapian type appears here: front ends see message ids and texts only.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "core/config.hpp"
#include "core/result.hpp"
#include "store/search_queue.hpp"
#include "store/types.hpp"

namespace govmail::store {
class Database;
}

namespace govmail::search {

// Where a text key looks (IMAP SEARCH keys map onto these).
enum class Field { body, subject, from, to, cc, bcc, header };

enum class SearchError {
  too_long,        // search.max_query_bytes
  too_many_terms,  // search.max_query_terms
  too_wide,        // a wildcard past search.max_wildcard_terms
  syntax,          // an unbalanced quote, an empty field...
  unavailable,     // the store or a shard failed (logged)
};
std::string_view to_string(SearchError e);

template <class T>
using SearchResult = Result<T, SearchError>;

// The text a message was indexed with, for verifying candidates without parsing MIME again.
// Documents keep the body folded both ways at indexing (core::fold_case, core::fold_vietnamese),
// so that a search folds nothing per candidate; queued messages (and documents written by an
// older version) give the decoded body instead.
struct StoredText {
  std::string header_block;  // raw header block (through the blank line)
  std::string body;          // store::ParsedMessage::search_text, when not `folded`
  bool folded = false;       // body_cased and body_plain hold the folds, body is empty
  std::string body_cased;    // core::fold_case(body)
  std::string body_plain;    // core::fold_vietnamese(body); empty when the body is ASCII
  bool body_ascii = false;   // the body is ASCII: its plain fold is its cased fold
};

// Which parts of a document's texts a search reads: the rest is not copied out of the index
// (a wide search reads thousands of documents).
struct TextParts {
  bool header = true;  // the header block (TEXT, HEADER)
  bool plain = true;   // the body's plain fold (a search string without marks)
};

struct Candidates {
  std::vector<store::MessageId> messages;  // ascending: every match is here
  std::vector<store::MessageId> certain;   // ascending, within messages: all of them match
};

struct Hit {
  store::MessageId message = 0;
  double weight = 0;
};

struct ShardStats {
  unsigned shard = 0;
  std::uint64_t documents = 0;
  bool healthy = true;
};

class Index {
 public:
  // dir: <var_dir>/search. The database gives the queue and the stored messages.
  Index(Executor ex, const core::SearchConfig& cfg, std::filesystem::path dir,
        std::shared_ptr<store::Database> db);
  ~Index();
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  const core::SearchConfig& config() const;

  // --- IMAP SEARCH: a superset of the account's messages whose `fields` text (folded) may hold
  // `needle` as a substring: the indexed ones whose words fit, and every message still queued;
  // among them those the index knows to hold it (words separated by single spaces, see
  // terms::plan_needle), which need no verification.
  // nullopt: the index cannot narrow (a needle without letters or digits, a shard being rebuilt,
  // too many queued messages): the caller tests every message.
  awaitable<SearchResult<std::optional<Candidates>>> substring_candidates(store::AccountId account,
                                                                          std::vector<Field> fields,
                                                                          std::string needle);
  // The stored texts of these messages: from the index (`folded`), or from the queue for
  // messages not yet indexed (header_block empty then: read it from the store). Missing ones
  // are left out.
  awaitable<std::map<store::MessageId, StoredText>> stored_texts(
      store::AccountId account, std::vector<store::MessageId> messages, TextParts parts = {});

  // The entries these messages (ascending) have in the account's mailbox, by UID ascending.
  // mailbox_size (when known): past a quarter of it, the mailbox is read whole and filtered.
  awaitable<SearchResult<std::vector<store::MessageUid>>> uids_in_mailbox(
      store::AccountId account, store::MailboxId mailbox, std::vector<store::MessageId> messages,
      std::size_t mailbox_size = 0);

  // --- ranked queries: words (accented or not), "phrases", prefix*, field:value (from, to, cc,
  // bcc, subject, body), document numbers such as 123/UBND-VP. Best first.
  awaitable<SearchResult<std::vector<Hit>>> query(store::AccountId account, std::string text,
                                                  std::size_t limit);

  // Documents per shard (read-only; any process).
  awaitable<std::vector<ShardStats>> shard_stats();

  // --- the indexer: drains the queue while this process holds the lease (search.indexer).
  void start_indexer();
  awaitable<void> stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// Documents per shard of <dir> without an Index (the CLI): opens each shard read-only.
std::vector<ShardStats> read_shard_stats(const std::filesystem::path& dir, unsigned shards);

}  // namespace govmail::search
