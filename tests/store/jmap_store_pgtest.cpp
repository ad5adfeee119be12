// JMAP core's store (migration 0015) against a real PostgreSQL: login tokens found by their hash
// only while live (idle and absolute expiry, credentials unchanged, account active), uploads
// and message bytes readable by their own account only, the sweep, the account state, and the
// account-wide change subscription that push uses.
#include <openssl/sha.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "store/jmap_store.hpp"
#include "store_fixture.hpp"

namespace govmail::store::testing {
namespace {

std::string digest(std::string_view s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return std::string(reinterpret_cast<const char*>(d), sizeof d);
}

class JmapStoreTest : public StoreTest {
 protected:
  JmapStore& jmap() { return db_->jmap(); }
};

TEST_F(JmapStoreTest, SessionsLiveUntilExpiryOrACredentialsChange) {
  Account alice = add_account("alice@example.gov.vn");
  Account bob = add_account("bob@example.gov.vn");
  ASSERT_TRUE(run(jmap().create_session(alice.id, digest("t1"), digest("c1"), 3600)).ok());
  ASSERT_TRUE(run(jmap().create_session(alice.id, digest("t2"), digest("c2"), 3600)).ok());
  ASSERT_TRUE(run(jmap().create_session(bob.id, digest("t3"), digest("c3"), 3600)).ok());
  auto s = run(jmap().find_session(digest("t1"), 600));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->account_id, alice.id);
  EXPECT_EQ(s->address, "alice@example.gov.vn");
  EXPECT_EQ(s->csrf_sha256_hex.size(), 64u);
  EXPECT_EQ(run(jmap().find_session(digest("nope"), 600)).error(), StoreError::not_found);

  tdb_.exec("UPDATE jmap_sessions SET last_used_at = now() - interval '20 minutes'");
  EXPECT_EQ(run(jmap().find_session(digest("t1"), 600)).error(), StoreError::not_found)
      << "idle longer than the idle timeout";
  EXPECT_TRUE(run(jmap().find_session(digest("t1"), 3600)).ok());
  EXPECT_TRUE(run(jmap().find_session(digest("t1"), 600)).ok()) << "marked used by the find";

  tdb_.exec(
      "UPDATE jmap_sessions SET expires_at = now() - interval '1 second' WHERE account_id = " +
      std::to_string(alice.id));
  EXPECT_EQ(run(jmap().find_session(digest("t1"), 600)).error(), StoreError::not_found);
  EXPECT_TRUE(run(jmap().find_session(digest("t3"), 3600)).ok()) << "bob's session: only idle";
  EXPECT_EQ(run(jmap().sweep()).value(), 2);
  EXPECT_EQ(tdb_.query_one("SELECT count(*) FROM jmap_sessions"), "1");

  ASSERT_TRUE(run(dir().set_status(bob.id, AccountStatus::suspended)).ok());
  EXPECT_EQ(run(jmap().find_session(digest("t3"), 600)).error(), StoreError::not_found);
  ASSERT_TRUE(run(dir().set_status(bob.id, AccountStatus::active)).ok());
  EXPECT_EQ(run(jmap().find_session(digest("t3"), 600)).error(), StoreError::not_found)
      << "a restored account does not revive tokens from before";
  ASSERT_TRUE(run(jmap().create_session(bob.id, digest("t4"), digest("c4"), 3600)).ok());
  EXPECT_TRUE(run(jmap().find_session(digest("t4"), 600)).ok());
  ASSERT_TRUE(run(dir().set_password(bob.id, "$argon2id$x", false)).ok());
  EXPECT_EQ(run(jmap().find_session(digest("t4"), 600)).error(), StoreError::not_found);
  ASSERT_TRUE(run(jmap().create_session(bob.id, digest("t5"), digest("c5"), 3600)).ok());
  ASSERT_TRUE(run(jmap().delete_session(digest("t5"))).ok());
  EXPECT_EQ(run(jmap().find_session(digest("t5"), 600)).error(), StoreError::not_found);
  ASSERT_TRUE(run(dir().set_status(bob.id, AccountStatus::suspended)).ok());
  EXPECT_EQ(run(jmap().create_session(bob.id, digest("t6"), digest("c6"), 3600)).error(),
            StoreError::not_found)
      << "no session for an inactive account";
}

TEST_F(JmapStoreTest, BlobsAreTheAccountsOwn) {
  Account alice = add_account("alice@example.gov.vn");
  Account bob = add_account("bob@example.gov.vn");
  const std::string bytes("\x00\x01" "binary" "\xff", 9);  // split: "\x01b" would be one escape
  ASSERT_TRUE(
      run(jmap().put_upload(alice.id, digest(bytes), "application/x-test", bytes, 3600)).ok());
  auto b = run(jmap().read_blob(alice.id, digest(bytes)));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->data, bytes);
  EXPECT_EQ(b->type, "application/x-test");
  EXPECT_EQ(run(jmap().read_blob(bob.id, digest(bytes))).error(), StoreError::not_found);
  ASSERT_TRUE(
      run(jmap().put_upload(alice.id, digest(bytes), "application/x-test", bytes, 3600)).ok())
      << "the same upload again";

  const std::string raw = sample_message(1);
  AppendResult a = append(alice.id, mailbox(alice.id, "INBOX").id, raw);
  auto m = run(jmap().read_blob(alice.id, digest(raw)));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->data, raw);
  EXPECT_EQ(m->type, "message/rfc822");
  EXPECT_EQ(run(jmap().read_blob(bob.id, digest(raw))).error(), StoreError::not_found);

  EXPECT_EQ(run(jmap().account_modseq(alice.id)).value(), a.modseq);
  tdb_.exec("UPDATE jmap_uploads SET expires_at = now() - interval '1 second'");
  EXPECT_EQ(run(jmap().read_blob(alice.id, digest(bytes))).error(), StoreError::not_found);
  EXPECT_EQ(run(jmap().sweep()).value(), 1);
}

TEST_F(JmapStoreTest, AccountSubscriptionHearsEveryMailboxOfTheAccountFromAnotherProcess) {
  Account alice = add_account("alice@example.gov.vn");
  Account bob = add_account("bob@example.gov.vn");
  auto other = open_db();  // another "process": its changes come back through NOTIFY
  std::atomic<int> heard{0};
  std::atomic<ModSeq> last{0};
  auto sub = db_->subscribe_account_mailboxes(alice.id, [&](const MailboxEvent& ev) {
    if (ev.account_id == alice.id) last = ev.modseq;
    ++heard;
  });
  (void)run(other->mailboxes().create_mailbox(alice.id, "Dự án"));
  Mailbox project = mailbox(alice.id, "Dự án");
  AppendResult a;
  {
    AppendRequest req;
    req.raw = std::make_shared<const std::string>(sample_message(2));
    auto r = run(other->mailboxes().append(alice.id, project.id, std::move(req)));
    ASSERT_TRUE(r.ok());
    a = *r;
  }
  AppendRequest breq;
  breq.raw = std::make_shared<const std::string>(sample_message(3));
  ASSERT_TRUE(
      run(other->mailboxes().append(bob.id, mailbox(bob.id, "INBOX").id, std::move(breq))).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (last.load() != a.modseq && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(last.load(), a.modseq) << "the append in a new mailbox, through the other process";
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int before = heard.load();
  sub.reset();
  AppendRequest again;
  again.raw = std::make_shared<const std::string>(sample_message(4));
  ASSERT_TRUE(run(other->mailboxes().append(alice.id, project.id, std::move(again))).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(heard.load(), before) << "nothing after unsubscribing";
}

}  // namespace
}  // namespace govmail::store::testing
