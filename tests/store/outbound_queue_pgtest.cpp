// The outbound queue against a real PostgreSQL: claims never overlap across concurrent workers,
// outcomes are recorded only by the claim that holds the rows, leases end, reports are taken
// once under row locks, operators' retry/delete, and pruning of finished entries.
#include <set>
#include <thread>

#include "store/outbound.hpp"
#include "store_fixture.hpp"

namespace govmail::store::testing {
namespace {

using namespace std::chrono_literals;

class OutboundQueueTest : public StoreTest {
 protected:
  // One worker claiming until nothing is due (a coroutine with parameters, not a capturing
  // lambda: the lambda object would be gone before its coroutine ends).
  static awaitable<std::vector<std::pair<std::int64_t, int>>> claim_all(
      std::shared_ptr<Database> db) {
    std::vector<std::pair<std::int64_t, int>> mine;
    for (;;) {
      auto c = co_await db->outbound().claim(7, std::chrono::seconds(600));
      EXPECT_TRUE(c.ok());
      if (!c || c->recipients.empty()) break;
      for (const auto& r : c->recipients) mine.push_back({r.queue_id, r.ordinal});
    }
    co_return mine;
  }

  // Queues one message from `from` to `n` remote recipients at `domain`.
  std::int64_t enqueue(std::shared_ptr<Database> db, const std::string& from, int n,
                       const std::string& domain = "remote.vn") {
    Delivery d;
    d.raw = std::make_shared<const std::string>(sample_message(n));
    d.envelope_from = from;
    for (int i = 0; i < n; ++i)
      d.remote.push_back({"r" + std::to_string(i) + "@" + domain, "", ""});
    auto r = run(db->mailboxes().deliver(std::move(d)));
    EXPECT_TRUE(r.ok());
    return r && r->outbound_id ? *r->outbound_id : 0;
  }
};

AttemptOutcome outcome(const ClaimedRecipient& r, RecipientStatus s, std::string report = "") {
  AttemptOutcome o;
  o.queue_id = r.queue_id;
  o.ordinal = r.ordinal;
  o.status = s;
  o.retry_in = 60s;
  o.reply = s == RecipientStatus::delivered ? "250 2.0.0 Ok" : "451 4.3.0 later";
  o.host = "mx.remote.vn[127.0.0.1]:25";
  o.report = std::move(report);
  return o;
}

TEST_F(OutboundQueueTest, ConcurrentClaimsNeverShareARecipient) {
  auto db = open_db(16);
  for (int i = 0; i < 20; ++i) enqueue(db, "a@example.gov.vn", 25);
  constexpr int kWorkers = 8;
  std::vector<std::future<std::vector<std::pair<std::int64_t, int>>>> futures;
  for (int w = 0; w < kWorkers; ++w) futures.push_back(spawn(claim_all(db)));
  std::set<std::pair<std::int64_t, int>> all;
  std::size_t total = 0;
  for (auto& f : futures) {
    auto v = f.get();
    total += v.size();
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(total, 500u);       // every recipient claimed...
  EXPECT_EQ(all.size(), 500u);  // ...exactly once
  auto again = run(db->outbound().claim(100, 600s));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->recipients.empty());  // leased: not due
}

TEST_F(OutboundQueueTest, OnlyTheHoldingClaimRecordsAndLeasesEnd) {
  auto db = open_db();
  const auto id = enqueue(db, "a@example.gov.vn", 2);
  auto first = run(db->outbound().claim(10, 1s));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->recipients.size(), 2u);
  EXPECT_EQ(first->recipients[0].attempts, 1);
  EXPECT_EQ(first->recipients[0].envelope_from, "a@example.gov.vn");
  std::this_thread::sleep_for(1200ms);  // the worker "died": the lease ends
  auto second = run(db->outbound().claim(10, 600s));
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->recipients.size(), 2u);
  EXPECT_EQ(second->recipients[0].attempts, 2);
  // The first worker comes back late: its outcomes are ignored.
  auto stale = run(db->outbound().record(
      first->token, {outcome(first->recipients[0], RecipientStatus::delivered)}));
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(*stale, 0);
  auto fresh = run(db->outbound().record(
      second->token, {outcome(second->recipients[0], RecipientStatus::delivered),
                      outcome(second->recipients[1], RecipientStatus::deferred)}));
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(*fresh, 2);
  auto view = run(db->outbound().show(id));
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(view->recipients.size(), 2u);
  EXPECT_EQ(view->recipients[0].status, RecipientStatus::delivered);
  EXPECT_EQ(view->recipients[0].reply, "250 2.0.0 Ok");
  EXPECT_EQ(view->recipients[1].status, RecipientStatus::deferred);
  EXPECT_FALSE(view->finished_at.has_value());
  // Deferred 60 s: not due; the operator's retry makes it due now.
  EXPECT_TRUE(run(db->outbound().claim(10, 600s))->recipients.empty());
  EXPECT_EQ(*run(db->outbound().retry(id)), 1);
  auto third = run(db->outbound().claim(10, 600s));
  ASSERT_EQ(third->recipients.size(), 1u);
  EXPECT_EQ(third->recipients[0].ordinal, second->recipients[1].ordinal);
  ASSERT_TRUE(run(db->outbound().record(third->token,
                                        {outcome(third->recipients[0], RecipientStatus::bounced)}))
                  .ok());
  view = run(db->outbound().show(id));
  EXPECT_TRUE(view->finished_at.has_value());  // every recipient final
}

TEST_F(OutboundQueueTest, ReleasedRecipientsAreDueAtOnceWithoutCountingTheAttempt) {
  auto db = open_db();
  enqueue(db, "a@example.gov.vn", 3);
  auto c = run(db->outbound().claim(10, 600s));
  ASSERT_EQ(c->recipients.size(), 3u);
  ASSERT_TRUE(
      run(db->outbound().release(c->token, {{c->recipients[0].queue_id, c->recipients[0].ordinal}}))
          .ok());
  auto again = run(db->outbound().claim(10, 600s));
  ASSERT_EQ(again->recipients.size(), 1u);
  EXPECT_EQ(again->recipients[0].attempts, 1);
}

TEST_F(OutboundQueueTest, ReportsAreTakenOnceAndClearedOnlyWhenSent) {
  auto db = open_db(8);
  const auto id = enqueue(db, "a@example.gov.vn", 2);
  auto c = run(db->outbound().claim(10, 600s));
  ASSERT_TRUE(run(db->outbound().record(
                      c->token, {outcome(c->recipients[0], RecipientStatus::bounced, "failed"),
                                 outcome(c->recipients[1], RecipientStatus::bounced, "failed")}))
                  .ok());
  EXPECT_EQ(run(db->outbound().stats())->reports_owed, 2);
  // A sender that fails keeps the rows owed.
  auto failed =
      run(db->outbound().take_reports(10, [](std::vector<ReportItem>) -> awaitable<Result<void>> {
        co_return unexpected(StoreError::temporary);
      }));
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(run(db->outbound().stats())->reports_owed, 2);
  // While one taker holds the rows, another finds nothing; then they are cleared.
  std::atomic<int> seen_by_second{-1};
  auto taken = run(db->outbound().take_reports(
      10, [&](std::vector<ReportItem> items) -> awaitable<Result<void>> {
        EXPECT_EQ(items.size(), 2u);
        EXPECT_EQ(items[0].report, "failed");
        EXPECT_EQ(items[0].envelope_from, "a@example.gov.vn");
        auto inner = co_await db->outbound().take_reports(
            10, [&](std::vector<ReportItem> more) -> awaitable<Result<void>> {
              seen_by_second = static_cast<int>(more.size());
              co_return Result<void>{};
            });
        EXPECT_TRUE(inner.ok());
        if (inner) {
          EXPECT_EQ(*inner, 0);
        }
        co_return Result<void>{};
      }));
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(*taken, 2);
  EXPECT_EQ(seen_by_second.load(), -1);  // never called: nothing free to take
  EXPECT_EQ(run(db->outbound().stats())->reports_owed, 0);
  // Finished and reported: pruned after the history age, message released.
  EXPECT_EQ(*run(db->outbound().prune(3600s, 100)), 0);
  EXPECT_EQ(*run(db->outbound().prune(0s, 100)), 1);
  EXPECT_EQ(run(db->outbound().show(id)).error(), StoreError::not_found);
  drain_release_queue();
  EXPECT_EQ(qi("SELECT count(*) FROM messages"), 0);
}

TEST_F(OutboundQueueTest, DeleteRemovesTheEntryAndReleasesItsMessage) {
  auto db = open_db();
  const auto id = enqueue(db, "a@example.gov.vn", 2);
  auto stats = run(db->outbound().stats());
  EXPECT_EQ(stats->pending_recipients, 2);
  EXPECT_EQ(stats->pending_messages, 1);
  auto list = run(db->outbound().list(false, 10));
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].recipients.size(), 2u);
  ASSERT_TRUE(run(db->outbound().remove(id)).ok());
  EXPECT_EQ(run(db->outbound().remove(id)).error(), StoreError::not_found);
  EXPECT_EQ(run(db->outbound().stats())->pending_recipients, 0);
  EXPECT_TRUE(run(db->outbound().claim(10, 600s))->recipients.empty());
  drain_release_queue();
  EXPECT_EQ(qi("SELECT count(*) FROM messages"), 0);
}

TEST_F(OutboundQueueTest, DkimKeysRotate) {
  auto db = open_db();
  DkimKey k;
  k.domain = "example.gov.vn";
  k.selector = "s1";
  k.algorithm = "ed25519-sha256";
  k.private_pem = "pem1";
  k.public_b64 = "pub1";
  ASSERT_TRUE(run(db->outbound().add_dkim_key(k)).ok());
  k.selector = "s2";
  ASSERT_TRUE(run(db->outbound().add_dkim_key(k)).ok());
  EXPECT_EQ(run(db->outbound().add_dkim_key(k)).error(), StoreError::exists);
  auto keys = run(db->outbound().dkim_keys("example.gov.vn"));
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].selector, "s2");
  EXPECT_TRUE((*keys)[0].active);
  EXPECT_FALSE((*keys)[1].active);
}

}  // namespace
}  // namespace govmail::store::testing

namespace govmail::store::testing {
namespace {

// What a worker does with many jobs at once: one query for the small messages, one statement
// recording outcomes of two claims, and a lease renewal that keeps only what is still held.
TEST_F(OutboundQueueTest, BatchesAcrossClaimsAndLeaseRenewal) {
  auto db = open_db();
  enqueue(db, "a@example.gov.vn", 1);
  enqueue(db, "a@example.gov.vn", 1);
  auto first = run(db->outbound().claim(1, 600s));
  auto second = run(db->outbound().claim(1, 1s));
  ASSERT_EQ(first->recipients.size(), 1u);
  ASSERT_EQ(second->recipients.size(), 1u);
  const auto& r1 = first->recipients[0];
  const auto& r2 = second->recipients[0];
  auto raws = run(db->outbound().small_messages({r1.message_id, 999999, r2.message_id}, 1 << 20));
  ASSERT_TRUE(raws.ok());
  ASSERT_EQ(raws->size(), 3u);
  EXPECT_TRUE((*raws)[0] && (*raws)[0]->find("Subject:") != std::string::npos);
  EXPECT_FALSE((*raws)[1]);  // no such message
  EXPECT_TRUE((*raws)[2]);
  EXPECT_FALSE((*run(db->outbound().small_messages({r1.message_id}, 10)))[0]);  // too big
  // The second claim's lease ends; another worker takes it: renewal no longer holds it.
  std::this_thread::sleep_for(1200ms);
  auto third = run(db->outbound().claim(5, 600s));
  ASSERT_EQ(third->recipients.size(), 1u);
  auto held = run(db->outbound().renew(second->token, {{r2.queue_id, r2.ordinal}}, 600s));
  ASSERT_TRUE(held.ok());
  EXPECT_TRUE(held->empty());
  held = run(db->outbound().renew(first->token, {{r1.queue_id, r1.ordinal}}, 600s));
  ASSERT_EQ(held->size(), 1u);
  // One statement, two claims; the stale one is skipped.
  AttemptOutcome a = outcome(r1, RecipientStatus::delivered);
  a.claim = first->token;
  AttemptOutcome b = outcome(third->recipients[0], RecipientStatus::delivered);
  b.claim = third->token;
  AttemptOutcome stale = outcome(r2, RecipientStatus::bounced);
  stale.claim = second->token;
  EXPECT_EQ(*run(db->outbound().record(0, {a, b, stale})), 2);
  EXPECT_EQ(run(db->outbound().stats())->pending_recipients, 0);
  EXPECT_EQ(qi("SELECT count(*) FROM outbound_recipients WHERE status = 3"), 0);
}

}  // namespace
}  // namespace govmail::store::testing
