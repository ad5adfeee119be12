// The SMTP side of the real store: recipients with quota and send-as rights (Directory), and a
// session delivering through make_store_backend into PostgreSQL, read back byte for byte.
#include <gtest/gtest.h>

#include "core/auth.hpp"
#include "smtp/backend.hpp"
#include "smtp/session.hpp"
#include "tests/store/store_fixture.hpp"

namespace govmail::store::testing {
namespace {

using SmtpStoreTest = StoreTest;

TEST_F(SmtpStoreTest, ResolveRecipientExpandsAliasesGroupsAndAliasDomainsWithQuota) {
  auto an = add_account("an@so.gov.vn", 1000);
  auto binh = add_account("binh@so.gov.vn");
  ASSERT_TRUE(run(dir().add_alias("van.an@so.gov.vn", an.id)).ok());
  auto r = run(dir().resolve_recipient("Van.An@so.gov.vn"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->accounts.size(), 1u);
  EXPECT_EQ(r->accounts[0].id, an.id);
  EXPECT_EQ(r->accounts[0].quota_bytes, 1000u);
  EXPECT_EQ(r->accounts[0].address, "an@so.gov.vn");
  EXPECT_FALSE(r->is_group);
  EXPECT_EQ(run(dir().resolve_recipient("nobody@so.gov.vn")).error(), StoreError::not_found);

  tdb_.exec(
      "INSERT INTO groups (address) VALUES ('phong@so.gov.vn');"
      "INSERT INTO group_members SELECT g.id, a.id FROM groups g, accounts a"
      " WHERE g.address = 'phong@so.gov.vn';"
      "INSERT INTO group_senders SELECT g.id, " +
      std::to_string(binh.id) +
      " FROM groups g WHERE g.address = 'phong@so.gov.vn';"
      "INSERT INTO domains (name, alias_of) SELECT 'so-alias.vn', id FROM domains"
      " WHERE name = 'so.gov.vn'");
  r = run(dir().resolve_recipient("phong@so.gov.vn"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->is_group);
  ASSERT_EQ(r->accounts.size(), 2u);
  EXPECT_EQ(r->accounts[0].id, an.id);
  EXPECT_EQ(r->accounts[1].id, binh.id);
  EXPECT_EQ(r->accounts[1].address, "binh@so.gov.vn");
  EXPECT_EQ(r->send_policy, SendPolicy::anyone);
  tdb_.exec("UPDATE groups SET send_policy = 2");
  EXPECT_EQ(run(dir().resolve_recipient("phong@so.gov.vn"))->send_policy, SendPolicy::members);
  EXPECT_EQ(run(dir().resolve_recipient("phong@so-alias.vn"))->send_policy, SendPolicy::members);
  // The canonical domain, whichever way the address was typed.
  EXPECT_EQ(run(dir().resolve_recipient("phong@so-alias.vn"))->domain, "so.gov.vn");
  EXPECT_EQ(run(dir().resolve_recipient("phong@so.gov.vn"))->domain, "so.gov.vn");
  r = run(dir().resolve_recipient("binh@so-alias.vn"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accounts.at(0).id, binh.id);

  EXPECT_TRUE(*run(dir().may_send_as(an.id, "an@so.gov.vn")));
  EXPECT_TRUE(*run(dir().may_send_as(an.id, "VAN.AN@so.gov.vn")));
  EXPECT_TRUE(*run(dir().may_send_as(an.id, "an@so-alias.vn")));
  EXPECT_FALSE(*run(dir().may_send_as(an.id, "binh@so.gov.vn")));
  EXPECT_FALSE(*run(dir().may_send_as(an.id, "phong@so.gov.vn")));  // member, not a sender
  EXPECT_TRUE(*run(dir().may_send_as(binh.id, "phong@so.gov.vn")));
  EXPECT_FALSE(*run(dir().may_send_as(binh.id, "nobody@so.gov.vn")));
}

TEST_F(SmtpStoreTest, SessionDeliversThroughTheStoreAfterCommit) {
  auto an = add_account("an@so.gov.vn");
  core::AuthConfig acfg;
  core::AuthService auth(io_.get_executor(), acfg,
                         [](std::string) -> awaitable<std::optional<core::StoredCredentials>> {
                           co_return std::nullopt;
                         });
  auto backend = smtp::make_store_backend(db_, auth);
  smtp::SessionConfig cfg;
  cfg.hostname = "mx.so.gov.vn";
  smtp::Session session(cfg, *backend, {"203.0.113.9", false, false});
  const std::string body = "From: x@bo.vn\r\nSubject: Công văn\r\n\r\n..một dòng\r\n";
  session.feed(
      "EHLO bo.vn\r\nMAIL FROM:<x@bo.vn>\r\nRCPT TO:<an@so.gov.vn>\r\n"
      "RCPT TO:<ghost@so.gov.vn>\r\nRCPT TO:<y@elsewhere.vn>\r\nDATA\r\n" +
      body + ".\r\n");
  auto out = run([&]() -> awaitable<std::string> {
    std::string all;
    for (;;) {
      auto o = co_await session.process();
      all += o.bytes;
      if (o.need_input || o.close) co_return all;
    }
  }());
  EXPECT_NE(out.find("550 5.1.1"), std::string::npos) << out;
  EXPECT_NE(out.find("554 5.7.1 Relay access denied"), std::string::npos) << out;
  ASSERT_NE(out.find("250 2.0.0 Ok: queued as"), std::string::npos) << out;
  auto inbox = mailbox(an.id, "INBOX");
  EXPECT_EQ(inbox.messages, 1u);
  auto entries = run(store().list_entries(an.id, inbox.id, {{1, UINT32_MAX}}));
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  auto raw = run(store().fetch_raw(an.id, (*entries)[0].message_id));
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->rfind("Return-Path: <x@bo.vn>\r\nReceived: from bo.vn ([203.0.113.9])", 0), 0u);
  // Dot-unstuffed: "..một" was sent, ".một" is stored.
  const std::string unstuffed = "From: x@bo.vn\r\nSubject: Công văn\r\n\r\n.một dòng\r\n";
  ASSERT_GE(raw->size(), unstuffed.size());
  EXPECT_EQ(raw->substr(raw->size() - unstuffed.size()), unstuffed);
}

// The store backend with one account logged in whatever the password (the test is about delivery).
class LoggedIn final : public smtp::Backend {
 public:
  LoggedIn(std::shared_ptr<smtp::Backend> inner, Account who)
      : inner_(std::move(inner)), who_(who) {}
  awaitable<Result<bool>> is_local_domain(std::string d) override {
    co_return co_await inner_->is_local_domain(std::move(d));
  }
  awaitable<Result<RecipientResolution>> resolve_recipient(std::string a) override {
    co_return co_await inner_->resolve_recipient(std::move(a));
  }
  awaitable<Result<bool>> may_send_as(AccountId id, std::string a) override {
    co_return co_await inner_->may_send_as(id, std::move(a));
  }
  awaitable<core::AuthResult> authenticate(std::string, std::string, std::string) override {
    core::AuthResult r;
    r.outcome = core::AuthOutcome::ok;
    r.account_id = who_.id;
    r.address = who_.address;
    co_return r;
  }
  awaitable<Result<DeliveryResult>> deliver(Delivery d) override {
    co_return co_await inner_->deliver(std::move(d));
  }
  awaitable<Result<std::optional<MailboxId>>> junk_mailbox(AccountId id) override {
    co_return co_await inner_->junk_mailbox(id);
  }

 private:
  std::shared_ptr<smtp::Backend> inner_;
  Account who_;
};

class SmtpBounceTest : public StoreTest {
 protected:
  std::string talk(smtp::Session& session, const std::string& bytes) {
    session.feed(bytes);
    return run([&]() -> awaitable<std::string> {
      std::string all;
      for (;;) {
        auto o = co_await session.process();
        all += o.bytes;
        if (o.need_input || o.close) co_return all;
      }
    }());
  }
  std::string inbox_raw(AccountId account, int n) {
    auto box = mailbox(account, "INBOX");
    auto entries = run(store().list_entries(account, box.id, {{1, UINT32_MAX}}));
    if (!entries.ok() || static_cast<int>(entries->size()) <= n) return "";
    auto raw = run(store().fetch_raw(account, (*entries)[static_cast<std::size_t>(n)].message_id));
    return raw.ok() ? *raw : "";
  }

  struct Office {
    Account an, binh, chi;
  };
  // an, binh (quota 100: fits none of the messages below) and chi; the group phong@so.gov.vn
  // (send policy "domain") of binh and chi.
  Office add_office() {
    Office o{add_account("an@so.gov.vn"), add_account("binh@so.gov.vn", 100),
             add_account("chi@so.gov.vn")};
    tdb_.exec(
        "INSERT INTO groups (address, send_policy) VALUES ('phong@so.gov.vn', 1);"
        "INSERT INTO group_members SELECT g.id, a.id FROM groups g, accounts a"
        " WHERE a.address IN ('binh@so.gov.vn', 'chi@so.gov.vn')");
    return o;
  }
  static smtp::SessionConfig submission() {
    smtp::SessionConfig cfg;
    cfg.hostname = "mx.so.gov.vn";
    cfg.mode = smtp::Mode::submission;
    return cfg;
  }

  core::AuthConfig acfg_;
  core::AuthService auth_{io_.get_executor(), acfg_,
                          [](std::string) -> awaitable<std::optional<core::StoredCredentials>> {
                            co_return std::nullopt;
                          }};
};

TEST_F(SmtpBounceTest, GroupMemberOverQuotaGetsTheLocalSenderADsn) {
  auto [an, binh, chi] = add_office();
  LoggedIn backend(smtp::make_store_backend(db_, auth_), an);
  const auto cfg = submission();
  smtp::Session session(cfg, backend, {"203.0.113.9", false, true});
  const std::string body =
      "From: an@so.gov.vn\r\nSubject: Thông báo\r\n\r\n" + std::string(300, 'x') + "\r\n";
  auto out = talk(session,
                  "EHLO c\r\nAUTH PLAIN AGFuQHNvLmdvdi52bgB4\r\nMAIL FROM:<an@so.gov.vn>\r\n"
                  "RCPT TO:<phong@so.gov.vn>\r\nDATA\r\n" +
                      body + ".\r\n");
  ASSERT_NE(out.find("250 2.0.0 Ok: queued as"), std::string::npos) << out;
  EXPECT_EQ(mailbox(chi.id, "INBOX").messages, 1u);
  EXPECT_EQ(mailbox(binh.id, "INBOX").messages, 0u);
  // The report is in the sender's INBOX, from the null path, naming the member left out.
  const std::string dsn = inbox_raw(an.id, 0);
  EXPECT_EQ(
      dsn.rfind("Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.so.gov.vn>", 0),
      0u)
      << dsn;
  EXPECT_NE(dsn.find("Final-Recipient: rfc822;binh@so.gov.vn\r\nAction: failed\r\nStatus: 5.2.2"),
            std::string::npos)
      << dsn;
  EXPECT_EQ(dsn.find("chi@so.gov.vn"), std::string::npos);
  // It parsed as a report at ingest (multipart/report with three parts).
  EXPECT_EQ(q("SELECT bodystructure->>'subtype' FROM messages m JOIN mailbox_entries e"
              " ON e.message_id = m.id WHERE e.account_id = " +
              std::to_string(an.id)),
            "report");
  EXPECT_EQ(qi("SELECT count(*) FROM outbound_queue"), 0);
}

// The report is built, then its delivery fails inside the commit (the sender's INBOX vanished
// meanwhile): the message is not kept either, and the client gets no 250.
TEST_F(SmtpBounceTest, MessageAndReportCommitTogetherOrNotAtAll) {
  auto [an, binh, chi] = add_office();
  LoggedIn backend(smtp::make_store_backend(db_, auth_), an);
  const auto cfg = submission();
  smtp::Session session(cfg, backend, {"203.0.113.9", false, true});
  const std::string body = "From: an@so.gov.vn\r\n\r\n" + std::string(300, 'x') + "\r\n.\r\n";
  auto out = talk(session,
                  "EHLO c\r\nAUTH PLAIN AGFuQHNvLmdvdi52bgB4\r\nMAIL FROM:<an@so.gov.vn>\r\n"
                  "RCPT TO:<phong@so.gov.vn>\r\nDATA\r\n");
  ASSERT_NE(out.find("354 "), std::string::npos) << out;
  tdb_.exec("DELETE FROM mailboxes WHERE account_id = " + std::to_string(an.id));
  out = talk(session, body);
  EXPECT_EQ(out.find("250 "), std::string::npos) << out;
  EXPECT_EQ(mailbox(chi.id, "INBOX").messages, 0u);
  EXPECT_EQ(mailbox(binh.id, "INBOX").messages, 0u);
  EXPECT_EQ(qi("SELECT count(*) FROM messages"), 0);
  EXPECT_EQ(qi("SELECT used_messages FROM accounts WHERE id = " + std::to_string(chi.id)), 0);

  // With the sender's INBOX back, the same transaction goes through: both committed.
  tdb_.exec("INSERT INTO mailboxes (account_id, name) VALUES (" + std::to_string(an.id) +
            ", 'INBOX')");
  out = talk(session, "MAIL FROM:<an@so.gov.vn>\r\nRCPT TO:<phong@so.gov.vn>\r\nDATA\r\n" + body);
  ASSERT_NE(out.find("250 2.0.0 Ok: queued as"), std::string::npos) << out;
  EXPECT_EQ(mailbox(chi.id, "INBOX").messages, 1u);
  EXPECT_EQ(mailbox(an.id, "INBOX").messages, 1u);
  EXPECT_EQ(qi("SELECT count(*) FROM messages"), 2);
}

// Send policy "domain" after `admin domain merge cu.gov.vn so.gov.vn`: the group was moved to
// so.gov.vn and cu.gov.vn became its alias. A group reached as ...@cu.gov.vn takes senders of
// so.gov.vn (canonical domains compared), and still refuses other domains.
TEST_F(SmtpBounceTest, SameDomainPolicyThroughAMergedDomain) {
  auto an = add_account("an@so.gov.vn");
  auto chi = add_account("chi@so.gov.vn");
  auto ba = add_account("ba@bo.gov.vn");
  (void)run(dir().add_domain("cu.gov.vn"));
  tdb_.exec(
      "INSERT INTO groups (address, send_policy) VALUES ('phong@cu.gov.vn', 1);"
      "INSERT INTO group_members SELECT g.id, a.id FROM groups g, accounts a"
      " WHERE a.address = 'chi@so.gov.vn'");
  q("SELECT collisions FROM govmail_merge_domain('cu.gov.vn', 'so.gov.vn')");
  ASSERT_EQ(q("SELECT address FROM groups"), "phong@so.gov.vn");
  const auto cfg = submission();
  auto tx = [](const std::string& from) {
    return "EHLO c\r\nAUTH PLAIN AGFuQHNvLmdvdi52bgB4\r\nMAIL FROM:<" + from +
           ">\r\nRCPT TO:<phong@cu.gov.vn>\r\nRCPT TO:<Phong@so.gov.vn>\r\n";
  };
  LoggedIn same(smtp::make_store_backend(db_, auth_), an);
  smtp::Session s1(cfg, same, {"203.0.113.9", false, true});
  auto out = talk(s1, tx("an@so.gov.vn"));
  EXPECT_EQ(out.find("550 5.7.1 Not allowed"), std::string::npos) << out;
  EXPECT_NE(out.find("250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"), std::string::npos) << out;
  LoggedIn other(smtp::make_store_backend(db_, auth_), ba);
  smtp::Session s2(cfg, other, {"203.0.113.9", false, true});
  out = talk(s2, tx("ba@bo.gov.vn"));
  EXPECT_NE(out.find("550 5.7.1 Not allowed to send to the group <phong@cu.gov.vn>"),
            std::string::npos)
      << out;
  (void)chi;
}

TEST_F(SmtpBounceTest, RemoteSenderDsnQueuedAndSendPolicyRefusesAtRcpt) {
  auto binh = add_account("binh@so.gov.vn", 100);
  auto chi = add_account("chi@so.gov.vn");
  tdb_.exec(
      "INSERT INTO groups (address) VALUES ('phong@so.gov.vn'), ('lanhdao@so.gov.vn');"
      "UPDATE groups SET send_policy = 3 WHERE address = 'lanhdao@so.gov.vn';"
      "INSERT INTO group_members SELECT g.id, a.id FROM groups g, accounts a"
      " WHERE a.address IN ('binh@so.gov.vn', 'chi@so.gov.vn')");
  auto backend = smtp::make_store_backend(db_, auth_);
  smtp::SessionConfig cfg;
  cfg.hostname = "mx.so.gov.vn";
  smtp::Session session(cfg, *backend, {"203.0.113.9", false, false});
  auto out = talk(session,
                  "EHLO bo.vn\r\nMAIL FROM:<x@bo.vn>\r\nRCPT TO:<lanhdao@so.gov.vn>\r\n"
                  "RCPT TO:<phong@so.gov.vn>\r\nDATA\r\nFrom: x@bo.vn\r\n\r\n" +
                      std::string(300, 'y') + "\r\n.\r\n");
  EXPECT_NE(out.find("550 5.7.1 Not allowed to send to the group <lanhdao@so.gov.vn>"),
            std::string::npos)
      << out;
  ASSERT_NE(out.find("250 2.0.0 Ok: queued as"), std::string::npos) << out;
  EXPECT_EQ(mailbox(chi.id, "INBOX").messages, 1u);
  EXPECT_EQ(mailbox(binh.id, "INBOX").messages, 0u);
  EXPECT_EQ(q("SELECT q.envelope_from || '|' || r.address FROM outbound_queue q"
              " JOIN outbound_recipients r ON r.queue_id = q.id"),
            "|x@bo.vn");
  EXPECT_NE(q("SELECT encode(b.data, 'escape') FROM outbound_queue o JOIN messages m"
              " ON m.id = o.message_id JOIN blobs b ON b.sha256 = m.blob_sha256")
                .find("Final-Recipient: rfc822;binh@so.gov.vn"),
            std::string::npos);
}

}  // namespace
}  // namespace govmail::store::testing
