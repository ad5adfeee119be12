// The mailbox store against a real PostgreSQL: UIDs under concurrency, dedup, quota, change log,
// isolation between accounts, mailbox hierarchy, byte-exact storage.
#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "store_fixture.hpp"

namespace govmail::store::testing {
namespace {

using MailboxStoreTest = StoreTest;

TEST_F(MailboxStoreTest, ConcurrentAppendsGetUniqueStrictlyIncreasingUids) {
  auto db = open_db(16);
  auto a = add_account("conc@example.gov.vn");
  auto inbox = mailbox(a.id, "INBOX");
  constexpr int kWriters = 16, kEach = 50;
  auto writer = [&](int w) -> awaitable<std::vector<AppendResult>> {
    std::vector<AppendResult> out;
    for (int i = 0; i < kEach; ++i) {
      AppendRequest req;
      req.raw = std::make_shared<const std::string>(sample_message(w * 1000 + i));
      auto r = co_await db->mailboxes().append(a.id, inbox.id, std::move(req));
      EXPECT_TRUE(r.ok());
      if (r) out.push_back(*r);
    }
    co_return out;
  };
  std::vector<std::future<std::vector<AppendResult>>> futures;
  for (int w = 0; w < kWriters; ++w) futures.push_back(spawn(writer(w)));
  std::vector<AppendResult> all;
  for (auto& f : futures) {
    auto v = f.get();
    // Each writer sees its own appends in increasing UID order.
    for (std::size_t i = 1; i < v.size(); ++i) EXPECT_LT(v[i - 1].uid, v[i].uid);
    all.insert(all.end(), v.begin(), v.end());
  }
  ASSERT_EQ(all.size(), std::size_t(kWriters * kEach));
  std::sort(all.begin(), all.end(), [](auto& x, auto& y) { return x.uid < y.uid; });
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].uid, i + 1);  // unique, no gaps
    // Commit order = UID order: the account's modseq grows with the UID.
    if (i) {
      EXPECT_LT(all[i - 1].modseq, all[i].modseq);
    }
  }
  auto after = mailbox(a.id, "INBOX");
  EXPECT_EQ(after.uidnext, Uid(kWriters * kEach + 1));
  EXPECT_EQ(after.messages, std::uint32_t(kWriters * kEach));
  EXPECT_EQ(after.unseen, std::uint32_t(kWriters * kEach));
  EXPECT_EQ(after.highestmodseq, all.back().modseq);
}

// Flag writers, appends and expunges at once on one mailbox: no deadlock or lost update (locks
// in the same order everywhere), counters exact, every write's modseq step unbroken.
TEST_F(MailboxStoreTest, ConcurrentFlagWritesAppendsAndExpungesStayConsistent) {
  auto db = open_db(16);
  auto a = add_account("flags@example.gov.vn");
  auto inbox = mailbox(a.id, "INBOX");
  for (int i = 0; i < 20; ++i) append(a.id, inbox.id, sample_message(i));
  constexpr int kWriters = 8, kEach = 40;
  auto writer = [&](int w) -> awaitable<int> {
    int failures = 0;
    for (int i = 0; i < kEach; ++i) {
      const Uid uid = static_cast<Uid>(1 + (w * 7 + i) % 20);
      const UidSet one{{uid, uid}};
      const Flags seen{kSeen, {}};
      auto r = co_await db->mailboxes().set_flags(a.id, inbox.id, one,
                                                  i % 2 ? FlagOp::remove : FlagOp::add, seen);
      if (!r) ++failures;
      if (r && !r->updated.empty() && r->step.prior >= r->step.modseq) ++failures;
      if (w == 0 && i % 10 == 0) {
        AppendRequest req;
        req.raw = std::make_shared<const std::string>(sample_message(100 + i));
        if (!co_await db->mailboxes().append(a.id, inbox.id, std::move(req))) ++failures;
        const UidSet all{{1, UINT32_MAX}};
        if (!co_await db->mailboxes().expunge(a.id, inbox.id, all)) ++failures;
      }
    }
    co_return failures;
  };
  std::vector<std::future<int>> futures;
  for (int w = 0; w < kWriters; ++w) futures.push_back(spawn(writer(w)));
  for (auto& f : futures) EXPECT_EQ(f.get(), 0);
  auto box = mailbox(a.id, "INBOX");
  const auto id = std::to_string(inbox.id);
  EXPECT_EQ(box.unseen, qi("SELECT count(*) FROM mailbox_entries WHERE mailbox_id = " + id +
                           " AND flags & 1 = 0"));
  EXPECT_EQ(box.messages, qi("SELECT count(*) FROM mailbox_entries WHERE mailbox_id = " + id));
  EXPECT_EQ(box.highestmodseq,
            static_cast<ModSeq>(qi("SELECT max(modseq) FROM change_log WHERE mailbox_id = " + id)));
}

TEST_F(MailboxStoreTest, BroadcastToManyRecipientsStoresOneBlob) {
  constexpr int kRecipients = 500;
  q("INSERT INTO domains (name) VALUES ('xa.gov.vn')");
  // Bulk-create the accounts through the same function the store uses (fast).
  q("SELECT count(*) FROM generate_series(1, " + std::to_string(kRecipients) +
    ") i, LATERAL govmail_add_account('xa' || i || '@xa.gov.vn', 'X', 'h', 0, false, NULL, '')");
  Delivery d;
  d.raw = std::make_shared<const std::string>(sample_message(1, 5000));
  d.envelope_from = "tinh@example.gov.vn";
  for (int i = 1; i <= kRecipients; ++i) {
    auto acc = run(dir().find_account("xa" + std::to_string(i) + "@xa.gov.vn"));
    ASSERT_TRUE(acc.ok());
    d.local.push_back({acc->id, std::nullopt});
  }
  d.remote.push_back({"someone@other.vn", "SUCCESS,FAILURE", "rfc822;someone@other.vn"});
  auto r = run(store().deliver(d));
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  ASSERT_EQ(r->local.size(), std::size_t(kRecipients));
  EXPECT_TRUE(r->outbound_id.has_value());
  for (auto& l : r->local) EXPECT_EQ(l.uid, 1u);
  EXPECT_EQ(qi("SELECT count(*) FROM blobs"), 1);
  EXPECT_EQ(qi("SELECT count(*) FROM messages"), 1);
  EXPECT_EQ(qi("SELECT count(*) FROM mailbox_entries"), kRecipients);
  EXPECT_EQ(qi("SELECT count(*) FROM index_queue"), 1);
  EXPECT_EQ(qi("SELECT count(*) FROM outbound_recipients WHERE dsn_notify = 'SUCCESS,FAILURE'"), 1);
  // Each recipient can read it.
  auto raw = run(store().fetch_raw(d.local.back().account_id, r->message_id));
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, *d.raw);

  // The same bytes again: a new message row, the same blob.
  Delivery again;
  again.raw = std::make_shared<const std::string>(*d.raw);
  again.local = {d.local[0], d.local[1]};
  auto r2 = run(store().deliver(again));
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->local[0].uid, 2u);
  EXPECT_EQ(qi("SELECT count(*) FROM blobs"), 1);
  // Two messages and their two archive journal entries (migration 0017) refer to it.
  EXPECT_EQ(qi("SELECT refcount FROM blobs"), 4);
  EXPECT_EQ(qi("SELECT count(*) FROM archive_journal"), 2);
  EXPECT_EQ(qi("SELECT count(*) FROM messages"), 2);

  // Remote recipients only: queued, nothing in any mailbox; nobody at all: refused.
  Delivery out;
  out.raw = d.raw;
  out.remote.push_back({"x@other.vn", "", ""});
  auto r3 = run(store().deliver(out));
  ASSERT_TRUE(r3.ok());
  EXPECT_TRUE(r3->local.empty());
  EXPECT_EQ(qi("SELECT count(*) FROM outbound_queue WHERE message_id = " +
               std::to_string(r3->message_id)),
            1);
  out.remote.clear();
  EXPECT_EQ(run(store().deliver(out)).error(), StoreError::invalid);
}

// A message and its companion (the DSN about it) commit together or not at all.
TEST_F(MailboxStoreTest, CompanionsCommitInTheSameTransaction) {
  auto a = add_account("nhan@example.gov.vn");
  auto sender = add_account("gui@example.gov.vn");
  auto full = add_account("day@example.gov.vn", 100);
  Delivery d;
  d.raw = std::make_shared<const std::string>(sample_message(1, 2000));
  d.local = {{a.id, std::nullopt}};
  Delivery report;
  report.raw = std::make_shared<const std::string>(sample_message(2, 500));
  report.local = {{sender.id, std::nullopt}};
  report.remote = {{"x@other.vn", "", ""}};
  d.companions.push_back(report);
  auto r = run(store().deliver(d));
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  ASSERT_EQ(r->companions.size(), 1u);
  EXPECT_EQ(r->companions[0].local.size(), 1u);
  EXPECT_TRUE(r->companions[0].outbound_id.has_value());
  EXPECT_NE(r->companions[0].message_id, r->message_id);
  EXPECT_EQ(*run(store().fetch_raw(sender.id, r->companions[0].message_id)), *report.raw);
  EXPECT_EQ(mailbox(a.id, "INBOX").messages, 1u);

  // The report fails after the message's statement ran (its account is over quota): neither is
  // kept, the message's UID is not used up, no queue entry either.
  d.companions[0].local = {{full.id, std::nullopt}};
  auto failed = run(store().deliver(d));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error(), StoreError::over_quota);
  // And the other way round: the message fails (a mailbox that does not exist), the report
  // (to an account with room) is not kept either.
  Delivery bad = d;
  bad.local = {{a.id, MailboxId{999999}}};
  bad.companions[0].local = {{sender.id, std::nullopt}};
  EXPECT_EQ(run(store().deliver(bad)).error(), StoreError::not_found);
  EXPECT_EQ(mailbox(a.id, "INBOX").messages, 1u);
  EXPECT_EQ(mailbox(a.id, "INBOX").uidnext, 2u);
  EXPECT_EQ(mailbox(sender.id, "INBOX").messages, 1u);
  EXPECT_EQ(mailbox(full.id, "INBOX").messages, 0u);
  EXPECT_EQ(qi("SELECT count(*) FROM messages"), 2);
  EXPECT_EQ(qi("SELECT count(*) FROM outbound_queue"), 1);
  EXPECT_EQ(run(store().quota(a.id))->used_messages, 1u);

  // A companion with companions of its own is refused.
  Delivery nested = d;
  nested.companions[0].companions.push_back(report);
  EXPECT_EQ(run(store().deliver(nested)).error(), StoreError::invalid);
}

class QuotaTest : public StoreTest {
 protected:
  void expect_exact(AccountId a) {
    auto quota = run(store().quota(a));
    ASSERT_TRUE(quota.ok());
    auto id = std::to_string(a);
    EXPECT_EQ(quota->used_bytes,
              std::uint64_t(qi("SELECT coalesce(sum(size), 0) FROM mailbox_entries WHERE "
                               "account_id = " +
                               id)));
    EXPECT_EQ(quota->used_messages,
              std::uint64_t(qi("SELECT count(*) FROM mailbox_entries WHERE account_id = " + id)));
    // Mailbox counters agree with their entries too.
    EXPECT_EQ(qi("SELECT count(*) FROM mailboxes b, LATERAL (SELECT count(*) AS n, "
                 "coalesce(sum(size), 0) AS s, count(*) FILTER (WHERE flags & 1 = 0) AS u FROM "
                 "mailbox_entries e WHERE e.mailbox_id = b.id) x WHERE b.account_id = " +
                 id + " AND (b.messages, b.size_bytes, b.unseen) IS DISTINCT FROM (x.n, x.s, x.u)"),
              0);
  }
};

TEST_F(QuotaTest, ExactAfterAppendCopyMoveExpungeAndDelete) {
  auto a = add_account("quota@example.gov.vn");
  auto inbox = mailbox(a.id, "INBOX");
  for (int i = 0; i < 5; ++i) append(a.id, inbox.id, sample_message(i, 1000 + i * 100));
  expect_exact(a.id);
  EXPECT_EQ(run(store().quota(a.id))->used_messages, 5u);

  auto work = run(store().create_mailbox(a.id, "Work/2025"));
  ASSERT_TRUE(work.ok());
  auto copied = run(store().copy(a.id, inbox.id, {{1, 3}}, work->id));
  ASSERT_TRUE(copied.ok());
  EXPECT_EQ(copied->source, (std::vector<Uid>{1, 2, 3}));
  EXPECT_EQ(copied->destination, (std::vector<Uid>{1, 2, 3}));
  EXPECT_EQ(copied->uidvalidity, work->uidvalidity);
  expect_exact(a.id);
  EXPECT_EQ(run(store().quota(a.id))->used_messages, 8u);  // copies count

  auto trash = mailbox(a.id, "Trash");
  auto moved = run(store().move(a.id, inbox.id, {{4, 5}}, trash.id));
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->destination, (std::vector<Uid>{1, 2}));
  expect_exact(a.id);
  EXPECT_EQ(run(store().quota(a.id))->used_messages, 8u);  // a move does not

  ASSERT_TRUE(run(store().set_flags(a.id, trash.id, {{1, UINT32_MAX}}, FlagOp::add,
                                    Flags{kDeleted | kSeen, {}}))
                  .ok());
  auto gone = run(store().expunge(a.id, trash.id));
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->uids, (std::vector<Uid>{1, 2}));
  expect_exact(a.id);
  EXPECT_EQ(run(store().quota(a.id))->used_messages, 6u);

  // Deleting a parent with children is refused; the leaf then the parent work.
  auto parent = mailbox(a.id, "Work");
  EXPECT_EQ(run(store().delete_mailbox(a.id, parent.id)).error(), StoreError::invalid);
  ASSERT_TRUE(run(store().delete_mailbox(a.id, work->id)).ok());
  ASSERT_TRUE(run(store().delete_mailbox(a.id, parent.id)).ok());
  expect_exact(a.id);
  EXPECT_EQ(run(store().quota(a.id))->used_messages, 3u);
  // Expunged messages no one refers to are gone once swept, blobs included.
  drain_release_queue();
  EXPECT_EQ(qi("SELECT count(*) FROM messages"), 3);
  EXPECT_EQ(qi("SELECT count(*) FROM blobs"), 3);
}

TEST_F(QuotaTest, OverQuotaRefusesTheWholeDeliveryAndChangesNothing) {
  auto a = add_account("full@example.gov.vn", 3000);
  auto b = add_account("roomy@example.gov.vn");
  auto inbox = mailbox(a.id, "INBOX");
  append(a.id, inbox.id, sample_message(1, 2000));
  Delivery d;
  d.raw = std::make_shared<const std::string>(sample_message(2, 2000));
  d.local = {{b.id, std::nullopt}, {a.id, std::nullopt}};
  auto r = run(store().deliver(d));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), StoreError::over_quota);
  EXPECT_EQ(run(store().quota(b.id))->used_messages, 0u);
  EXPECT_EQ(mailbox(b.id, "INBOX").uidnext, 1u);
  EXPECT_EQ(qi("SELECT count(*) FROM messages"), 1);
  // A copy that would go over is refused too.
  auto copy = run(store().copy(a.id, inbox.id, {{1, 1}}, mailbox(a.id, "Archive").id));
  ASSERT_FALSE(copy.ok());
  EXPECT_EQ(copy.error(), StoreError::over_quota);
  expect_exact(a.id);
}

// Group commit: deliveries to one busy mailbox that arrive while one runs share a transaction
// (rows of one transaction have one xmin), UIDs stay unique, gapless and in commit order.
// delivery_batch_max 1 turns it off: one transaction per delivery.
TEST_F(MailboxStoreTest, ConcurrentDeliveriesToOneMailboxCommitTogether) {
  for (std::size_t batch_max : {std::size_t(32), std::size_t(1)}) {
    SCOPED_TRACE("delivery_batch_max " + std::to_string(batch_max));
    auto db = open_db(16, batch_max);
    auto a = add_account("hot" + std::to_string(batch_max) + "@example.gov.vn");
    std::vector<Result<DeliveryResult>> results;
    constexpr int kWriters = 16, kEach = 25;
    ASSERT_EQ(deliver_concurrently(*db, a.id, kWriters, kEach, 200, results), kWriters * kEach);
    std::set<Uid> uids;
    for (auto& r : results) uids.insert(r->local.at(0).uid);
    EXPECT_EQ(uids.size(), std::size_t(kWriters * kEach));
    EXPECT_EQ(*uids.begin(), 1u);
    EXPECT_EQ(*uids.rbegin(), Uid(kWriters * kEach));
    auto id = std::to_string(a.id);
    // Commit order = UID order: modseq grows with the UID across transactions.
    EXPECT_EQ(qi("SELECT count(*) FROM (SELECT modseq < lag(modseq) OVER (ORDER BY uid) AS back "
                 "FROM mailbox_entries WHERE account_id = " +
                 id + ") x WHERE back"),
              0);
    auto transactions =
        qi("SELECT count(DISTINCT xmin::text) FROM mailbox_entries WHERE account_id = " + id);
    if (batch_max == 1) {
      EXPECT_EQ(transactions, kWriters * kEach);
    } else {
      EXPECT_LT(transactions, kWriters * kEach / 2) << "deliveries were not committed together";
    }
  }
}

TEST_F(QuotaTest, OverQuotaInAGroupCommitRefusesOnlyThatDelivery) {
  auto db = open_db(16, 32);
  // Room for exactly 40 of these messages: the 41st and later are refused, each on its own.
  const std::size_t size = sample_message(10000, 1000).size();
  auto a = add_account("nearlyfull@example.gov.vn", 40 * size + size / 2);
  std::vector<Result<DeliveryResult>> results;
  EXPECT_EQ(deliver_concurrently(*db, a.id, 16, 5, 1000, results), 40);
  for (auto& r : results)
    if (!r.ok()) {
      EXPECT_EQ(r.error(), StoreError::over_quota);
    }
  EXPECT_EQ(mailbox(a.id, "INBOX").messages, 40u);
  expect_exact(a.id);
}

TEST_F(MailboxStoreTest, ChangesSinceReportsChangedAndExpungedOnly) {
  auto a = add_account("changes@example.gov.vn");
  auto inbox = mailbox(a.id, "INBOX");
  for (int i = 0; i < 4; ++i) append(a.id, inbox.id, sample_message(i));
  const ModSeq since = mailbox(a.id, "INBOX").highestmodseq;

  auto flagged = run(
      store().set_flags(a.id, inbox.id, {{2, 2}}, FlagOp::add, Flags{kFlagged, {"$Important"}}));
  ASSERT_TRUE(flagged.ok());
  ASSERT_EQ(flagged->updated.size(), 1u);
  EXPECT_EQ(flagged->updated[0].flags.keywords, std::vector<std::string>{"$Important"});
  // Each write names its step: from the mailbox's modseq before it to the one it set.
  EXPECT_EQ(flagged->step.prior, since);
  EXPECT_EQ(flagged->step.modseq, flagged->updated[0].modseq);
  EXPECT_GT(flagged->step.modseq, since);
  auto deleted = run(store().set_flags(a.id, inbox.id, {{3, 3}}, FlagOp::add, Flags{kDeleted, {}}));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->step.prior, flagged->step.modseq);
  // Another mailbox's write moves the account's modseq, not this mailbox's prior.
  auto sent = mailbox(a.id, "Sent");
  append(a.id, sent.id, sample_message(7));
  auto gone = run(store().expunge(a.id, inbox.id));
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->uids, std::vector<Uid>{3});
  EXPECT_EQ(gone->step.prior, deleted->step.modseq);
  EXPECT_EQ(gone->step.modseq, mailbox(a.id, "INBOX").highestmodseq);
  EXPECT_GT(gone->step.modseq, mailbox(a.id, "Sent").highestmodseq);
  auto none = run(store().expunge(a.id, inbox.id));  // nothing left to expunge: no step
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->uids.empty());
  EXPECT_EQ(none->step.modseq, 0u);
  append(a.id, inbox.id, sample_message(9));  // uid 5

  auto ch = run(store().changes_since(a.id, inbox.id, since));
  ASSERT_TRUE(ch.ok());
  std::vector<Uid> changed;
  for (auto& e : ch->changed) changed.push_back(e.uid);
  EXPECT_EQ(changed, (std::vector<Uid>{2, 5}));
  EXPECT_EQ(ch->expunged, std::vector<Uid>{3});
  EXPECT_EQ(ch->highestmodseq, mailbox(a.id, "INBOX").highestmodseq);
  EXPECT_EQ(ch->changed[0].flags.system, kFlagged);

  auto nothing = run(store().changes_since(a.id, inbox.id, ch->highestmodseq));
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->changed.empty());
  EXPECT_TRUE(nothing->expunged.empty());

  auto acc = run(store().account_changes_since(a.id, since, 100));
  ASSERT_TRUE(acc.ok());
  std::multiset<std::pair<ChangeRecord::Kind, Uid>> kinds;
  for (auto& c : *acc) {
    EXPECT_GT(c.modseq, since);
    kinds.insert({c.kind, c.uid});
  }
  using K = ChangeRecord::Kind;
  EXPECT_EQ(kinds, (std::multiset<std::pair<K, Uid>>{{K::message_added, 1},  // in Sent
                                                     {K::message_flags, 2},
                                                     {K::message_flags, 3},
                                                     {K::message_expunged, 3},
                                                     {K::message_added, 5}}));
  // Paging never cuts a modseq group and always makes progress.
  auto page = run(store().account_changes_since(a.id, 0, 1));
  ASSERT_TRUE(page.ok());
  ASSERT_FALSE(page->empty());
  for (auto& c : *page) EXPECT_EQ(c.modseq, page->front().modseq);
  EXPECT_EQ(page->size(), 6u);  // the six mailboxes created with the account
}

TEST_F(MailboxStoreTest, SetFlagsWithUnchangedSinceReportsConflicts) {
  auto a = add_account("condstore@example.gov.vn");
  auto inbox = mailbox(a.id, "INBOX");
  for (int i = 0; i < 3; ++i) append(a.id, inbox.id, sample_message(i));
  const ModSeq before = mailbox(a.id, "INBOX").highestmodseq;
  ASSERT_TRUE(run(store().set_flags(a.id, inbox.id, {{2, 2}}, FlagOp::add, Flags{kSeen, {}})).ok());
  auto r =
      run(store().set_flags(a.id, inbox.id, {{1, 3}}, FlagOp::add, Flags{kAnswered, {}}, before));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->conflicts, std::vector<Uid>{2});
  ASSERT_EQ(r->updated.size(), 2u);
  EXPECT_EQ(r->updated[0].uid, 1u);
  EXPECT_EQ(r->updated[1].uid, 3u);
  auto entries = run(store().list_entries(a.id, inbox.id, {{1, 3}}));
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ((*entries)[1].flags.system, kSeen);  // the conflicting one was left alone
  EXPECT_EQ((*entries)[0].flags.system, kAnswered);
  EXPECT_EQ(mailbox(a.id, "INBOX").unseen, 2u);

  // Keywords: case-insensitive, sorted, unique; replace and remove.
  auto kw = run(store().set_flags(a.id, inbox.id, {{1, 1}}, FlagOp::add,
                                  Flags{0, {"Work", "$label1", "work"}}));
  ASSERT_TRUE(kw.ok());
  EXPECT_EQ(kw->updated.at(0).flags.keywords, (std::vector<std::string>{"$label1", "Work"}));
  kw = run(store().set_flags(a.id, inbox.id, {{1, 1}}, FlagOp::remove, Flags{0, {"WORK"}}));
  EXPECT_EQ(kw->updated.at(0).flags.keywords, std::vector<std::string>{"$label1"});
  EXPECT_EQ(
      run(store().set_flags(a.id, inbox.id, {{1, 1}}, FlagOp::add, Flags{0, {"bad word"}})).error(),
      StoreError::invalid);
}

TEST_F(MailboxStoreTest, OpenMailboxAndFetchRawsInOneQueryEach) {
  auto a = add_account("open@example.gov.vn");
  auto inbox = mailbox(a.id, "INBOX");
  auto empty = run(store().open_mailbox(a.id, "inbox"));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->mailbox.id, inbox.id);
  EXPECT_TRUE(empty->entries.empty());
  std::vector<AppendResult> added;
  for (int i = 0; i < 3; ++i) added.push_back(append(a.id, inbox.id, sample_message(i)));
  ASSERT_TRUE(
      run(store().set_flags(a.id, inbox.id, {{2, 2}}, FlagOp::add, Flags{kSeen | kDraft, {}}))
          .ok());
  auto opened = run(store().open_mailbox(a.id, "INBOX"));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->mailbox.messages, 3u);
  auto entries = run(store().list_entries(a.id, inbox.id, {{1, UINT32_MAX}}));
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(opened->entries.size(), entries->size());
  for (std::size_t i = 0; i < entries->size(); ++i) {
    EXPECT_EQ(opened->entries[i].uid, (*entries)[i].uid);
    EXPECT_EQ(opened->entries[i].modseq, (*entries)[i].modseq);
    EXPECT_EQ(opened->entries[i].flags, (*entries)[i].flags.system);
  }
  EXPECT_EQ(opened->entries[1].flags, kSeen | kDraft);
  EXPECT_EQ(run(store().open_mailbox(a.id, "Nowhere")).error(), StoreError::not_found);
  // The listings come in UID order whatever the order of the ranges asked (their statements
  // leave the order to the plan, which scans the ranges as given).
  const UidSet backwards{{3, 3}, {1, 2}};
  auto listed = run(store().list_entries(a.id, inbox.id, backwards));
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ(listed->front().uid, 1u);
  EXPECT_EQ(listed->back().uid, 3u);
  auto metas = run(store().fetch_meta(a.id, inbox.id, backwards));
  ASSERT_TRUE(metas.ok());
  ASSERT_EQ(metas->size(), 3u);
  EXPECT_EQ(metas->front().entry.uid, 1u);
  EXPECT_EQ(metas->back().entry.uid, 3u);

  auto raws = run(store().fetch_raws(a.id, {added[2].message_id, added[0].message_id, 999999}));
  ASSERT_TRUE(raws.ok());
  std::map<MessageId, std::string> got;
  for (auto& r : *raws) got[r.message] = r.data;
  EXPECT_EQ(got, (std::map<MessageId, std::string>{{added[0].message_id, sample_message(0)},
                                                   {added[2].message_id, sample_message(2)}}));
  // Headers only: each through its blank line, nothing of the body.
  auto heads =
      run(store().fetch_raws(a.id, {added[1].message_id, 999999}, MailboxStore::RawPart::header));
  ASSERT_TRUE(heads.ok());
  ASSERT_EQ(heads->size(), 1u);
  const auto m1 = sample_message(1);
  EXPECT_EQ(heads->at(0).data, m1.substr(0, m1.find("\r\n\r\n") + 4));
}

// \Recent (RFC 3501 2.3.2): each UID is claimed once, by the first claimer, whichever call.
TEST_F(MailboxStoreTest, RecentClaimsGiveEachUidToOneCaller) {
  auto a = add_account("recent@example.gov.vn");
  auto inbox = mailbox(a.id, "INBOX");
  auto b = add_account("recent-other@example.gov.vn");
  for (int i = 0; i < 2; ++i) append(a.id, inbox.id, sample_message(i));
  auto looked = run(store().open_mailbox(a.id, "INBOX"));  // no claim: EXAMINE
  ASSERT_TRUE(looked.ok());
  EXPECT_EQ(looked->mailbox.first_recent_uid, 1u);
  EXPECT_EQ(looked->claimed.first, looked->claimed.next);
  auto first = run(store().open_mailbox(a.id, "INBOX", true));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->claimed.first, 1u);
  EXPECT_EQ(first->claimed.next, 3u);
  EXPECT_EQ(first->entries.size(), 2u);
  auto second = run(store().open_mailbox(a.id, "INBOX", true));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->claimed.first, second->claimed.next);
  EXPECT_EQ(second->mailbox.first_recent_uid, 3u);
  auto none = run(store().claim_recent(a.id, inbox.id));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->first, none->next);
  append(a.id, inbox.id, sample_message(2));
  auto later = run(store().claim_recent(a.id, inbox.id));
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->first, 3u);
  EXPECT_EQ(later->next, 4u);
  auto foreign = run(store().claim_recent(b.id, inbox.id));  // not b's mailbox: nothing
  ASSERT_TRUE(foreign.ok());
  EXPECT_EQ(foreign->first, foreign->next);
  // Many concurrent claimers against concurrent appends: the claimed ranges tile 4..N exactly.
  std::vector<std::thread> threads;
  std::mutex m;
  std::vector<RecentClaim> claims;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        if (t == 0) append(a.id, inbox.id, sample_message(10 + i));
        auto c = run(store().claim_recent(a.id, inbox.id));
        ASSERT_TRUE(c.ok());
        std::lock_guard lock(m);
        if (c->first != c->next) claims.push_back(*c);
      }
    });
  for (auto& th : threads) th.join();
  auto last = run(store().claim_recent(a.id, inbox.id));
  ASSERT_TRUE(last.ok());
  if (last->first != last->next) claims.push_back(*last);
  std::sort(claims.begin(), claims.end(), [](auto& x, auto& y) { return x.first < y.first; });
  std::uint64_t next = 4;
  for (const auto& c : claims) {
    EXPECT_EQ(c.first, next);
    next = c.next;
  }
  EXPECT_EQ(next, 14u);
}

TEST_F(MailboxStoreTest, AnotherAccountSeesNotFoundEverywhere) {
  auto a = add_account("alice@example.gov.vn");
  auto b = add_account("bob@example.gov.vn");
  auto ainbox = mailbox(a.id, "INBOX");
  auto binbox = mailbox(b.id, "INBOX");
  auto msg = append(a.id, ainbox.id, sample_message(1));
  auto nf = StoreError::not_found;
  EXPECT_EQ(run(store().get_mailbox(b.id, ainbox.id)).error(), nf);
  EXPECT_EQ(run(store().list_entries(b.id, ainbox.id, {{1, UINT32_MAX}})).error(), nf);
  EXPECT_EQ(run(store().fetch_meta(b.id, ainbox.id, {{1, UINT32_MAX}})).error(), nf);
  EXPECT_EQ(run(store().fetch_raw(b.id, msg.message_id)).error(), nf);
  auto own = run(store().open_mailbox(b.id, "INBOX"));  // by name: always one's own
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->mailbox.id, binbox.id);
  EXPECT_TRUE(own->entries.empty());
  auto raws = run(store().fetch_raws(b.id, {msg.message_id}));
  ASSERT_TRUE(raws.ok());
  EXPECT_TRUE(raws->empty());
  EXPECT_EQ(
      run(store().set_flags(b.id, ainbox.id, {{1, 1}}, FlagOp::add, Flags{kDeleted, {}})).error(),
      nf);
  EXPECT_EQ(run(store().copy(b.id, ainbox.id, {{1, 1}}, binbox.id)).error(), nf);
  EXPECT_EQ(run(store().move(b.id, binbox.id, {{1, 1}}, ainbox.id)).error(), nf);
  EXPECT_EQ(run(store().expunge(b.id, ainbox.id)).error(), nf);
  EXPECT_EQ(run(store().changes_since(b.id, ainbox.id, 0)).error(), nf);
  EXPECT_EQ(run(store().rename_mailbox(b.id, ainbox.id, "Mine")).error(), nf);
  EXPECT_EQ(run(store().delete_mailbox(b.id, mailbox(a.id, "Junk").id)).error(), nf);
  // Subscriptions are names of one account: B's unsubscribing "INBOX" leaves A's alone.
  ASSERT_TRUE(run(store().set_subscribed(b.id, "INBOX", false)).ok());
  EXPECT_EQ(*run(store().list_subscriptions(a.id)),
            (std::vector<std::string>{"Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"}));
  AppendRequest req;
  req.raw = std::make_shared<const std::string>(sample_message(2));
  EXPECT_EQ(run(store().append(b.id, ainbox.id, req)).error(), nf);
  // And A's data is untouched.
  auto entries = run(store().list_entries(a.id, ainbox.id, {{1, UINT32_MAX}}));
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].flags.system, 0);
}

TEST_F(MailboxStoreTest, MailboxHierarchyRenameAndInbox) {
  auto a = add_account("tree@example.gov.vn");
  auto names = [&] {
    std::vector<std::string> v;
    auto boxes = run(store().list_mailboxes(a.id));
    for (auto& m : *boxes) v.push_back(m.name);
    return v;
  };
  EXPECT_EQ(names(),
            (std::vector<std::string>{"Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"}));
  EXPECT_EQ(mailbox(a.id, "Sent").special_use, SpecialUse::sent);
  EXPECT_EQ(mailbox(a.id, "inbox").name, "INBOX");  // INBOX is case-insensitive

  auto c = run(store().create_mailbox(a.id, "A/B/C"));
  ASSERT_TRUE(c.ok());
  auto b = mailbox(a.id, "A/B");
  EXPECT_EQ(c->parent_id, b.id);
  EXPECT_EQ(run(store().create_mailbox(a.id, "A/B")).error(), StoreError::exists);
  EXPECT_EQ(run(store().create_mailbox(a.id, "Inbox")).error(), StoreError::exists);
  EXPECT_EQ(run(store().create_mailbox(a.id, "bad//name")).error(), StoreError::invalid);
  EXPECT_EQ(run(store().create_mailbox(a.id, "/lead")).error(), StoreError::invalid);

  ASSERT_TRUE(run(store().rename_mailbox(a.id, mailbox(a.id, "A").id, "Z/Y")).ok());
  auto y = mailbox(a.id, "Z/Y");
  EXPECT_EQ(mailbox(a.id, "Z/Y/B/C").id, c->id);
  EXPECT_EQ(mailbox(a.id, "Z/Y/B").parent_id, y.id);
  EXPECT_EQ(y.parent_id, mailbox(a.id, "Z").id);
  EXPECT_EQ(run(store().get_mailbox(a.id, std::string("A/B"))).error(), StoreError::not_found);
  EXPECT_EQ(run(store().rename_mailbox(a.id, y.id, "Z/Y/inside")).error(), StoreError::invalid);
  EXPECT_EQ(run(store().rename_mailbox(a.id, y.id, "Sent")).error(), StoreError::exists);

  // Renaming INBOX moves its messages and leaves it empty.
  auto inbox = mailbox(a.id, "INBOX");
  append(a.id, inbox.id, sample_message(1));
  append(a.id, inbox.id, sample_message(2));
  ASSERT_TRUE(run(store().rename_mailbox(a.id, inbox.id, "Old mail")).ok());
  auto old = mailbox(a.id, "Old mail");
  EXPECT_EQ(old.messages, 2u);
  auto inbox2 = mailbox(a.id, "INBOX");
  EXPECT_EQ(inbox2.id, inbox.id);
  EXPECT_EQ(inbox2.messages, 0u);
  EXPECT_EQ(inbox2.uidnext, 3u);  // UIDs are never reused
  EXPECT_EQ(run(store().delete_mailbox(a.id, inbox.id)).error(), StoreError::invalid);

  // A recreated name gets a new UIDVALIDITY.
  auto first = run(store().create_mailbox(a.id, "Temp"));
  ASSERT_TRUE(run(store().delete_mailbox(a.id, first->id)).ok());
  auto second = run(store().create_mailbox(a.id, "Temp"));
  ASSERT_TRUE(second.ok());
  EXPECT_NE(first->uidvalidity, second->uidvalidity);

  // A subscription is a name: it outlives its mailbox (RFC 3501 6.3.6); a new mailbox is not
  // subscribed unless special-use; a rename takes the subscriptions of it and its children along.
  auto subs = [&] { return *run(store().list_subscriptions(a.id)); };
  auto has = [&](const std::string& n) {
    auto v = subs();
    return std::find(v.begin(), v.end(), n) != v.end();
  };
  EXPECT_FALSE(has("Temp"));
  ASSERT_TRUE(run(store().set_subscribed(a.id, "Temp", true)).ok());
  EXPECT_TRUE(has("Temp"));
  ASSERT_TRUE(run(store().set_subscribed(a.id, "Temp", false)).ok());
  ASSERT_TRUE(run(store().set_subscribed(a.id, "Temp", false)).ok());  // no error twice
  EXPECT_FALSE(has("Temp"));
  ASSERT_TRUE(run(store().set_subscribed(a.id, "Temp", true)).ok());
  ASSERT_TRUE(run(store().delete_mailbox(a.id, second->id)).ok());
  EXPECT_TRUE(has("Temp"));
  auto kid = run(store().create_mailbox(a.id, "P/Q"));
  ASSERT_TRUE(kid.ok());
  EXPECT_FALSE(has("P") || has("P/Q"));
  ASSERT_TRUE(run(store().set_subscribed(a.id, "P/Q", true)).ok());
  ASSERT_TRUE(run(store().create_mailbox(a.id, "Old/Sent", SpecialUse::sent)).ok());
  EXPECT_TRUE(has("Old/Sent") && !has("Old"));
  ASSERT_TRUE(run(store().rename_mailbox(a.id, mailbox(a.id, "P").id, "R")).ok());
  EXPECT_TRUE(has("R/Q") && !has("P/Q") && !has("R") && !has("P"));
  EXPECT_EQ(run(store().set_subscribed(a.id, "", true)).error(), StoreError::invalid);
}

TEST_F(MailboxStoreTest, MalformedMimeIsStoredByteExact) {
  auto a = add_account("raw@example.gov.vn");
  auto inbox = mailbox(a.id, "INBOX");
  std::string raw =
      "Subject: =?utf-8?B?broken\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n"
      "From: <<<@@@>>>\r\n\r\n--x\r\nContent-Type: text/plain; charset=windows-1258\r\n\r\n"
      "Ch\xe0o \xff\xfe\x00 binary\r\n--x\r\n--y\r\nno end";
  raw.push_back('\0');
  raw += std::string("\x80\x81 tail", 7);
  auto r = append(a.id, inbox.id, raw, Flags{kSeen, {}});
  ASSERT_NE(r.uid, 0u);
  auto back = run(store().fetch_raw(a.id, r.message_id));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, raw);
  auto part = run(store().fetch_raw(a.id, r.message_id, 10, 20));
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(*part, raw.substr(10, 20));
  auto tail = run(store().fetch_raw(a.id, r.message_id, raw.size() - 4));
  EXPECT_EQ(*tail, raw.substr(raw.size() - 4));
  auto past = run(store().fetch_raw(a.id, r.message_id, raw.size() + 10, 5));
  ASSERT_TRUE(past.ok());
  EXPECT_TRUE(past->empty());
  auto meta = run(store().fetch_meta(a.id, inbox.id, {{r.uid, r.uid}}));
  ASSERT_TRUE(meta.ok());
  ASSERT_EQ(meta->size(), 1u);
  EXPECT_EQ((*meta)[0].entry.size, raw.size());
  EXPECT_FALSE((*meta)[0].envelope_json.empty());
  EXPECT_EQ((*meta)[0].blob_sha256.size(), 64u);
  EXPECT_EQ((*meta)[0].entry.flags.system, kSeen);
}

TEST_F(MailboxStoreTest, RepliesJoinTheirThread) {
  auto a = add_account("thread@example.gov.vn");
  auto inbox = mailbox(a.id, "INBOX");
  auto first = append(a.id, inbox.id, sample_message(1));
  std::string reply =
      "In-Reply-To: <m1@example.gov.vn>\r\nMessage-ID: <r1@x>\r\nSubject: Re\r\n\r\nok";
  auto second = append(a.id, inbox.id, reply);
  auto other = append(a.id, inbox.id, sample_message(2));
  auto e = run(store().list_entries(a.id, inbox.id, {{1, UINT32_MAX}}));
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->size(), 3u);
  EXPECT_EQ((*e)[0].thread_id, (*e)[1].thread_id);
  EXPECT_NE((*e)[0].thread_id, (*e)[2].thread_id);
  (void)first;
  (void)second;
  (void)other;
}

// FETCH's stored renderings (message_imap_forms): given back with fetch_meta of their version
// only, completed across calls, never written for another account's message.
TEST_F(MailboxStoreTest, StoredImapFormsAreTheAccountsOwnAndVersioned) {
  auto a = add_account("forms-a@example.gov.vn");
  auto b = add_account("forms-b@example.gov.vn");
  auto inbox = mailbox(a.id, "INBOX");
  auto binbox = mailbox(b.id, "INBOX");
  auto r = append(a.id, inbox.id, sample_message(1));
  auto meta_of = [&](std::int32_t version, bool header, bool always = false) {
    MailboxStore::MetaParts parts{.envelope = true,
                                  .bodystructure = true,
                                  .forms_version = version,
                                  .header = header,
                                  .bodystructure_always = always};
    auto m = run(store().fetch_meta(a.id, inbox.id, {{r.uid, r.uid}}, parts));
    EXPECT_TRUE(m.ok());
    EXPECT_EQ(m->size(), 1u);
    return (*m)[0];
  };
  auto none = meta_of(1, true);
  EXPECT_FALSE(none.imap_envelope || none.imap_bodystructure || none.imap_header);
  EXPECT_FALSE(none.envelope_json.empty());
  EXPECT_FALSE(none.bodystructure_json.empty());

  const std::string header("Subject: x\r\n\xff\x00\r\n\r\n", 18);  // 8-bit and NUL kept
  ASSERT_TRUE(
      run(store().save_imap_forms(a.id, 1, {{r.message_id, "(env)", std::nullopt, header}})).ok());
  ASSERT_TRUE(
      run(store().save_imap_forms(a.id, 1, {{r.message_id, std::nullopt, "(bs)", std::nullopt}}))
          .ok());
  auto both = meta_of(1, true);
  EXPECT_EQ(both.imap_envelope, "(env)");
  EXPECT_EQ(both.imap_bodystructure, "(bs)");
  EXPECT_EQ(both.imap_header, header);
  EXPECT_TRUE(both.envelope_json.empty());  // the rendering stands in for the document
  EXPECT_TRUE(both.bodystructure_json.empty());
  EXPECT_FALSE(meta_of(1, false).imap_header);
  EXPECT_FALSE(meta_of(1, false, true).bodystructure_json.empty());
  auto other_version = meta_of(2, true);
  EXPECT_FALSE(other_version.imap_envelope || other_version.imap_header);
  EXPECT_FALSE(other_version.envelope_json.empty());

  // A newer version replaces the row whole: nothing of version 1 is left to complete it.
  ASSERT_TRUE(
      run(store().save_imap_forms(a.id, 2, {{r.message_id, "(env2)", std::nullopt, std::nullopt}}))
          .ok());
  auto v2 = meta_of(2, true);
  EXPECT_EQ(v2.imap_envelope, "(env2)");
  EXPECT_FALSE(v2.imap_bodystructure || v2.imap_header);
  EXPECT_FALSE(meta_of(1, true).imap_envelope);

  // Another account cannot write forms of a message it does not hold.
  ASSERT_TRUE(
      run(store().save_imap_forms(b.id, 2, {{r.message_id, "(evil)", "(evil)", std::nullopt}}))
          .ok());
  EXPECT_EQ(meta_of(2, true).imap_envelope, "(env2)");
  EXPECT_EQ(run(store().fetch_meta(b.id, inbox.id, {{1, UINT32_MAX}})).error(),
            StoreError::not_found);
  (void)binbox;
}

// With a renderer (imap::ingest_forms in govmail serve), APPEND and SMTP delivery store the
// renderings with the message, in the delivery's statement: no FETCH renders them.
TEST_F(MailboxStoreTest, IngestStoresTheRenderingsWithTheMessage) {
  DatabaseOptions o;
  o.url = tdb_.url();
  o.pool_size = 4;
  std::vector<std::string> seen;  // what the renderer was given
  o.ingest_forms.version = 7;
  o.ingest_forms.render = [&seen](std::string_view raw, std::string_view envelope,
                                  std::string_view bodystructure) {
    seen.push_back(std::string(envelope));
    ImapForms f;
    f.envelope = "(env " + std::to_string(raw.size()) + ")";
    f.bodystructure = std::string(bodystructure.substr(0, 1));
    f.header = std::string("H\0\xff", 3);  // bytes, NUL and 8-bit kept
    return f;
  };
  auto db = run(Database::open(io_.get_executor(), o));
  ASSERT_TRUE(db.ok());
  auto& st = (*db)->mailboxes();
  auto a = add_account("ingest-a@example.gov.vn");
  auto b = add_account("ingest-b@example.gov.vn");
  auto inbox = mailbox(a.id, "INBOX");
  const std::string raw = sample_message(1);
  AppendRequest req;
  req.raw = std::make_shared<std::string>(raw);
  auto appended = run(st.append(a.id, inbox.id, req));
  ASSERT_TRUE(appended.ok());
  ASSERT_EQ(seen.size(), 1u);
  auto documents = run(st.fetch_meta(a.id, inbox.id, {{1, 1}}));
  ASSERT_TRUE(documents.ok());
  ASSERT_EQ(documents->size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(seen[0]), nlohmann::json::parse((*documents)[0].envelope_json));

  Delivery d;
  d.raw = std::make_shared<std::string>(raw + "more\r\n");
  d.local = {{a.id, std::nullopt}, {b.id, std::nullopt}};  // one message, two entries
  auto delivered = run(st.deliver(d));
  ASSERT_TRUE(delivered.ok());
  ASSERT_EQ(delivered->local.size(), 2u);

  MailboxStore::MetaParts parts{.envelope = true,
                                .bodystructure = true,
                                .forms_version = 7,
                                .header = true,
                                .bodystructure_always = false};
  auto metas = run(st.fetch_meta(a.id, inbox.id, {{1, UINT32_MAX}}, parts));
  ASSERT_TRUE(metas.ok());
  ASSERT_EQ(metas->size(), 2u);
  EXPECT_EQ((*metas)[0].imap_envelope, "(env " + std::to_string(raw.size()) + ")");
  EXPECT_EQ((*metas)[1].imap_envelope, "(env " + std::to_string(raw.size() + 6) + ")");
  EXPECT_EQ((*metas)[1].imap_bodystructure, "{");
  EXPECT_EQ((*metas)[1].imap_header, std::string("H\0\xff", 3));
  EXPECT_TRUE((*metas)[0].envelope_json.empty());  // the rendering stands in for the document
  auto other = run(st.fetch_meta(b.id, delivered->local[1].mailbox_id, {{1, UINT32_MAX}}, parts));
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(other->size(), 1u);
  EXPECT_EQ((*other)[0].imap_envelope, (*metas)[1].imap_envelope);  // the one message's row

  // Another version's reader does not take them; the default store (no renderer) writes none.
  parts.forms_version = 8;
  auto v8 = run(st.fetch_meta(a.id, inbox.id, {{1, UINT32_MAX}}, parts));
  ASSERT_TRUE(v8.ok());
  EXPECT_FALSE((*v8)[0].imap_envelope || (*v8)[1].imap_header);
  auto plain = append(a.id, inbox.id, sample_message(2));
  parts.forms_version = 7;
  auto none = run(st.fetch_meta(a.id, inbox.id, {{plain.uid, plain.uid}}, parts));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE((*none)[0].imap_envelope || (*none)[0].imap_header);
  EXPECT_EQ(seen.size(), 2u);
}

}  // namespace
}  // namespace govmail::store::testing
