// POP3's maildrop lease and leased expunge against a real PostgreSQL: one holder at a time,
// renewal by the holder, takeover only after expiry, and the UPDATE state expunging exactly the
// UIDs given (whatever their flags) through the change log, or nothing once the lease was lost.
#include "store_fixture.hpp"

namespace govmail::store::testing {
namespace {

using MailboxLeaseTest = StoreTest;
using std::chrono::seconds;

TEST_F(MailboxLeaseTest, OneHolderAtATimeUntilReleasedOrExpired) {
  auto a = add_account("lease@example.gov.vn");
  auto inbox = mailbox(a.id, "INBOX");
  EXPECT_EQ(run(store().lease_mailbox(a.id, inbox.id, "one", seconds(60))).value(), true);
  EXPECT_EQ(run(store().lease_mailbox(a.id, inbox.id, "two", seconds(60))).value(), false);
  EXPECT_EQ(run(store().lease_mailbox(a.id, inbox.id, "one", seconds(60))).value(), true);
  ASSERT_TRUE(run(store().release_lease(a.id, inbox.id, "two")).ok());  // not its lease: no-op
  EXPECT_EQ(run(store().lease_mailbox(a.id, inbox.id, "two", seconds(60))).value(), false);
  ASSERT_TRUE(run(store().release_lease(a.id, inbox.id, "one")).ok());
  EXPECT_EQ(run(store().lease_mailbox(a.id, inbox.id, "two", seconds(60))).value(), true);
  // An expired lease (a killed process) is taken over.
  EXPECT_EQ(run(store().lease_mailbox(a.id, inbox.id, "two", seconds(0))).value(), true);
  EXPECT_EQ(run(store().lease_mailbox(a.id, inbox.id, "three", seconds(60))).value(), true);
  // Another account cannot lease (or release) this mailbox.
  auto b = add_account("other-lease@example.gov.vn");
  EXPECT_EQ(run(store().lease_mailbox(b.id, inbox.id, "x", seconds(0))).value(), false);
}

TEST_F(MailboxLeaseTest, LeasedExpungeDeletesTheGivenUidsAndReleases) {
  auto a = add_account("update@example.gov.vn");
  auto inbox = mailbox(a.id, "INBOX");
  for (int i = 0; i < 5; ++i) append(a.id, inbox.id, sample_message(i));
  // uid 4 carries \Deleted from IMAP but is not among POP3's: it stays.
  ASSERT_TRUE(run(store().set_flags(a.id, inbox.id, {{4, 4}}, FlagOp::add, Flags{kDeleted, {}})));
  const ModSeq before = mailbox(a.id, "INBOX").highestmodseq;
  ASSERT_TRUE(run(store().lease_mailbox(a.id, inbox.id, "s1", seconds(60))).value());
  auto lost = run(store().expunge_leased(a.id, inbox.id, "s2", {{1, 1}}));
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error(), StoreError::conflict);
  auto gone = run(store().expunge_leased(a.id, inbox.id, "s1", {{1, 1}, {3, 3}, {5, 5}}));
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->uids, (std::vector<Uid>{1, 3, 5}));
  EXPECT_EQ(gone->step.prior, before);
  auto after = mailbox(a.id, "INBOX");
  EXPECT_EQ(after.messages, 2u);
  EXPECT_EQ(after.highestmodseq, gone->step.modseq);
  auto ch = run(store().changes_since(a.id, inbox.id, before));
  ASSERT_TRUE(ch.ok());
  EXPECT_EQ(ch->expunged, (std::vector<Uid>{1, 3, 5}));  // what IMAP sessions are told
  // Released with the expunge: the next session gets the mailbox; the old holder cannot expunge.
  EXPECT_EQ(run(store().lease_mailbox(a.id, inbox.id, "s3", seconds(60))).value(), true);
  auto again = run(store().expunge_leased(a.id, inbox.id, "s1", {{2, 2}}));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(mailbox(a.id, "INBOX").messages, 2u);
}

}  // namespace
}  // namespace govmail::store::testing
