// Database::open (migrations), cross-process notifications, crash safety, the directory.
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "store_fixture.hpp"

namespace govmail::store::testing {
namespace {

using namespace std::chrono_literals;
using DatabaseTest = StoreTest;

TEST_F(DatabaseTest, MigrationsAreIdempotentAndNewerSchemaIsRefused) {
  EXPECT_GE(Database::binary_schema_version(), 1);
  auto v = run(db_->schema_version());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, Database::binary_schema_version());
  auto again = open_db();  // a second process starting against the same database
  ASSERT_TRUE(again);
  // Each migration once (numbers may have gaps: each branch has its own).
  EXPECT_EQ(qi("SELECT max(version) FROM schema_migrations"), Database::binary_schema_version());
  EXPECT_EQ(qi("SELECT count(*) - count(DISTINCT version) FROM schema_migrations"), 0);

  q("INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future')");
  DatabaseOptions o;
  o.url = tdb_.url();
  auto r = run(Database::open(io_.get_executor(), o));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), StoreError::permanent);
}

// govmail_deliver keeps its plans per connection; planned on an empty database, its References
// lookup scanned the whole messages table for every delivery until autovacuum analysed it
// (migration 0034). A migration that replaces the function must keep the setting.
TEST_F(DatabaseTest, DeliveryNeverPlansASequentialScan) {
  EXPECT_GE(qi("SELECT count(*) FROM pg_proc WHERE proname = 'govmail_deliver'"), 1);
  EXPECT_EQ(qi("SELECT count(*) FROM pg_proc WHERE proname = 'govmail_deliver' AND NOT"
               " ('enable_seqscan=off' = ANY (coalesce(proconfig, '{}')))"),
            0);
}

TEST_F(DatabaseTest, UnreachableDatabaseIsUnavailable) {
  DatabaseOptions o;
  o.url = "host=/nonexistent-govmail-socket-dir port=1 user=postgres dbname=x connect_timeout=2";
  o.acquire_timeout = 3000ms;
  auto r = run(Database::open(io_.get_executor(), o));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), StoreError::unavailable);
}

TEST_F(DatabaseTest, ChangeFromAnotherProcessIsAnnouncedWithinASecond) {
  auto a = add_account("notify@example.gov.vn");
  auto inbox = mailbox(a.id, "INBOX");
  auto other = open_db();  // stands for a second govmail process
  ASSERT_TRUE(other);
  std::promise<MailboxEvent> got;
  std::atomic<bool> once{false};
  auto sub = db_->subscribe_mailbox(inbox.id, [&](const MailboxEvent& ev) {
    if (!once.exchange(true)) got.set_value(ev);
  });
  AppendRequest req;
  req.raw = std::make_shared<const std::string>(sample_message(1));
  auto start = std::chrono::steady_clock::now();
  auto r = run(other->mailboxes().append(a.id, inbox.id, req));
  ASSERT_TRUE(r.ok());
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(1s), std::future_status::ready);
  auto ev = f.get();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(ev.account_id, a.id);
  EXPECT_EQ(ev.mailbox_id, inbox.id);
  EXPECT_EQ(ev.modseq, r->modseq);

  // After unsubscribing nothing more arrives.
  sub.reset();
  std::atomic<int> count{0};
  auto junk = mailbox(a.id, "Junk");
  auto sub2 = db_->subscribe_mailbox(junk.id, [&](const MailboxEvent&) { ++count; });
  (void)run(other->mailboxes().append(a.id, inbox.id, req));
  (void)run(other->mailboxes().append(a.id, junk.id, req));
  for (int i = 0; i < 100 && count == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(count, 1);
}

TEST_F(DatabaseTest, PasswordChangeReachesAccountSubscribers) {
  auto a = add_account("pw@example.gov.vn");
  auto other = open_db();
  std::promise<AccountChange> got;
  std::atomic<bool> once{false};
  auto sub = db_->subscribe_account_changes([&](const AccountChange& c) {
    if (c.account_id != 0 && !once.exchange(true)) got.set_value(c);
  });
  auto before = run(dir().credentials("PW@example.gov.vn"));
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(run(other->directory().set_password(a.id, "$argon2id$new", false)).ok());
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(1s), std::future_status::ready);
  const AccountChange change = f.get();
  EXPECT_EQ(change.account_id, a.id);
  auto after = run(dir().credentials("pw@example.gov.vn"));
  EXPECT_EQ(after->password_hash, "$argon2id$new");
  EXPECT_GT(after->credentials_version, before->credentials_version);
  // The notification names the version the change produced: sessions that read it stay.
  EXPECT_EQ(change.credentials_version, after->credentials_version);
  ASSERT_TRUE(run(dir().set_status(a.id, AccountStatus::suspended)).ok());
  EXPECT_EQ(run(dir().credentials("pw@example.gov.vn"))->status, AccountStatus::suspended);
  EXPECT_EQ(run(dir().set_password(999999, "$x", false)).error(), StoreError::not_found);
}

// Every change that must end an account's open sessions (password, status, address, app
// passwords; made by the admin API, the CLI or a bulk operation) is announced to every process.
TEST_F(DatabaseTest, EveryCredentialsChangeIsAnnouncedToOtherProcesses) {
  auto a = add_account("creds@example.gov.vn");
  auto b = add_account("creds2@example.gov.vn");
  auto other = open_db();  // the process where the change is made
  ASSERT_TRUE(other);
  std::mutex mu;
  std::vector<std::pair<AccountId, std::uint64_t>> heard;
  auto sub = db_->subscribe_account_changes([&](const AccountChange& c) {
    std::lock_guard lock(mu);
    heard.emplace_back(c.account_id, c.credentials_version);
  });
  // Announced with the version the account has now.
  auto announced = [&](AccountId id) {
    const auto version = static_cast<std::uint64_t>(
        qi("SELECT credentials_version FROM accounts WHERE id = " + std::to_string(id)));
    const std::pair<AccountId, std::uint64_t> want{id, version};
    for (int i = 0; i < 200; ++i) {
      {
        std::lock_guard lock(mu);
        if (std::find(heard.begin(), heard.end(), want) != heard.end()) {
          heard.clear();
          return true;
        }
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  };
  auto& admin = other->admin();
  ASSERT_TRUE(run(other->directory().set_password(a.id, "$argon2id$x", false)).ok());
  EXPECT_TRUE(announced(a.id)) << "set_password";
  ASSERT_TRUE(run(other->directory().set_status(a.id, AccountStatus::suspended)).ok());
  EXPECT_TRUE(announced(a.id)) << "directory set_status";
  ASSERT_TRUE(run(admin.set_account_status(a.id, AccountStatus::active)).ok());
  EXPECT_TRUE(announced(a.id)) << "set_account_status";
  std::vector<std::string> both{"creds@example.gov.vn", "creds2@example.gov.vn"};
  ASSERT_TRUE(run(admin.set_status_many(both, AccountStatus::suspended)).ok());
  EXPECT_TRUE(announced(b.id)) << "set_status_many";
  ASSERT_TRUE(run(admin.set_account_status(a.id, AccountStatus::deleted)).ok());
  EXPECT_TRUE(announced(a.id)) << "delete";
  ASSERT_TRUE(run(admin.rename_account(b.id, "renamed@example.gov.vn", false)).ok());
  EXPECT_TRUE(announced(b.id)) << "rename_account";
  ASSERT_TRUE(run(admin.add_app_password(b.id, "phone", "$argon2id$app")).ok());
  ASSERT_TRUE(run(admin.remove_app_password(b.id, "phone")).ok());
  EXPECT_TRUE(announced(b.id)) << "remove_app_password";
}

// A delivery whose connection is killed while it waits for a row lock, half-way through its
// work (the first recipient's account is already charged), leaves nothing behind.
TEST_F(DatabaseTest, KilledConnectionMidTransactionLeavesNothingHalfWritten) {
  auto first = add_account("first@example.gov.vn");
  auto second = add_account("second@example.gov.vn");
  ASSERT_LT(first.id, second.id);
  PGconn* locker = PQconnectdb(tdb_.url().c_str());
  ASSERT_EQ(PQstatus(locker), CONNECTION_OK);
  PQclear(PQexec(locker, "BEGIN"));
  PQclear(PQexec(
      locker,
      ("SELECT 1 FROM accounts WHERE id = " + std::to_string(second.id) + " FOR UPDATE").c_str()));

  Delivery d;
  d.raw = std::make_shared<const std::string>(sample_message(7, 3000));
  d.local = {{first.id, std::nullopt}, {second.id, std::nullopt}};
  auto pending = spawn(store().deliver(d));
  // Wait until the delivery is blocked on the lock, then kill its backend.
  std::int64_t killed = 0;
  for (int i = 0; i < 200 && killed == 0; ++i) {
    std::this_thread::sleep_for(10ms);
    killed =
        qi("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
           "current_database() AND wait_event_type = 'Lock' AND query LIKE '%govmail_deliver%'");
  }
  ASSERT_EQ(killed, 1);
  auto r = pending.get();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error() == StoreError::unavailable || r.error() == StoreError::temporary)
      << to_string(r.error());
  PQclear(PQexec(locker, "COMMIT"));
  PQfinish(locker);

  EXPECT_EQ(qi("SELECT count(*) FROM blobs"), 0);
  EXPECT_EQ(qi("SELECT count(*) FROM messages"), 0);
  EXPECT_EQ(qi("SELECT count(*) FROM mailbox_entries"), 0);
  EXPECT_EQ(qi("SELECT count(*) FROM index_queue"), 0);
  EXPECT_EQ(run(store().quota(first.id))->used_bytes, 0u);
  EXPECT_EQ(mailbox(first.id, "INBOX").uidnext, 1u);
  // The pool replaced the dead connection: the same delivery now succeeds.
  auto ok = run(store().deliver(d));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->local[0].uid, 1u);
  EXPECT_EQ(ok->local[1].uid, 1u);
}

TEST_F(DatabaseTest, DirectoryAccountsAliasesAndResolution) {
  auto dom = run(dir().add_domain("Tinh.Gov.VN"));
  ASSERT_TRUE(dom.ok());
  EXPECT_EQ(dom->name, "tinh.gov.vn");
  EXPECT_EQ(run(dir().add_domain("tinh.gov.vn")).error(), StoreError::exists);
  EXPECT_EQ(run(dir().add_domain("bad domain")).error(), StoreError::invalid);
  NewAccount n;
  n.address = "Vinh.Nguyen@tinh.gov.vn";
  n.display_name = "Nguyễn Quang Vinh";
  n.password_hash = "$argon2id$x";
  n.quota_bytes = 1 << 30;
  auto a = run(dir().add_account(n));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->address, "vinh.nguyen@tinh.gov.vn");
  EXPECT_EQ(a->display_name, "Nguyễn Quang Vinh");
  EXPECT_EQ(run(dir().add_account(n)).error(), StoreError::exists);
  n.address = "x@unknown.vn";
  EXPECT_EQ(run(dir().add_account(n)).error(), StoreError::not_found);
  EXPECT_EQ(run(dir().list_accounts("tinh.gov.vn"))->size(), 1u);
  EXPECT_EQ(run(dir().get_account(a->id))->quota_bytes, 1u << 30);

  ASSERT_TRUE(run(dir().add_alias("vanthu@tinh.gov.vn", a->id)).ok());
  EXPECT_EQ(run(dir().add_alias("vinh.nguyen@tinh.gov.vn", a->id)).error(), StoreError::exists);
  auto r = run(dir().resolve("VanThu@tinh.gov.vn"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accounts, std::vector<AccountId>{a->id});
  EXPECT_EQ(run(dir().resolve("nobody@tinh.gov.vn")).error(), StoreError::not_found);

  // An alias domain maps local parts onto the real domain.
  q("INSERT INTO domains (name, alias_of) VALUES ('tinh.vn', " + std::to_string(dom->id) + ")");
  EXPECT_EQ(run(dir().resolve("vinh.nguyen@tinh.vn"))->accounts, std::vector<AccountId>{a->id});
  // A group expands to its members.
  auto b = add_account("b@tinh.gov.vn");
  q("INSERT INTO groups (address) VALUES ('all@tinh.gov.vn')");
  q("INSERT INTO group_members SELECT g.id, a.id FROM groups g, accounts a");
  auto g = run(dir().resolve("all@tinh.gov.vn"));
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->is_group);
  EXPECT_EQ(g->accounts, (std::vector<AccountId>{a->id, b.id}));
  ASSERT_TRUE(run(dir().set_status(b.id, AccountStatus::deleted)).ok());
  EXPECT_EQ(run(dir().resolve("all@tinh.gov.vn"))->accounts, std::vector<AccountId>{a->id});
}

}  // namespace
}  // namespace govmail::store::testing
