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

}  // namespace
}  // namespace govmail::store::testing
