// POP3 sessions without sockets or a database (STYLE.md 18), on a fake store: refusals and
// limits before login, the snapshot, dot-stuffed RETR, DELE applied only by QUIT (with exactly
// the UIDs deleted), RSET, IN-USE, and a session ending without QUIT deleting nothing.
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>

#include "core/asio.hpp"
#include "pop3/backend.hpp"
#include "pop3/session.hpp"

namespace govmail::pop3 {
namespace {

using store::Result;
using store::StoreError;

// The store calls a POP3 session makes; any other one fails the test.
class FakeStore final : public store::MailboxStore {
 public:
  std::map<store::Uid, std::string> inbox{{3, "Subject: a\r\n\r\n.dot\r\n"}, {7, "B"}};
  bool leased_elsewhere = false;
  int releases = 0;
  std::vector<store::UidSet> expunges;
  using MailboxStore::fetch_meta;

  awaitable<Result<store::Mailbox>> get_mailbox(store::AccountId, std::string name) override {
    store::Mailbox m;
    m.id = 11;
    m.name = name;
    m.uidvalidity = 0x1234;
    co_return m;
  }
  awaitable<Result<bool>> lease_mailbox(store::AccountId, store::MailboxId, std::string,
                                        std::chrono::seconds) override {
    co_return !leased_elsewhere;
  }
  awaitable<Result<void>> release_lease(store::AccountId, store::MailboxId, std::string) override {
    ++releases;
    co_return Result<void>{};
  }
  awaitable<Result<store::Expunged>> expunge_leased(store::AccountId, store::MailboxId, std::string,
                                                    store::UidSet uids) override {
    expunges.push_back(uids);
    store::Expunged e;
    for (auto& r : uids) e.uids.push_back(r.first);
    co_return e;
  }
  awaitable<Result<std::vector<store::MailboxEntry>>> list_entries(store::AccountId,
                                                                   store::MailboxId, store::UidSet,
                                                                   bool) override {
    std::vector<store::MailboxEntry> out;
    for (auto& [uid, raw] : inbox) {
      store::MailboxEntry e;
      e.uid = uid;
      e.message_id = uid * 100;
      e.size = static_cast<std::uint32_t>(raw.size());
      out.push_back(e);
    }
    co_return out;
  }
  awaitable<Result<std::string>> fetch_raw(store::AccountId, store::MessageId id, std::uint64_t,
                                           std::optional<std::uint64_t>) override {
    co_return inbox.at(static_cast<store::Uid>(id / 100));
  }
  awaitable<Result<std::vector<Raw>>> fetch_raws(store::AccountId,
                                                 std::vector<store::MessageId> ids,
                                                 RawPart) override {
    std::vector<Raw> out;
    for (auto id : ids) out.push_back({id, inbox.at(static_cast<store::Uid>(id / 100))});
    co_return out;
  }
  awaitable<Result<void>> save_imap_forms(store::AccountId, std::int32_t,
                                          std::vector<store::ImapForms>) override {
    co_return Result<void>{};
  }

#define GOVMAIL_UNUSED(...) \
  { throw std::logic_error("not used by POP3"); }
  awaitable<Result<std::vector<store::Mailbox>>> list_mailboxes(store::AccountId) override
      GOVMAIL_UNUSED();
  awaitable<Result<store::Mailbox>> get_mailbox(store::AccountId, store::MailboxId) override
      GOVMAIL_UNUSED();
  awaitable<Result<Opened>> open_mailbox(store::AccountId, std::string, bool) override
      GOVMAIL_UNUSED();
  awaitable<Result<store::RecentClaim>> claim_recent(store::AccountId, store::MailboxId) override
      GOVMAIL_UNUSED();
  awaitable<Result<store::Mailbox>> create_mailbox(store::AccountId, std::string,
                                                   store::SpecialUse) override GOVMAIL_UNUSED();
  awaitable<Result<void>> rename_mailbox(store::AccountId, store::MailboxId, std::string) override
      GOVMAIL_UNUSED();
  awaitable<Result<void>> delete_mailbox(store::AccountId, store::MailboxId) override
      GOVMAIL_UNUSED();
  awaitable<Result<std::vector<std::string>>> list_subscriptions(store::AccountId) override
      GOVMAIL_UNUSED();
  awaitable<Result<void>> set_subscribed(store::AccountId, std::string, bool) override
      GOVMAIL_UNUSED();
  awaitable<Result<store::AppendResult>> append(store::AccountId, std::optional<store::MailboxId>,
                                                store::AppendRequest) override GOVMAIL_UNUSED();
  awaitable<Result<store::DeliveryResult>> deliver(store::Delivery) override GOVMAIL_UNUSED();
  awaitable<Result<std::vector<store::MessageMeta>>> fetch_meta(store::AccountId, store::MailboxId,
                                                                store::UidSet, MetaParts) override
      GOVMAIL_UNUSED();
  awaitable<Result<std::vector<EntryWithRaw>>> list_entries_with_raws(
      store::AccountId, store::MailboxId, store::UidSet, std::uint64_t) override GOVMAIL_UNUSED();
  awaitable<Result<FlagUpdate>> set_flags(store::AccountId, store::MailboxId, store::UidSet,
                                          store::FlagOp, store::Flags,
                                          std::optional<store::ModSeq>) override GOVMAIL_UNUSED();
  awaitable<Result<store::UidMapping>> copy(store::AccountId, store::MailboxId, store::UidSet,
                                            store::MailboxId) override GOVMAIL_UNUSED();
  awaitable<Result<store::UidMapping>> move(store::AccountId, store::MailboxId, store::UidSet,
                                            store::MailboxId) override GOVMAIL_UNUSED();
  awaitable<Result<store::Expunged>> expunge(store::AccountId, store::MailboxId,
                                             std::optional<store::UidSet>) override
      GOVMAIL_UNUSED();
  awaitable<Result<store::MailboxChanges>> changes_since(store::AccountId, store::MailboxId,
                                                         store::ModSeq) override GOVMAIL_UNUSED();
  awaitable<Result<std::vector<store::ChangeRecord>>> account_changes_since(store::AccountId,
                                                                            store::ModSeq,
                                                                            std::size_t) override
      GOVMAIL_UNUSED();
  awaitable<Result<store::Quota>> quota(store::AccountId) override GOVMAIL_UNUSED();
#undef GOVMAIL_UNUSED
};

struct FakeBackend : Backend {
  FakeStore store;
  awaitable<core::AuthResult> authenticate(std::string user, std::string pw, std::string) override {
    core::AuthResult r;
    if (user == "a@example.gov.vn" && pw == "pw two") {
      r.outcome = core::AuthOutcome::ok;
      r.account_id = 1;
      r.address = user;
    }
    co_return r;
  }
  store::MailboxStore& mailboxes() override { return store; }
};

// The session keeps a reference to its config: the client owns a copy (tests pass temporaries).
class Client {
 public:
  Client(SessionConfig cfg, ConnectionInfo conn)
      : cfg_(std::move(cfg)), session_(cfg_, backend, std::move(conn)) {}
  std::string send(std::string_view bytes) {
    session_.feed(bytes);
    std::string out;
    // A static coroutine with parameters: a lambda coroutine would read its captures from a
    // lambda object gone when co_spawn returns (GCC 12, docs/NOTES.md).
    asio::co_spawn(io_, drive(session_, out, closed), asio::detached);
    io_.run();
    io_.restart();
    return out;
  }
  void finish() {
    asio::co_spawn(io_, session_.finish("test"), asio::detached);
    io_.run();
    io_.restart();
  }
  std::int64_t account() const { return session_.account(); }
  FakeBackend backend;
  bool closed = false;

 private:
  static awaitable<void> drive(Session& session, std::string& out, bool& closed) {
    for (;;) {
      auto o = co_await session.process();
      out += o.bytes;
      closed = closed || o.close;
      if (o.need_input || o.close || o.start_tls) break;
    }
  }
  asio::io_context io_;
  SessionConfig cfg_;
  Session session_;
};

SessionConfig config() {
  SessionConfig c;
  c.hostname = "mail.example.gov.vn";
  c.starttls_available = true;
  c.allow_plaintext_on_loopback = true;
  c.max_commands_before_auth = 6;
  c.max_bad_commands = 3;
  c.line_max = 300;
  return c;
}

const ConnectionInfo kLoopback{"127.0.0.1", true, false};
const ConnectionInfo kRemote{"192.0.2.1", false, false};

TEST(Pop3Session, NoPlaintextLoginOffTls) {
  Client c(config(), kRemote);
  EXPECT_EQ(c.send("CAPA\r\n"),
            "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
            "PIPELINING\r\nSTLS\r\nIMPLEMENTATION govmail\r\n.\r\n");
  EXPECT_EQ(c.send("USER a@example.gov.vn\r\n"),
            "-ERR Use STLS (or the POP3S port) before logging in\r\n");
  EXPECT_EQ(c.send("AUTH PLAIN AGFAZXhhbXBsZS5nb3Yudm4AcHcgdHdv\r\n"),
            "-ERR Use STLS (or the POP3S port) before logging in\r\n");
  EXPECT_EQ(c.send("STLS\r\n"), "+OK Begin TLS negotiation\r\n");
}

TEST(Pop3Session, LimitsBeforeLogin) {
  Client c(config(), kLoopback);
  EXPECT_EQ(c.send(std::string(400, 'x') + "\r\n"),
            "-ERR Line too long (limits.pop3_line_max)\r\n");
  EXPECT_EQ(c.send("STAT\r\n"), "-ERR Command not valid in this state\r\n");
  EXPECT_FALSE(c.closed);
  EXPECT_EQ(c.send("XYZZ\r\n"), "-ERR Unknown command XYZZ\r\n");
  EXPECT_TRUE(c.closed);  // the third bad command
  Client f(config(), kLoopback);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(f.send("USER x\r\n"), "+OK Send PASS\r\n");
  EXPECT_EQ(f.send("USER x\r\n"),
            "-ERR Too many commands before login (limits.pop3_max_commands_before_auth)\r\n");
  EXPECT_TRUE(f.closed);
}

TEST(Pop3Session, ThreeAuthenticationFailuresClose) {
  Client c(config(), kLoopback);
  for (int i = 0; i < 3; ++i) {
    c.send("USER a@example.gov.vn\r\n");
    EXPECT_EQ(c.send("PASS wrong\r\n"), "-ERR [AUTH] Authentication failed\r\n");
  }
  EXPECT_TRUE(c.closed);
}

TEST(Pop3Session, SnapshotRetrDeleRsetAndQuit) {
  Client c(config(), kLoopback);
  c.send("USER a@example.gov.vn\r\n");
  EXPECT_EQ(c.send("PASS pw two\r\n"), "+OK Logged in, 2 messages (21 octets)\r\n");
  EXPECT_EQ(c.account(), 1);
  EXPECT_EQ(c.send("UIDL\r\n"), "+OK\r\n1 0000000300001234\r\n2 0000000700001234\r\n.\r\n");
  EXPECT_EQ(c.send("RETR 1\r\n"), "+OK 20 octets\r\nSubject: a\r\n\r\n..dot\r\n.\r\n");
  EXPECT_EQ(c.send("RETR 2\r\n"), "+OK 1 octets\r\nB\r\n.\r\n");
  EXPECT_EQ(c.send("DELE 2\r\nLIST\r\n"), "+OK Message 2 deleted\r\n+OK\r\n1 20\r\n.\r\n");
  EXPECT_EQ(c.send("RSET\r\nSTAT\r\n"), "+OK Maildrop has 2 messages\r\n+OK 2 21\r\n");
  EXPECT_EQ(c.send("DELE 1\r\nDELE 1\r\n"),
            "+OK Message 1 deleted\r\n-ERR Message 1 already deleted\r\n");
  EXPECT_TRUE(c.backend.store.expunges.empty());  // nothing before QUIT
  EXPECT_EQ(c.send("QUIT\r\n"), "+OK Bye, 1 messages deleted\r\n");
  ASSERT_EQ(c.backend.store.expunges.size(), 1u);
  ASSERT_EQ(c.backend.store.expunges[0].size(), 1u);
  EXPECT_EQ(c.backend.store.expunges[0][0].first, 3u);
  EXPECT_EQ(c.backend.store.expunges[0][0].last, 3u);
  c.finish();
  EXPECT_EQ(c.backend.store.releases, 0);  // the expunge released the lease
}

TEST(Pop3Session, EndingWithoutQuitDeletesNothingAndReleases) {
  Client c(config(), kLoopback);
  c.send("USER a@example.gov.vn\r\nPASS pw two\r\nDELE 1\r\n");
  c.finish();
  EXPECT_TRUE(c.backend.store.expunges.empty());
  EXPECT_EQ(c.backend.store.releases, 1);
}

TEST(Pop3Session, SecondSessionGetsInUse) {
  Client c(config(), kLoopback);
  c.backend.store.leased_elsewhere = true;
  c.send("USER a@example.gov.vn\r\n");
  EXPECT_EQ(c.send("PASS pw two\r\n"), "-ERR [IN-USE] Mailbox in use by another POP3 session\r\n");
  EXPECT_EQ(c.account(), 0);
  c.finish();
  EXPECT_EQ(c.backend.store.releases, 0);  // never held
}

}  // namespace
}  // namespace govmail::pop3
