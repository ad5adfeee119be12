// Expunge leaves the storage to the background sweeper (message_release_queue):
// the quota is exact at once, nothing still referenced is ever freed, and
// unreferenced messages and blobs are eventually freed by the sweeper that
// Database::open starts.
#include <chrono>
#include <thread>

#include "store_fixture.hpp"

namespace govmail::store::testing {
namespace {

class ReleaseSweepTest : public StoreTest {
 protected:
  void expunge_all(AccountId account, MailboxId mailbox) {
    ASSERT_TRUE(run(store().set_flags(account, mailbox, {{1, UINT32_MAX}}, FlagOp::add,
                                      Flags{kDeleted, {}}))
                    .ok());
    ASSERT_TRUE(run(store().expunge(account, mailbox)).ok());
  }
};

TEST_F(ReleaseSweepTest, SweepFreesOnlyWhatNothingRefersTo) {
  auto a = add_account("sweep-a@example.gov.vn");
  auto b = add_account("sweep-b@example.gov.vn");
  auto inbox = mailbox(a.id, "INBOX");
  auto kept = append(a.id, inbox.id, sample_message(1, 3000));    // also copied to Archive
  auto shared = append(a.id, inbox.id, sample_message(2, 3000));  // same bytes in b's INBOX
  auto other = append(b.id, mailbox(b.id, "INBOX").id, sample_message(2, 3000));
  (void)append(a.id, inbox.id, sample_message(3, 3000));  // nothing else refers to it
  auto archive = mailbox(a.id, "Archive");
  ASSERT_TRUE(run(store().copy(a.id, inbox.id, {{kept.uid, kept.uid}}, archive.id)).ok());
  ASSERT_EQ(qi("SELECT count(*) FROM messages"), 4);
  ASSERT_EQ(qi("SELECT count(*) FROM blobs"), 2 + 1);

  expunge_all(a.id, inbox.id);
  // The quota is exact in the expunge's own transaction: only the Archive copy
  // is left.
  EXPECT_EQ(run(store().quota(a.id))->used_messages, 1u);
  EXPECT_EQ(run(store().quota(a.id))->used_bytes,
            static_cast<std::uint64_t>(qi("SELECT m.size FROM messages m JOIN mailbox_entries e ON "
                                          "e.message_id = m.id WHERE e.account_id = " +
                                          std::to_string(a.id))));
  drain_release_queue();
  // The copied message and b's message (and the blob it shares) survive, with
  // their bytes.
  EXPECT_EQ(qi("SELECT count(*) FROM messages"), 2);
  EXPECT_EQ(qi("SELECT count(*) FROM blobs"), 2);
  EXPECT_EQ(qi("SELECT sum(refcount) FROM blobs"), 2);
  EXPECT_EQ(*run(store().fetch_raw(a.id, kept.message_id)), sample_message(1, 3000));
  EXPECT_EQ(*run(store().fetch_raw(b.id, other.message_id)), sample_message(2, 3000));
  EXPECT_EQ(qi("SELECT count(*) FROM messages WHERE id = " + std::to_string(shared.message_id)), 0);

  // Unreferenced storage is eventually freed by the background sweeper alone.
  expunge_all(a.id, archive.id);
  expunge_all(b.id, mailbox(b.id, "INBOX").id);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (qi("SELECT count(*) FROM messages") + qi("SELECT count(*) FROM blobs") > 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(qi("SELECT count(*) FROM messages"), 0);
  EXPECT_EQ(qi("SELECT count(*) FROM blobs"), 0);
  EXPECT_EQ(qi("SELECT count(*) FROM message_release_queue"), 0);
}

// A sweep that dies before COMMIT loses nothing: its queue rows come back with
// the messages.
TEST_F(ReleaseSweepTest, AnAbortedSweepLeavesTheQueueForTheNextOne) {
  auto a = add_account("sweep-c@example.gov.vn");
  auto inbox = mailbox(a.id, "INBOX");
  (void)append(a.id, inbox.id, sample_message(7, 2000));
  db_->close();  // no background sweeper from here on: SQL only
  q("UPDATE mailbox_entries SET flags = 8");
  EXPECT_EQ(qi("SELECT count(*) FROM govmail_expunge(" + std::to_string(a.id) + ", " +
               std::to_string(inbox.id) + ", NULL, NULL)"),
            1);
  EXPECT_EQ(qi("SELECT used_messages FROM accounts WHERE id = " + std::to_string(a.id)), 0);
  EXPECT_EQ(qi("SELECT count(*) FROM message_release_queue"), 1);
  EXPECT_ANY_THROW(
      q("DO $$ BEGIN PERFORM govmail_sweep_messages(10); "
        "RAISE EXCEPTION 'crash'; END $$"));
  EXPECT_EQ(qi("SELECT count(*) FROM message_release_queue"), 1);
  EXPECT_EQ(qi("SELECT count(*) FROM messages"), 1);
  EXPECT_EQ(qi("SELECT govmail_sweep_messages(10)"), 1);
  EXPECT_EQ(qi("SELECT count(*) FROM messages"), 0);
  EXPECT_EQ(qi("SELECT count(*) FROM blobs"), 0);
}

}  // namespace
}  // namespace govmail::store::testing
