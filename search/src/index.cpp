// The Index: per-thread Xapian readers on the worker pool, and the indexer loop (one writer per
// database: the holder of the store's lease; Xapian's own lock backs it up).
#include "search/index.hpp"

#include <spdlog/spdlog.h>
#include <xapian.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <functional>
#include <set>
#include <stop_token>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/asio.hpp"
#include "core/lease_holder.hpp"
#include "core/spawn.hpp"
#include "core/thread_priority.hpp"
#include "core/wait_while.hpp"
#include "core/worker_pool.hpp"
#include "query.hpp"
#include "store/database.hpp"
#include "store/mime.hpp"
#include "store/search_queue.hpp"
#include "terms.hpp"

namespace govmail::search {

namespace fs = std::filesystem;
using store::AccountId;
using store::MessageId;

std::string_view to_string(SearchError e) {
  switch (e) {
    case SearchError::too_long:
      return "search string too long (search.max_query_bytes)";
    case SearchError::too_many_terms:
      return "too many search terms (search.max_query_terms)";
    case SearchError::too_wide:
      return "wildcard matches too many words (search.max_wildcard_terms)";
    case SearchError::syntax:
      return "bad query syntax";
    case SearchError::unavailable:
      return "search temporarily unavailable";
  }
  return "search error";
}

namespace {

fs::path shard_path(const fs::path& dir, unsigned shard) {
  char name[32];
  std::snprintf(name, sizeof name, "shard-%03u", shard);
  return dir / name;
}

fs::path rebuild_marker(const fs::path& dir, unsigned shard) {
  return shard_path(dir, shard).string() + ".rebuild";
}

bool shard_exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p / "iamglass", ec);
}

// The calling thread's reader of a shard, reopened to the latest commit; null when the shard has
// no database yet. Xapian objects are not thread-safe: one per thread.
Xapian::Database* reader(const fs::path& p) {
  thread_local std::map<std::string, Xapian::Database> readers;
  const std::string key = p.string();
  if (!shard_exists(p)) {
    readers.erase(key);
    return nullptr;
  }
  auto it = readers.find(key);
  if (it == readers.end()) {
    it = readers.emplace(key, Xapian::Database(key)).first;
  } else {
    try {
      it->second.reopen();
    } catch (const Xapian::Error&) {  // replaced underneath (a rebuild): open afresh
      readers.erase(it);
      it = readers.emplace(key, Xapian::Database(key)).first;
    }
  }
  return &it->second;
}

void mark_for_rebuild(const fs::path& dir, unsigned shard, const std::string& why) {
  spdlog::error("search: shard {} is unreadable ({}): marked for rebuild from the store", shard,
                why);
  std::ofstream(rebuild_marker(dir, shard)) << why << "\n";
}

// The messages of the documents a query matches, ascending by document. The message ids come
// from their value stream in one pass: a wide search matches tens of thousands of documents, and
// reading each document's values one by one was most of its time.
std::vector<MessageId> doc_messages(Xapian::Database& db, const Xapian::Query& q) {
  Xapian::Enquire enq(db);
  enq.set_query(q);
  enq.set_weighting_scheme(Xapian::BoolWeight());
  enq.set_docid_order(Xapian::Enquire::ASCENDING);
  auto mset = enq.get_mset(0, std::max<Xapian::doccount>(db.get_doccount(), 1));
  std::vector<MessageId> out;
  out.reserve(mset.size());
  auto value = db.valuestream_begin(terms::kMessageSlot);
  const auto end = db.valuestream_end(terms::kMessageSlot);
  for (auto it = mset.begin(); it != mset.end(); ++it) {
    const Xapian::docid doc = *it;
    if (value == end) break;
    if (value.get_docid() < doc) value.skip_to(doc);
    if (value == end || value.get_docid() != doc) continue;  // no id: not one of ours
    MessageId id = 0;
    for (char c : *value) id = id * 10 + (c - '0');
    out.push_back(id);
  }
  return out;
}

// The index words under a prefix that a word of the needle may stand for, as `kind` places it
// inside them; nullopt: too many to list.
std::optional<std::vector<std::string>> expand(Xapian::Database& db, const std::string& prefix,
                                               const std::string& word, terms::Piece::Kind kind,
                                               unsigned max) {
  using K = terms::Piece::Kind;
  std::vector<std::string> out;
  if (kind == K::exact) return std::vector<std::string>{prefix + word};
  if (kind == K::suffix) {  // a range of the reversed vocabulary
    const std::string start = terms::reversed_vocabulary_key(prefix + word);
    const std::size_t word_at = start.size() - word.size();
    for (auto t = db.metadata_keys_begin(start); t != db.metadata_keys_end(start); ++t) {
      if (out.size() >= max) return std::nullopt;
      const std::string key = *t;
      out.push_back(prefix);
      out.back().append(key.rbegin(), key.rend() - static_cast<std::ptrdiff_t>(word_at));
    }
    return out;
  }
  // The vocabulary kept apart (terms.hpp): walking the terms themselves reads their postings.
  const std::string start = terms::vocabulary_key(kind == K::prefix ? prefix + word : prefix);
  const std::size_t term_at = terms::vocabulary_key("").size(), word_at = term_at + prefix.size();
  for (auto t = db.metadata_keys_begin(start); t != db.metadata_keys_end(start); ++t) {
    const std::string key = *t;
    const std::string_view term = std::string_view(key).substr(term_at);
    const std::string_view w = std::string_view(key).substr(word_at);
    if (kind == K::infix && w.find(word) == std::string_view::npos) continue;
    if (out.size() >= max) return std::nullopt;
    out.emplace_back(term);
  }
  return out;
}

// The folded words a folded piece may stand for: those of words that carried marks (B...) and
// the words without marks, which are their own fold and indexed as cased words only (W...). A
// cased word that fits an ASCII piece has a fold that fits it too (folding maps each character
// on its own and keeps ASCII letters and digits), so the union is exact where each half is.
std::optional<std::vector<std::string>> expand_folded(Xapian::Database& db, Field f,
                                                      const std::string& word,
                                                      terms::Piece::Kind kind, unsigned max) {
  auto marked = expand(db, terms::folded_prefix(f), word, kind, max);
  auto plain = expand(db, terms::cased_prefix(f), word, kind, max);
  if (!marked || !plain || marked->size() + plain->size() > max) return std::nullopt;
  marked->insert(marked->end(), plain->begin(), plain->end());
  return marked;
}

// The documents of one field whose words fit the needle's pieces in its shape: a phrase with
// the needle's separators between the words (one space: the next position; one punctuation
// character: its separator term; anything else: the other separators' term).
//   exact (terms::plan_needle said so): every piece through the words that spell it (the cased
//     ones for a needle with marks): the documents that hold the needle; nullopt when a piece
//     has too many words to list.
//   otherwise a superset through the folded words: a piece too wide (or cut) is left out, and
//     without all of them the phrase becomes an AND; nullopt when no piece is left.
std::optional<Xapian::Query> field_query(Xapian::Database& db, Field f,
                                         const terms::NeedlePlan& plan, bool exact, unsigned max) {
  const bool cased = exact && plan.cased;
  std::vector<Xapian::Query> words_only, phrase;
  for (std::size_t i = 0; i < plan.pieces.size(); ++i) {
    const auto& p = plan.pieces[i];
    std::optional<std::vector<std::string>> words;
    if (p.kind != terms::Piece::Kind::skip)
      words = cased ? expand(db, terms::cased_prefix(f), p.cased, p.kind, max)
                    : expand_folded(db, f, p.word, p.kind, max);
    if (!words && exact) return std::nullopt;
    if (!words) continue;
    if (words->empty()) return Xapian::Query(Xapian::Query::MatchNothing);
    words_only.emplace_back(Xapian::Query::OP_OR, words->begin(), words->end());
    if (i > 0 && plan.separators[i] != ' ')
      phrase.emplace_back(terms::separator_term(f, plan.separators[i]));
    phrase.push_back(words_only.back());
  }
  if (words_only.empty()) return std::nullopt;
  if (phrase.size() == 1) return phrase.front();
  if (words_only.size() == plan.pieces.size())
    return Xapian::Query(Xapian::Query::OP_PHRASE, phrase.begin(), phrase.end(), phrase.size());
  return Xapian::Query(Xapian::Query::OP_AND, words_only.begin(), words_only.end());
}

// Appends b to a, both ascending, keeping a ascending and without duplicates.
void merge_into(std::vector<MessageId>& a, const std::vector<MessageId>& b) {
  std::vector<MessageId> out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  a = std::move(out);
}

// The candidates of a needle in some fields of one account's documents: exact fields give their
// matches as certain, others a superset, and the documents with a cut word are added to verify;
// nullopt when a field cannot be narrowed (then neither can the search).
std::optional<Candidates> candidates(Xapian::Database& db, AccountId account,
                                     const std::vector<Field>& fields,
                                     const terms::NeedlePlan& plan, unsigned max) {
  std::vector<Xapian::Query> inexact, exact, cut;
  for (Field f : fields) {
    // Every field is indexed from the text its keys verify (the header fields: all of them
    // decoded, as TEXT reads them; a HEADER key on one field drops `certain`).
    const bool sure = plan.exact;
    auto q = field_query(db, f, plan, sure, max);
    if (!q) return std::nullopt;
    (sure ? exact : inexact).push_back(*q);
    // A word the index cut may hold the needle past its cut: such messages are candidates.
    if (db.get_termfreq(terms::cut_term(f)) > 0) cut.emplace_back(terms::cut_term(f));
  }
  const Xapian::Query mine(terms::account_term(account));
  auto of = [&](const std::vector<Xapian::Query>& qs) {
    if (qs.empty()) return std::vector<MessageId>();
    Xapian::Query any(Xapian::Query::OP_OR, qs.begin(), qs.end());
    auto out = doc_messages(db, Xapian::Query(Xapian::Query::OP_FILTER, any, mine));
    std::sort(out.begin(), out.end());
    return out;
  };
  Candidates c;
  c.certain = of(exact);
  c.messages = c.certain;
  merge_into(c.messages, of(inexact));
  merge_into(c.messages, of(cut));
  return c;
}

// Words new to a shard's vocabulary go into it, in the commit that adds their documents.
void record_vocabulary(Xapian::WritableDatabase& db, const std::set<std::string>& words) {
  for (const auto& w : words) {
    const std::string key = terms::vocabulary_key(w);
    if (!db.get_metadata(key).empty()) continue;
    db.set_metadata(key, "1");
    db.set_metadata(terms::reversed_vocabulary_key(w), "1");
  }
}

// The format of this index directory's documents (search/FORMAT, terms::kIndexFormat); 0 when
// unknown (none written yet, or written before formats were).
int read_index_format(const fs::path& dir) {
  std::ifstream in(dir / "FORMAT");
  int format = 0;
  in >> format;
  return in ? format : 0;
}

// The id of this index directory (search/INDEX-ID); "" when there is none yet.
std::string read_index_id(const fs::path& dir) {
  std::ifstream in(dir / "INDEX-ID");
  std::string id;
  std::getline(in, id);
  return id;
}

// The input of a queued message's documents: the stored search text, or the raw message parsed
// again (reindex).
terms::DocInput document_input(const store::IndexJob& job) {
  terms::DocInput in;
  in.message = job.message;
  in.date = job.internal_date;
  in.size = job.size;
  in.envelope_json = job.envelope_json;
  if (!job.reparse) {
    in.header_block = job.header_block;
    in.body = job.search_text;
    return in;
  }
  auto parsed = store::parse_message(job.header_block);
  auto bs = nlohmann::json::parse(parsed.bodystructure_json, nullptr, false);
  std::uint64_t off = bs.is_object() ? bs.value("body_offset", std::uint64_t{0}) : 0;
  in.header_block =
      job.header_block.substr(0, std::min<std::uint64_t>(off, job.header_block.size()));
  in.body = std::move(parsed.search_text);
  return in;
}

// A batch's documents, built in order on a thread of its own; the indexer's writer takes each
// as soon as it is ready. A message held by several accounts (a broadcast) is folded and built
// once: its accounts' documents differ only in the account's two boolean terms, which the writer
// swaps (for_each_account). The vocabulary (each shard's words) is the builder's until finish()
// has joined it.
class BatchBuilder {
 public:
  struct Built {
    MessageId message = 0;
    std::vector<AccountId> accounts;
    Xapian::Document doc;  // the first account's terms until for_each_account moves them on

    // f(account, unique term, document) for each account in turn, the document carrying that
    // account's terms. Xapian copies what a document holds when it is added, so it can change
    // between calls.
    template <class F>
    void for_each_account(F&& f) {
      for (std::size_t i = 0; i < accounts.size(); ++i) {
        const AccountId a = accounts[i];
        if (i > 0) {
          doc.remove_term(terms::unique_term(accounts[i - 1], message));
          doc.remove_term(terms::account_term(accounts[i - 1]));
          doc.add_boolean_term(terms::unique_term(a, message));
          doc.add_boolean_term(terms::account_term(a));
        }
        f(a, terms::unique_term(a, message), doc);
      }
    }
  };
  using Vocabulary = std::map<unsigned, std::set<std::string>>;

  BatchBuilder(const std::vector<store::IndexJob>& jobs,
               std::function<unsigned(AccountId)> shard_of)
      : jobs_(jobs), shard_of_(std::move(shard_of)) {
    for (const auto& j : jobs)
      if (!j.accounts.empty()) ++size_;  // none: expunged everywhere since it was queued
    built_.resize(size_);
    if (size_ > 0) thread_ = std::jthread([this](std::stop_token st) { build(st); });
  }
  BatchBuilder(const BatchBuilder&) = delete;
  BatchBuilder& operator=(const BatchBuilder&) = delete;

  std::size_t size() const { return size_; }

  // Message i once built; nullptr when the builder failed first.
  Built* wait_for(std::size_t i) {
    std::size_t r = ready_.load(std::memory_order_acquire);
    if (r <= i) {
      const auto start = std::chrono::steady_clock::now();
      while (r <= i) {
        ready_.wait(r, std::memory_order_acquire);
        r = ready_.load(std::memory_order_acquire);
      }
      waited_ += std::chrono::steady_clock::now() - start;
    }
    return r == kFailed ? nullptr : &built_[i];
  }
  // How long wait_for has waited for the builder: the part of a batch's writing that building
  // its documents held up.
  std::chrono::milliseconds waited() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(waited_);
  }

  // Joins the builder; its error, if it had one, is thrown here.
  Vocabulary& finish() {
    if (thread_.joinable()) thread_.join();
    if (error_) std::rethrow_exception(error_);
    return vocabulary_;
  }

 private:
  static constexpr std::size_t kFailed = static_cast<std::size_t>(-1);

  void build(const std::stop_token& st) {
    core::lower_this_thread_priority();
    try {
      std::size_t k = 0;
      for (const auto& job : jobs_) {
        if (job.accounts.empty()) continue;
        if (st.stop_requested()) return;  // the writer gave up on the batch
        auto in = document_input(job);
        in.account = job.accounts.front();
        auto& b = built_[k];
        b.message = job.message;
        b.accounts = job.accounts;
        b.doc = terms::make_document(in);
        std::set<unsigned> shards;
        for (AccountId a : job.accounts) shards.insert(shard_of_(a));
        for (unsigned s : shards) terms::add_vocabulary(b.doc, vocabulary_[s]);
        publish(++k);
      }
    } catch (...) {
      error_ = std::current_exception();
      publish(kFailed);
    }
  }
  void publish(std::size_t n) {
    ready_.store(n, std::memory_order_release);
    ready_.notify_one();
  }

  const std::vector<store::IndexJob>& jobs_;
  std::function<unsigned(AccountId)> shard_of_;
  std::size_t size_ = 0;
  std::vector<Built> built_;
  Vocabulary vocabulary_;
  std::exception_ptr error_;
  std::atomic<std::size_t> ready_{0};
  std::chrono::steady_clock::duration waited_{0};  // the writer's only
  std::jthread thread_;  // last: joined (stop requested) before the members it uses go
};

// Whole milliseconds since `start`, for the indexer's round log.
std::chrono::milliseconds ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}
}  // namespace

struct Index::Impl {
  Impl(Executor e, const core::SearchConfig& c, fs::path d, std::shared_ptr<store::Database> b)
      : ex(std::move(e)),
        cfg(c),
        dir(std::move(d)),
        db(std::move(b)),
        workers(c.threads, 4096),
        writer_thread(1, 16),
        timer(asio::make_strand(ex)),
        holder(core::lease_holder_name()) {}

  Executor ex;
  core::SearchConfig cfg;
  fs::path dir;
  std::shared_ptr<store::Database> db;
  core::WorkerPool workers;  // reads (searches)
  // The indexer's Xapian writes, on a thread of its own at the lowest CPU priority: on a busy
  // machine IMAP, SMTP and JMAP go first and indexing waits (a search still finds what is queued).
  core::WorkerPool writer_thread;
  asio::steady_timer timer;
  std::string holder;
  std::atomic<bool> stopped{false}, running{false};
  bool leader = false;
  bool id_checked = false;  // the indexer compared this directory's id with the database's
  // Only touched inside writer_thread jobs that the indexer loop awaits one at a time.
  std::map<unsigned, std::unique_ptr<Xapian::WritableDatabase>> writers;
  // The last batch's time waiting for its documents, recording its vocabulary and committing
  // (for the round log).
  std::chrono::milliseconds last_commit{0}, last_vocabulary{0}, last_builder_wait{0};
  // The batch after the one being written, read meanwhile: PostgreSQL reads it on the other
  // core while this process builds and writes (at 100,000 messages the read was a fifth of a
  // round when it came between them).
  std::optional<std::vector<store::IndexJob>> prefetched;

  unsigned shard_of(AccountId a) const { return static_cast<unsigned>(a % cfg.shards); }
  fs::path path_of(AccountId a) const { return shard_path(dir, shard_of(a)); }
  bool rebuilding(AccountId a) const {
    std::error_code ec;
    return fs::exists(rebuild_marker(dir, shard_of(a)), ec);
  }

  Xapian::WritableDatabase& writer(unsigned shard) {
    auto& w = writers[shard];
    if (!w) {
      fs::create_directories(dir);
      w = std::make_unique<Xapian::WritableDatabase>(shard_path(dir, shard).string(),
                                                     Xapian::DB_CREATE_OR_OPEN);
    }
    return *w;
  }

  void close_writers() {
    for (auto& [s, w] : writers)
      if (w) try {
          w->close();
        } catch (const Xapian::Error& e) {
          spdlog::warn("search: closing shard {}: {}", s, e.get_description());
        }
    writers.clear();
  }

  // One batch into Xapian, committed shard by shard. false: nothing may be marked done.
  // The documents are built (folding, term lists: a third of a batch's time) on a second thread
  // while this one adds those already built: the two overlap on two cores.
  bool write(const std::vector<store::IndexJob>& jobs,
             const std::vector<store::IndexRemoval>& removals) {
    core::lower_this_thread_priority();
    BatchBuilder batch(jobs, [this](AccountId a) { return shard_of(a); });
    std::set<unsigned> touched;
    unsigned shard = 0;
    try {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        // A stop ends the batch here, nothing marked done (what was added is committed when the
        // writers close and indexed again next time: replace_document): Index::stop waits for
        // the batch, and a process that stopped waiting would free the jobs under the builder.
        if (stopped) return false;
        auto* b = batch.wait_for(i);
        if (!b) break;  // the builder failed: rethrown by finish()
        b->for_each_account([&](AccountId a, const std::string& id, const Xapian::Document& d) {
          shard = shard_of(a);
          writer(shard).replace_document(id, d);
          touched.insert(shard);
        });
        b->doc = Xapian::Document();  // a batch's documents are not all held at once
      }
      last_builder_wait = batch.waited();
      const auto vocabulary_start = std::chrono::steady_clock::now();
      for (auto& [s, words] : batch.finish()) {
        shard = s;
        record_vocabulary(writer(s), words);
      }
      last_vocabulary = ms_since(vocabulary_start);
      for (const auto& r : removals) {
        if (r.still_held) continue;
        shard = shard_of(r.account);
        writer(shard).delete_document(terms::unique_term(r.account, r.message));
        touched.insert(shard);
      }
      const auto commit_start = std::chrono::steady_clock::now();
      for (unsigned s : touched) {
        shard = s;
        writer(s).commit();
      }
      last_commit = ms_since(commit_start);
      return true;
    } catch (const Xapian::DatabaseLockError& e) {
      spdlog::warn("search: shard {} is locked by another writer: {}", shard, e.get_description());
    } catch (const Xapian::DatabaseCorruptError& e) {
      mark_for_rebuild(dir, shard, e.get_description());
    } catch (const Xapian::DatabaseOpeningError& e) {
      mark_for_rebuild(dir, shard, e.get_description());
    } catch (const Xapian::Error& e) {
      spdlog::error("search: writing shard {}: {}", shard, e.get_description());
    }
    close_writers();  // nothing half-written stays open: the next batch starts clean
    return false;
  }

  // Shards marked unreadable: every account of the shard queued again (first, so that a crash
  // between the two steps loses nothing), then the database removed.
  awaitable<void> rebuild_marked() {
    for (unsigned s = 0; s < cfg.shards; ++s) {
      std::error_code ec;
      if (!fs::exists(rebuild_marker(dir, s), ec)) continue;
      auto accounts = co_await db->search_queue().accounts_with_mail();
      if (!accounts) co_return;
      std::vector<AccountId> mine;
      for (auto a : *accounts)
        if (shard_of(a) == s) mine.push_back(a);
      std::int64_t queued = 0;
      if (!mine.empty()) {
        auto r = co_await db->search_queue().requeue(mine);
        if (!r) co_return;
        queued = *r;
      }
      co_await writer_thread.run([&] {
        auto it = writers.find(s);
        if (it != writers.end()) {
          try {
            it->second->close();
          } catch (const Xapian::Error&) {
          }
          writers.erase(it);
        }
        std::error_code rm;
        fs::remove_all(shard_path(dir, s), rm);
        fs::remove(rebuild_marker(dir, s), rm);
      });
      spdlog::warn("search: shard {} rebuilt: {} messages of {} accounts queued again", s, queued,
                   mine.size());
    }
  }

  // The rows consumed so far went into the directory the database names: when this one is
  // another (lost, replaced, new), every message is queued again before indexing goes on.
  awaitable<bool> check_index_id() {
    auto& q = db->search_queue();
    if (!co_await check_format()) co_return false;
    std::string local = read_index_id(dir);
    if (local.empty()) {
      std::error_code ec;
      fs::create_directories(dir, ec);
      local = core::lease_holder_name();
      std::ofstream(dir / "INDEX-ID") << local << "\n";
      if (read_index_id(dir) != local) {
        spdlog::error("search: cannot write {}", (dir / "INDEX-ID").string());
        co_return false;
      }
    }
    auto known = co_await q.index_id();
    if (!known) co_return false;
    if (!known->empty() && *known != local) {
      auto n = co_await q.requeue({});
      if (!n) co_return false;
      spdlog::warn(
          "search: {} is not the index the queue was drained into: {} messages queued "
          "again",
          dir.string(), *n);
    }
    if (*known != local && !co_await q.set_index_id(local)) co_return false;
    id_checked = true;
    co_return true;
  }

  bool any_shard() const {
    for (unsigned s = 0; s < cfg.shards; ++s)
      if (shard_exists(shard_path(dir, s))) return true;
    return false;
  }

  // Documents of another format (an older version's terms) are dropped and every message is
  // queued again (first, so that a crash between the steps loses nothing); meanwhile searches
  // read the store.
  awaitable<bool> check_format() {
    if (read_index_format(dir) == terms::kIndexFormat) co_return true;
    if (any_shard()) {
      auto n = co_await db->search_queue().requeue({});
      if (!n) co_return false;
      co_await writer_thread.run([this] {
        close_writers();
        std::error_code ec;
        for (unsigned s = 0; s < cfg.shards; ++s) fs::remove_all(shard_path(dir, s), ec);
      });
      spdlog::warn("search: {} held documents of format {} (now {}): {} messages queued again",
                   dir.string(), read_index_format(dir), terms::kIndexFormat, *n);
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    std::ofstream(dir / "FORMAT") << terms::kIndexFormat << "\n";
    if (read_index_format(dir) == terms::kIndexFormat) co_return true;
    spdlog::error("search: cannot write {}", (dir / "FORMAT").string());
    co_return false;
  }

  // Searchers trust this directory only when it is the one the database names (or none is) and
  // its documents are of this version's format.
  awaitable<bool> index_is_current() {
    auto known = co_await db->search_queue().index_id();
    if (!known) co_return false;
    if (read_index_format(dir) != terms::kIndexFormat && any_shard()) co_return false;
    co_return known->empty() || *known == read_index_id(dir);
  }

  // The batch read ahead, or the oldest rows.
  awaitable<store::Result<std::vector<store::IndexJob>>> read_jobs() {
    if (!prefetched) co_return co_await db->search_queue().next_jobs(cfg.batch, 0);
    auto jobs = std::move(*prefetched);
    prefetched.reset();
    co_return jobs;
  }

  // A batch written on the writer thread while the next one is read, when this one is full
  // (more are queued). Rows that commit out of id order are not lost: the read after a batch
  // that was not full starts from the first row again.
  awaitable<bool> write_reading_ahead(const std::vector<store::IndexJob>& jobs,
                                      const std::vector<store::IndexRemoval>& removals) {
    std::atomic<bool> writing{true};
    bool ran = false, ok = false;
    asio::co_spawn(
        timer.get_executor(),
        [&]() -> awaitable<void> {
          try {
            ran = co_await writer_thread.run([&] { ok = write(jobs, removals); });
          } catch (const std::exception& e) {
            spdlog::error("search: writing a batch: {}", e.what());
          }
          writing = false;
        },
        asio::detached);
    if (jobs.size() >= cfg.batch) {
      auto next = co_await db->search_queue().next_jobs(cfg.batch, jobs.back().queue_id);
      if (next) prefetched = std::move(*next);
    }
    // The writer reads `jobs` until it is done: this frame outlives it (a stop ends a batch
    // at its next message).
    while (writing) co_await core::wait_while(writing, std::chrono::hours(1));
    const bool written = ran && ok;
    if (!written) prefetched.reset();
    co_return written;
  }

  // One round: lease, rebuilds, a batch. true when the batch was full (look again at once).
  // A partial batch waits poll_interval for the next: under a steady load (an APPEND a cycle)
  // looking again at once made rounds of a few messages, each paying the lease, four
  // statements and a Xapian commit (an fsync) per shard; searches meanwhile read the pending
  // messages from the store, so waiting costs no answer.
  awaitable<bool> step() {
    auto& q = db->search_queue();
    auto lease = co_await q.hold_lease(holder, cfg.lease_ttl.count());
    if (!lease || !*lease) {
      prefetched.reset();
      if (leader) {
        spdlog::info("search: indexer lease lost");
        co_await writer_thread.run([this] { close_writers(); });
        leader = false;
      }
      co_return false;
    }
    if (!leader) spdlog::info("search: this process runs the indexer ({})", holder);
    leader = true;
    if (!id_checked && !co_await check_index_id()) co_return false;
    co_await rebuild_marked();
    const auto t0 = std::chrono::steady_clock::now();
    auto jobs = co_await read_jobs();
    if (!jobs) co_return false;
    auto removals = co_await q.next_removals(cfg.batch);
    if (!removals) co_return false;
    if (jobs->empty() && removals->empty()) co_return false;
    const auto read = ms_since(t0);
    const auto t1 = std::chrono::steady_clock::now();
    if (!co_await write_reading_ahead(*jobs, *removals)) co_return false;
    const auto written = ms_since(t1);
    const auto t2 = std::chrono::steady_clock::now();
    // After the commit: a kill before this line indexes the rows again (replace: no double).
    std::vector<std::int64_t> done;
    for (const auto& j : *jobs) done.push_back(j.queue_id);
    if (!done.empty() && !co_await q.finish_jobs(done)) co_return false;
    done.clear();
    for (const auto& r : *removals) done.push_back(r.id);
    if (!done.empty() && !co_await q.finish_removals(done)) co_return false;
    spdlog::debug(
        "search: indexed {} queued messages, {} removals (read {} ms, written {} ms of which "
        "waiting for the documents {} ms, vocabulary {} ms, commits {} ms; rows deleted {} ms)",
        jobs->size(), removals->size(), read.count(), written.count(), last_builder_wait.count(),
        last_vocabulary.count(), last_commit.count(), ms_since(t2).count());
    co_return jobs->size() >= cfg.batch || removals->size() >= cfg.batch;
  }

  static awaitable<void> loop(std::shared_ptr<Impl> self) {
    while (!self->stopped) {
      bool busy = false;
      try {
        busy = co_await self->step();
      } catch (const std::exception& e) {
        spdlog::error("search: indexer round failed: {}", e.what());
      }
      if (busy || self->stopped) continue;
      self->timer.expires_after(self->cfg.poll_interval);
      boost::system::error_code ec;
      co_await self->timer.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    if (self->leader) {
      co_await self->writer_thread.run([s = self.get()] { s->close_writers(); });
      co_await self->db->search_queue().drop_lease(self->holder);
    }
    self->running = false;
  }
};

Index::Index(Executor ex, const core::SearchConfig& cfg, fs::path dir,
             std::shared_ptr<store::Database> db)
    : impl_(std::make_shared<Impl>(std::move(ex), cfg, std::move(dir), std::move(db))) {}

Index::~Index() = default;

const core::SearchConfig& Index::config() const {
  return impl_->cfg;
}

void Index::start_indexer() {
  if (impl_->running.exchange(true)) return;
  asio::co_spawn(impl_->timer.get_executor(), Impl::loop(impl_), core::LogExit("search: indexer"));
}

awaitable<void> Index::stop() {
  impl_->stopped = true;
  asio::post(impl_->timer.get_executor(), [i = impl_] { i->timer.cancel(); });
  co_await core::wait_while(impl_->running, std::chrono::seconds(10));  // a batch in flight ends
}

awaitable<SearchResult<std::optional<Candidates>>> Index::substring_candidates(
    AccountId account, std::vector<Field> fields, std::string needle) {
  auto& self = *impl_;
  if (needle.size() > self.cfg.max_query_bytes) co_return unexpected(SearchError::too_long);
  auto pending = co_await self.db->search_queue().pending(account, self.cfg.max_pending);
  if (!pending) co_return unexpected(SearchError::unavailable);
  if (pending->size() > self.cfg.max_pending || self.rebuilding(account) ||
      !co_await self.index_is_current())
    co_return std::optional<Candidates>();
  const auto plan = terms::plan_needle(needle);
  if (plan.pieces.empty()) co_return std::optional<Candidates>();
  std::optional<Candidates> found;
  bool failed = false;
  const fs::path path = self.path_of(account);
  const unsigned shard = self.shard_of(account);
  auto job = [&] {
    try {
      Xapian::Database* db = reader(path);
      if (!db) {
        found.emplace();
        return;
      }
      found = candidates(*db, account, fields, plan, self.cfg.max_wildcard_terms);
    } catch (const Xapian::DatabaseModifiedError& e) {
      // Overtaken by commits while reading (the reader is reopened next time): no narrowing.
      spdlog::debug("search: shard {} changed while read: {}", shard, e.get_description());
    } catch (const Xapian::DatabaseError& e) {
      // Unreadable: searches do without it (found stays empty) until it is rebuilt.
      mark_for_rebuild(self.dir, shard, e.get_description());
    } catch (const Xapian::Error& e) {
      spdlog::warn("search: reading shard {}: {}", shard, e.get_description());
      failed = true;
    }
  };
  if (!co_await self.workers.run(job) || failed) co_return unexpected(SearchError::unavailable);
  if (!found) co_return found;
  std::sort(pending->begin(), pending->end());
  merge_into(found->messages, *pending);  // not indexed yet: to be verified
  co_return found;
}

awaitable<std::map<MessageId, StoredText>> Index::stored_texts(AccountId account,
                                                               std::vector<MessageId> messages,
                                                               TextParts parts) {
  auto& self = *impl_;
  std::map<MessageId, StoredText> out;
  const fs::path path = self.path_of(account);
  auto job = [&] {
    try {
      Xapian::Database* db = reader(path);
      if (!db) return;
      for (MessageId m : messages) {
        auto term = terms::unique_term(account, m);
        auto p = db->postlist_begin(term);
        if (p == db->postlist_end(term)) continue;
        out.emplace(m, terms::stored_texts(db->get_document(*p), parts.header, parts.plain));
      }
    } catch (const Xapian::DatabaseModifiedError& e) {
      spdlog::debug("search: stored text: {}", e.get_description());
      out.clear();
    } catch (const Xapian::DatabaseError& e) {
      mark_for_rebuild(self.dir, self.shard_of(account), e.get_description());
      out.clear();  // the caller reads these messages from the store
    } catch (const Xapian::Error& e) {
      spdlog::warn("search: stored text: {}", e.get_description());
      out.clear();
    }
  };
  if (!co_await self.workers.run(job)) out.clear();
  std::vector<MessageId> missing;
  for (MessageId m : messages)
    if (!out.count(m)) missing.push_back(m);
  if (!missing.empty()) {
    auto texts = co_await self.db->search_queue().pending_texts(account, missing);
    if (texts)
      for (auto& t : *texts)
        if (!t.reparse) {
          StoredText queued;
          queued.body = std::move(t.search_text);
          out.emplace(t.message, std::move(queued));
        }
  }
  co_return out;
}

awaitable<SearchResult<std::vector<store::MessageUid>>> Index::uids_in_mailbox(
    AccountId account, store::MailboxId mailbox, std::vector<MessageId> messages,
    std::size_t mailbox_size) {
  const bool scan = mailbox_size > 0 && messages.size() * 4 >= mailbox_size;
  auto r = co_await impl_->db->search_queue().uids_of(account, mailbox, std::move(messages), scan);
  if (!r) co_return unexpected(SearchError::unavailable);
  co_return std::move(*r);
}

awaitable<SearchResult<std::vector<Hit>>> Index::query(AccountId account, std::string text,
                                                       std::size_t limit) {
  auto& self = *impl_;
  QueryLimits lim{self.cfg.max_query_bytes, self.cfg.max_query_terms, self.cfg.max_wildcard_terms};
  auto q = translate_query(text, lim);
  if (!q) co_return unexpected(q.error());
  std::vector<Hit> hits;
  std::optional<SearchError> err;
  const fs::path path = self.path_of(account);
  auto job = [&] {
    try {
      Xapian::Database* db = reader(path);
      if (!db) return;
      Xapian::Enquire enq(*db);
      enq.set_query(
          Xapian::Query(Xapian::Query::OP_FILTER, *q, Xapian::Query(terms::account_term(account))));
      auto mset = enq.get_mset(0, static_cast<Xapian::doccount>(limit));
      for (auto it = mset.begin(); it != mset.end(); ++it)
        hits.push_back({terms::message_of(it.get_document()), it.get_weight()});
    } catch (const Xapian::WildcardError&) {
      err = SearchError::too_wide;
    } catch (const Xapian::Error& e) {
      spdlog::warn("search: query: {}", e.get_description());
      err = SearchError::unavailable;
    }
  };
  if (!co_await self.workers.run(job)) co_return unexpected(SearchError::unavailable);
  if (err) co_return unexpected(*err);
  co_return hits;
}

std::vector<ShardStats> read_shard_stats(const fs::path& dir, unsigned shards) {
  std::vector<ShardStats> out;
  for (unsigned s = 0; s < shards; ++s) {
    ShardStats st;
    st.shard = s;
    const auto p = shard_path(dir, s);
    std::error_code ec;
    st.healthy = !fs::exists(rebuild_marker(dir, s), ec);
    if (shard_exists(p)) {
      try {
        st.documents = Xapian::Database(p.string()).get_doccount();
      } catch (const Xapian::Error&) {
        st.healthy = false;
      }
    }
    out.push_back(st);
  }
  return out;
}

awaitable<std::vector<ShardStats>> Index::shard_stats() {
  std::vector<ShardStats> out;
  co_await impl_->workers.run([&] { out = read_shard_stats(impl_->dir, impl_->cfg.shards); });
  co_return out;
}

}  // namespace govmail::search
