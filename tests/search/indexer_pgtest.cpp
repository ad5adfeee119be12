// The indexer inside `govmail serve` against a real PostgreSQL and real Xapian shards: it drains
// the queue (rows deleted only after the commit), one process holds the lease, expunged messages
// leave the index, a replay indexes nothing twice, and searches never cross accounts.
#include <unistd.h>

#include <filesystem>

#include "search/index.hpp"
#include "store/search_queue.hpp"
#include "tests/store/store_fixture.hpp"

namespace govmail::store::testing {
namespace {

using namespace std::chrono_literals;
using search::Field;

std::string vn_message(int n, const std::string& body) {
  return "From: Nguyễn Văn A <a@example.gov.vn>\r\nTo: b@example.gov.vn\r\nSubject: Công văn " +
         std::to_string(n) + "\r\nMessage-ID: <m" + std::to_string(n) +
         "@example.gov.vn>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; "
         "charset=utf-8\r\n\r\n" +
         body + "\r\n";
}

class IndexerTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    dir_ = std::filesystem::temp_directory_path() /
           ("gm-indexer-pgtest-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    cfg_.shards = 3;
    cfg_.batch = 7;  // several batches
    cfg_.poll_interval = 20ms;
    cfg_.lease_ttl = 5s;
  }
  void TearDown() override {
    for (auto& i : indexes_) run(stop(i));
    indexes_.clear();
    std::filesystem::remove_all(dir_);
  }
  static awaitable<bool> stop(std::shared_ptr<search::Index> i) {
    co_await i->stop();
    co_return true;
  }

  std::shared_ptr<search::Index> index(bool start) {
    auto i = std::make_shared<search::Index>(io_.get_executor(), cfg_, dir_, db_);
    if (start) i->start_indexer();
    indexes_.push_back(i);
    return i;
  }
  IndexQueueStats stats() { return run(db_->search_queue().stats()).value(); }
  bool drained(std::chrono::seconds limit = 30s) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      auto s = stats();
      if (s.queued == 0 && s.removals == 0) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  std::uint64_t documents(search::Index& i) {
    std::uint64_t n = 0;
    for (auto& s : run(i.shard_stats())) n += s.documents;
    return n;
  }
  std::vector<MessageId> candidates(search::Index& i, AccountId a, std::string needle,
                                    std::vector<Field> f = {Field::body}) {
    return sets(i, a, std::move(needle), std::move(f)).messages;
  }
  search::Candidates sets(search::Index& i, AccountId a, std::string needle,
                          std::vector<Field> f = {Field::body}) {
    auto r = run(i.substring_candidates(a, std::move(f), std::move(needle)));
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.ok() && r->has_value());
    return r.ok() && r->has_value() ? **r : search::Candidates{{-1}, {-1}};
  }

  std::filesystem::path dir_;
  core::SearchConfig cfg_;
  std::vector<std::shared_ptr<search::Index>> indexes_;
};

TEST_F(IndexerTest, DrainsTheQueueIntoTheShardsAndSearchesStayInTheirAccount) {
  auto a = add_account("a@example.gov.vn"), b = add_account("b@example.gov.vn");
  auto ia = mailbox(a.id, "INBOX"), ib = mailbox(b.id, "INBOX");
  std::vector<MessageId> mine;
  for (int n = 0; n < 20; ++n)
    mine.push_back(
        append(a.id, ia.id, vn_message(n, n % 2 ? "Đề nghị báo cáo" : "hòa giải")).message_id);
  auto theirs = append(b.id, ib.id, vn_message(99, "Đề nghị riêng")).message_id;
  EXPECT_EQ(stats().queued, 21);
  auto i = index(true);
  ASSERT_TRUE(drained());
  EXPECT_EQ(documents(*i), 21u);
  auto odd = candidates(*i, a.id, "de nghi");
  EXPECT_EQ(odd.size(), 10u);
  EXPECT_EQ(std::count(odd.begin(), odd.end(), theirs), 0);
  EXPECT_EQ(candidates(*i, b.id, "đề nghị"), (std::vector<MessageId>{theirs}));
  EXPECT_EQ(candidates(*i, a.id, "hòa giải").size(), 10u);
  EXPECT_EQ(candidates(*i, a.id, "ải").size(), 10u);  // an infix of an indexed word
  EXPECT_EQ(candidates(*i, a.id, "van", {Field::subject}).size(), 20u);
  EXPECT_EQ(candidates(*i, a.id, "nguyen", {Field::from}).size(), 20u);
  EXPECT_TRUE(candidates(*i, a.id, "zzz").empty());
  // The texts kept for verifying come back whole and folded both ways, for this account only.
  auto texts = run(i->stored_texts(a.id, {mine[1], theirs}));
  ASSERT_EQ(texts.size(), 1u);
  EXPECT_TRUE(texts[mine[1]].folded);
  EXPECT_FALSE(texts[mine[1]].body_ascii);
  EXPECT_EQ(texts[mine[1]].body_cased, "đề nghị báo cáo\r\n");  // parse_message keeps the EOL
  EXPECT_EQ(texts[mine[1]].body_plain, "de nghi bao cao\r\n");
  EXPECT_TRUE(texts[mine[1]].header_block.starts_with("From: Nguyễn"));
  EXPECT_TRUE(texts[mine[1]].header_block.ends_with("\r\n\r\n"));
  auto body_only = run(i->stored_texts(a.id, {mine[1]}, {.header = false, .plain = false}));
  EXPECT_TRUE(body_only[mine[1]].header_block.empty());
  EXPECT_TRUE(body_only[mine[1]].body_plain.empty());
  EXPECT_EQ(body_only[mine[1]].body_cased, "đề nghị báo cáo\r\n");
  auto uids = run(i->uids_in_mailbox(a.id, ia.id, odd)).value();
  ASSERT_EQ(uids.size(), 10u);
  for (std::size_t k = 0; k < uids.size(); ++k) {
    EXPECT_EQ(uids[k].message, odd[k]);  // by UID: appended in message order
    if (k > 0) {
      EXPECT_LT(uids[k - 1].uid, uids[k].uid);
    }
  }
  EXPECT_TRUE(run(i->uids_in_mailbox(b.id, ib.id, odd)).value().empty());
  // Most of the mailbox: read whole and filtered, the same answer.
  auto scanned = run(i->uids_in_mailbox(a.id, ia.id, odd, 20)).value();
  ASSERT_EQ(scanned.size(), uids.size());
  for (std::size_t k = 0; k < uids.size(); ++k) {
    EXPECT_EQ(scanned[k].message, uids[k].message);
    EXPECT_EQ(scanned[k].uid, uids[k].uid);
  }
  EXPECT_TRUE(run(i->uids_in_mailbox(b.id, ib.id, odd, 1)).value().empty());
}

// Needles of words and single spaces are answered by the index alone ("certain"), exactly as
// the store's substring rule would: separators, marks and cut words decide what is certain.
TEST_F(IndexerTest, ExactNeedlesAreCertainAndOnlyThem) {
  auto a = add_account("e@example.gov.vn");
  auto box = mailbox(a.id, "INBOX");
  auto add = [&](int n, const std::string& body) {
    return append(a.id, box.id, vn_message(n, body)).message_id;
  };
  const auto single = add(1, "Đề nghị báo cáo");
  const auto doubled = add(2, "đề  nghị gấp");      // two spaces: not "đề nghị"
  const auto plain = add(3, "de nghi, khong dau");  // typed without marks
  const auto horn = add(4, "lơ là");
  const auto horn_dot = add(5, "lợi ích");
  const auto docnum = add(6, "Số 45/QĐ-UBND ngày 12");
  const auto long_word = add(7, std::string(70, 'q') + "xyz cuối");
  auto i = index(true);
  ASSERT_TRUE(drained());
  using Ids = std::vector<MessageId>;
  auto accented = sets(*i, a.id, "ĐỀ NGHỊ");
  EXPECT_EQ(accented.certain, (Ids{single}));
  // Exact: no other candidate but the message with a cut word (the index cannot vouch for it).
  EXPECT_EQ(accented.messages, (Ids{single, long_word}));
  EXPECT_EQ(sets(*i, a.id, "de nghi").certain, (Ids{single, plain}));
  EXPECT_EQ(sets(*i, a.id, "ơ").certain, (Ids{horn}));  // not ợ: another letter in NFC
  EXPECT_EQ(sets(*i, a.id, "ợi í").certain, (Ids{horn_dot}));
  EXPECT_EQ(sets(*i, a.id, "số 45").certain, (Ids{docnum}));     // marks and digits
  EXPECT_EQ(sets(*i, a.id, "45/QĐ-UB").certain, (Ids{docnum}));  // one punctuation character
  EXPECT_TRUE(sets(*i, a.id, "45-QĐ").certain.empty());          // not that one
  // A first word that may end a longer one (the reversed vocabulary): "de" and "đề" end in "e".
  EXPECT_EQ(sets(*i, a.id, "e nghi").certain, (Ids{single, plain}));
  EXPECT_EQ(sets(*i, a.id, "5/QĐ-UBND").certain, (Ids{docnum}));
  EXPECT_EQ(sets(*i, a.id, "ố 45").certain, (Ids{docnum}));
  EXPECT_TRUE(sets(*i, a.id, "so sợ").certain.empty());  // "so" is not "số" here
  // Not exact (verified by the caller): other separators, a separator at an end.
  for (const char* needle : {"45 / QĐ", "nghị ", "đề\nnghị", "đề,  nghị"}) {
    auto c = sets(*i, a.id, needle);
    EXPECT_TRUE(c.certain.empty()) << needle;
  }
  // Its candidates: the folded words that fit ("nghi" too), and the message with a cut word.
  EXPECT_EQ(sets(*i, a.id, "nghị ").messages, (Ids{single, doubled, plain, long_word}));
  // A word longer than the index keeps: its message stays a candidate, not certain.
  auto cut = sets(*i, a.id, "qxyz");
  EXPECT_TRUE(cut.certain.empty());
  EXPECT_EQ(cut.messages, (Ids{long_word}));
  EXPECT_EQ(sets(*i, a.id, "cuối").certain, (Ids{long_word}));
  // TEXT: the body decides what is certain, the header fields are verified.
  auto text = sets(*i, a.id, "đề nghị", {Field::header, Field::body});
  EXPECT_EQ(text.certain, (Ids{single}));
  (void)doubled;
}

// Ingest extracts no text (the indexer parses the stored message): a queued message is a
// candidate of every search, and its text is left to the caller to read from the store.
TEST_F(IndexerTest, QueuedMessagesAreCandidatesReadFromTheStoreBeforeIndexing) {
  auto a = add_account("q@example.gov.vn");
  auto box = mailbox(a.id, "INBOX");
  auto m = append(a.id, box.id, vn_message(1, "chưa đánh chỉ mục")).message_id;
  auto i = index(false);                                                // no indexer
  EXPECT_EQ(candidates(*i, a.id, "zzz"), (std::vector<MessageId>{m}));  // pending: a candidate
  EXPECT_TRUE(run(i->stored_texts(a.id, {m})).empty());
  cfg_.max_pending = 0;  // too many queued: no narrowing at all
  auto j = index(false);
  auto r = run(j->substring_candidates(a.id, {Field::body}, "x"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  auto indexer = index(true);
  ASSERT_TRUE(drained());
  auto texts = run(indexer->stored_texts(a.id, {m}));
  ASSERT_EQ(texts.size(), 1u);  // parsed from the stored message by the indexer
  EXPECT_EQ(texts[m].body_cased, "chưa đánh chỉ mục\r\n");
}

TEST_F(IndexerTest, OnlyTheLeaseHolderIndexes) {
  auto a = add_account("l@example.gov.vn");
  auto box = mailbox(a.id, "INBOX");
  append(a.id, box.id, vn_message(1, "một"));
  ASSERT_TRUE(run(db_->search_queue().hold_lease("another-process", 60)).value());
  auto i = index(true);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(stats().queued, 1);  // another process holds the lease: nothing written here
  EXPECT_EQ(documents(*i), 0u);
  ASSERT_TRUE(run(db_->search_queue().drop_lease("another-process")).ok());
  ASSERT_TRUE(drained());
  EXPECT_EQ(documents(*i), 1u);
  EXPECT_FALSE(stats().lease_holder.empty());
}

// A broadcast (one message, several accounts) is built once and written as one document per
// account, each with that account's terms only: every account finds it, none through another's.
TEST_F(IndexerTest, ABroadcastGivesEachAccountItsOwnDocument) {
  std::vector<Account> to;
  for (int n = 0; n < 4; ++n)  // 3 shards: two of the four share one
    to.push_back(add_account("r" + std::to_string(n) + "@example.gov.vn"));
  Delivery d;
  d.raw = std::make_shared<const std::string>(vn_message(1, "Thông báo hòa giải chung"));
  for (const auto& a : to) d.local.push_back({a.id, std::nullopt});
  auto sent = run(store().deliver(std::move(d)));
  ASSERT_TRUE(sent.ok());
  const MessageId broadcast = sent->message_id;
  auto own = append(to[0].id, mailbox(to[0].id, "INBOX").id, vn_message(2, "riêng hòa giải"));
  EXPECT_EQ(stats().queued, 2);  // one row for the broadcast, whatever its accounts
  auto i = index(true);
  ASSERT_TRUE(drained());
  EXPECT_EQ(documents(*i), 5u);
  EXPECT_EQ(candidates(*i, to[0].id, "hoa giai"),
            (std::vector<MessageId>{broadcast, own.message_id}));
  for (std::size_t n = 1; n < to.size(); ++n) {
    SCOPED_TRACE(n);
    EXPECT_EQ(candidates(*i, to[n].id, "hoa giai"), (std::vector<MessageId>{broadcast}));
    EXPECT_EQ(candidates(*i, to[n].id, "ải"), (std::vector<MessageId>{broadcast}));  // vocabulary
    EXPECT_TRUE(candidates(*i, to[n].id, "riêng").empty());
    EXPECT_EQ(run(i->stored_texts(to[n].id, {broadcast, own.message_id})).size(), 1u);
  }
  // Expunged by one account, the others keep theirs.
  auto box = mailbox(to[2].id, "INBOX");
  ASSERT_TRUE(run(store().set_flags(to[2].id, box.id, {{1, 1}}, FlagOp::add, Flags{kDeleted, {}})));
  ASSERT_TRUE(run(store().expunge(to[2].id, box.id)).ok());
  ASSERT_TRUE(drained());
  EXPECT_EQ(documents(*i), 4u);
  EXPECT_TRUE(candidates(*i, to[2].id, "hoa giai").empty());
  EXPECT_EQ(candidates(*i, to[3].id, "hoa giai"), (std::vector<MessageId>{broadcast}));
}

TEST_F(IndexerTest, ExpungedMessagesLeaveAndReplaysIndexNothingTwice) {
  auto a = add_account("x@example.gov.vn");
  auto box = mailbox(a.id, "INBOX");
  for (int n = 0; n < 10; ++n) append(a.id, box.id, vn_message(n, "văn bản " + std::to_string(n)));
  auto i = index(true);
  ASSERT_TRUE(drained());
  EXPECT_EQ(documents(*i), 10u);
  // A replay (a kill -9 after the commit, before the rows went; or reindex): same documents.
  EXPECT_EQ(run(db_->search_queue().requeue({a.id})).value(), 10);
  ASSERT_TRUE(drained());
  EXPECT_EQ(documents(*i), 10u);
  // Expunge 3: their documents go; a copy kept in another mailbox keeps its document.
  ASSERT_TRUE(run(store().set_flags(a.id, box.id, {{1, 3}}, FlagOp::add, Flags{kDeleted, {}})));
  ASSERT_TRUE(run(store().expunge(a.id, box.id)).ok());
  ASSERT_TRUE(drained());
  EXPECT_EQ(documents(*i), 7u);
  EXPECT_TRUE(candidates(*i, a.id, "van ban 1").empty());
  EXPECT_EQ(candidates(*i, a.id, "van ban 4").size(), 1u);
}

// A stop ends a batch in flight at its next message, marking nothing done: the jobs the batch
// reads live in the indexer's coroutine, which a stopping process frees, and a batch that
// outlived Index::stop's wait read them after they were freed (heap-use-after-free under ASan,
// imap_clients_itest at shutdown). Without the check the whole batch is written and its rows
// deleted before stop returns.
TEST_F(IndexerTest, AStopEndsABatchInFlightAndLeavesItsRowsQueued) {
  auto a = add_account("big@example.gov.vn");
  auto box = mailbox(a.id, "INBOX");
  cfg_.batch = 1000;  // one batch for all
  std::uint32_t x = 7;
  for (int n = 0; n < 30; ++n) {
    std::string body;
    while (body.size() < 100000) {
      x = x * 1664525u + 1013904223u;  // many distinct words: a slow batch
      body += "tu" + std::to_string(x % 200000) + " ";
    }
    append(a.id, box.id, vn_message(n, body));
  }
  auto i = index(true);
  std::this_thread::sleep_for(200ms);  // the lease taken, the batch being built
  const auto t0 = std::chrono::steady_clock::now();
  run(stop(i));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(stats().queued, 30);  // nothing marked done: indexed again by the next indexer
  auto again = index(true);
  ASSERT_TRUE(drained(120s));
  EXPECT_EQ(documents(*again), 30u);
}

// A requeue (reindex, a lost index directory) leaves out messages already queued for a parse for
// all of its accounts: repeated, it does not queue everything again.
TEST_F(IndexerTest, RequeueSkipsMessagesAlreadyQueuedForTheirAccounts) {
  auto a = add_account("qa@example.gov.vn"), b = add_account("qb@example.gov.vn");
  Delivery d;
  d.raw = std::make_shared<const std::string>(vn_message(1, "chung"));
  d.local = {{a.id, std::nullopt}, {b.id, std::nullopt}};
  ASSERT_TRUE(run(store().deliver(std::move(d))).ok());
  auto box = mailbox(a.id, "INBOX");
  for (int n = 2; n < 4; ++n) append(a.id, box.id, vn_message(n, "riêng"));
  EXPECT_EQ(stats().queued, 3);
  EXPECT_EQ(run(db_->search_queue().requeue({a.id})).value(), 3);  // a delivery's row is not one
  EXPECT_EQ(run(db_->search_queue().requeue({a.id})).value(), 0);
  EXPECT_EQ(run(db_->search_queue().requeue({b.id})).value(), 1);  // not yet queued for b
  EXPECT_EQ(run(db_->search_queue().requeue({})).value(), 1);      // the broadcast, for both
  EXPECT_EQ(stats().queued, 8);
  auto i = index(true);
  ASSERT_TRUE(drained());
  EXPECT_EQ(documents(*i), 4u);
  EXPECT_EQ(candidates(*i, b.id, "chung").size(), 1u);
}

TEST_F(IndexerTest, ACorruptShardIsRebuiltFromTheStore) {
  auto a = add_account("c@example.gov.vn");
  auto box = mailbox(a.id, "INBOX");
  for (int n = 0; n < 5; ++n) append(a.id, box.id, vn_message(n, "khôi phục"));
  auto i = index(true);
  ASSERT_TRUE(drained());
  auto shard = dir_ / ("shard-00" + std::to_string(a.id % 3));
  for (auto& f : std::filesystem::directory_iterator(shard))
    if (f.path().extension() == ".glass") {
      std::FILE* fp = std::fopen(f.path().c_str(), "r+b");
      std::string junk(std::filesystem::file_size(f.path()), '\x5a');
      std::fwrite(junk.data(), 1, junk.size(), fp);
      std::fclose(fp);
    }
  // A search sees the damage: no narrowing (the caller reads every message), a rebuild is marked.
  auto r = run(i->substring_candidates(a.id, {Field::body}, "khoi phuc"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  auto until = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < until &&
         (std::filesystem::exists(shard.string() + ".rebuild") || documents(*i) != 5 ||
          stats().queued != 0))
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(documents(*i), 5u);
  EXPECT_EQ(candidates(*i, a.id, "khoi phuc").size(), 5u);
}

}  // namespace
}  // namespace govmail::store::testing
