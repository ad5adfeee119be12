// Sessions driven without sockets (STYLE.md 18): bytes in, replies out, a backend in memory.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/asio.hpp"
#include "core/limits.hpp"
#include "core/line_reader.hpp"
#include "smtp/backend.hpp"
#include "smtp/session.hpp"

namespace govmail::smtp {
namespace {

using store::AccountId;

struct FakeBackend : Backend {
  std::set<std::string> domains{"example.gov.vn"};
  std::map<std::string, std::string> alias_domains;  // alias -> target
  std::map<std::string, store::RecipientResolution> addresses;
  std::set<std::pair<AccountId, std::string>> senders;  // (account, address) it may send as
  std::map<std::string, std::pair<std::string, AccountId>> passwords;
  std::vector<store::Delivery> delivered;
  std::optional<store::StoreError> deliver_error;
  core::AuthOutcome forced_outcome = core::AuthOutcome::ok;
  bool force_outcome = false;
  int resolve_calls = 0;

  awaitable<store::Result<std::optional<store::MailboxId>>> junk_mailbox(AccountId) override {
    co_return std::optional<store::MailboxId>();
  }
  awaitable<store::Result<bool>> is_local_domain(std::string d) override {
    co_return domains.count(d) > 0;
  }
  awaitable<store::Result<store::RecipientResolution>> resolve_recipient(std::string a) override {
    ++resolve_calls;
    auto it = addresses.find(a);
    if (it == addresses.end()) co_return unexpected(store::StoreError::not_found);
    auto r = it->second;
    r.domain = a.substr(a.find('@') + 1);  // canonical: an alias domain's target
    if (auto alias = alias_domains.find(r.domain); alias != alias_domains.end())
      r.domain = alias->second;
    co_return r;
  }
  awaitable<store::Result<bool>> may_send_as(AccountId id, std::string a) override {
    co_return senders.count({id, a}) > 0;
  }
  awaitable<core::AuthResult> authenticate(std::string user, std::string pw, std::string) override {
    core::AuthResult r;
    auto it = passwords.find(user);
    if (force_outcome) {
      r.outcome = forced_outcome;
      r.retry_after = std::chrono::seconds(30);
    } else if (it != passwords.end() && it->second.first == pw) {
      r.outcome = core::AuthOutcome::ok;
      r.account_id = it->second.second;
      r.address = user;
    }
    co_return r;
  }
  awaitable<store::Result<store::DeliveryResult>> deliver(store::Delivery d) override {
    if (deliver_error) co_return unexpected(*deliver_error);
    delivered.push_back(std::move(d));
    co_return store::DeliveryResult{};
  }
};

class Client {
 public:
  explicit Client(SessionConfig cfg, ConnectionInfo conn = {"192.0.2.7", false, false})
      : cfg_(std::move(cfg)), session_(cfg_, backend, std::move(conn)) {}

  // Feeds the bytes and runs the session until it wants more input (or stops); returns replies.
  std::string send(std::string_view bytes) {
    session_.feed(bytes);
    std::string out;
    asio::co_spawn(
        io_,
        [&]() -> awaitable<void> {
          for (;;) {
            auto o = co_await session_.process();
            out += o.bytes;
            closed = closed || o.close;
            start_tls = start_tls || o.start_tls;
            if (o.need_input || o.close || o.start_tls) break;
          }
        },
        asio::detached);
    io_.run();
    io_.restart();
    return out;
  }

  FakeBackend backend;
  Session& session() { return session_; }
  bool closed = false;
  bool start_tls = false;

 private:
  asio::io_context io_;
  SessionConfig cfg_;
  Session session_;
};

SessionConfig mx_config() {
  SessionConfig c;
  c.hostname = "mx.example.gov.vn";
  c.mode = Mode::mx;
  c.starttls_available = true;
  c.max_message_bytes = 10000;
  c.max_recipients = 5;
  c.line_max = 512;
  c.data_line_max = 1000;
  c.max_commands_before_mail = 10;
  c.max_bad_commands = 5;
  c.command_timeout = std::chrono::seconds(300);
  c.data_timeout = std::chrono::seconds(600);
  return c;
}

SessionConfig submission_config() {
  auto c = mx_config();
  c.mode = Mode::submission;
  c.allow_plaintext_auth_on_loopback = true;
  return c;
}

store::RecipientAccount account(AccountId id, std::uint64_t quota = 0, std::uint64_t used = 0,
                                std::string address = "") {
  store::RecipientAccount a;
  a.id = id;
  a.quota_bytes = quota;
  a.used_bytes = used;
  a.address = std::move(address);
  return a;
}

store::RecipientResolution resolution(std::vector<store::RecipientAccount> accounts, bool group,
                                      store::SendPolicy policy = store::SendPolicy::anyone) {
  store::RecipientResolution r;
  r.accounts = std::move(accounts);
  r.is_group = group;
  r.send_policy = policy;
  return r;
}

store::RecipientResolution one(AccountId id, std::uint64_t quota = 0, std::uint64_t used = 0) {
  return resolution({account(id, quota, used)}, false);
}

void add_users(FakeBackend& b) {
  b.addresses["an@example.gov.vn"] = one(1);
  b.addresses["binh@example.gov.vn"] = one(2);
  b.addresses["full@example.gov.vn"] = one(3, 1000, 1000);
  b.addresses["tiny@example.gov.vn"] = one(4, 100, 0);
  b.addresses["all@example.gov.vn"] = resolution(
      {account(1), account(2), account(3, 1000, 1000, "full@example.gov.vn"), account(5)}, true);
  b.passwords["an@example.gov.vn"] = {"secret", 1};
  b.senders = {{1, "an@example.gov.vn"}, {1, "van.an@example.gov.vn"}};
}

const std::string kBody =
    "From: ba@other.vn\r\nTo: binh@example.gov.vn\r\nSubject: test\r\n\r\nline 1\r\n"
    "..dot stuffed\r\n.\r\n";

TEST(SmtpSession, GreetingAndEhloOnMx) {
  Client c(mx_config());
  EXPECT_EQ(c.session().greeting(), "220 mx.example.gov.vn ESMTP govmail\r\n");
  EXPECT_EQ(c.send("EHLO client.example\r\n"),
            "250-mx.example.gov.vn\r\n250-PIPELINING\r\n250-SIZE 10000\r\n250-8BITMIME\r\n"
            "250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-DSN\r\n"
            "250 STARTTLS\r\n");
  EXPECT_EQ(c.send("AUTH PLAIN\r\n"), "502 5.5.1 AUTH not available on this port\r\n");
}

TEST(SmtpSession, MxTransactionDotUnstuffedWithTraceHeaders) {
  Client c(mx_config());
  add_users(c.backend);
  c.send("EHLO client.example\r\n");
  EXPECT_EQ(c.send("MAIL FROM:<sender@other.vn> BODY=8BITMIME\r\n"), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(c.send("RCPT TO:<binh@example.gov.vn> NOTIFY=NEVER\r\n"), "250 2.1.5 Ok\r\n");
  EXPECT_EQ(c.send("DATA\r\n"), "354 End data with <CR><LF>.<CR><LF>\r\n");
  EXPECT_EQ(c.session().read_timeout(), std::chrono::seconds(600));
  auto reply = c.send(kBody);
  ASSERT_EQ(c.backend.delivered.size(), 1u);
  EXPECT_EQ(reply.substr(0, 24), "250 2.0.0 Ok: queued as ");
  const auto& d = c.backend.delivered[0];
  EXPECT_EQ(d.envelope_from, "sender@other.vn");
  ASSERT_EQ(d.local.size(), 1u);
  EXPECT_EQ(d.local[0].account_id, 2);
  const std::string& raw = *d.raw;
  EXPECT_EQ(raw.rfind("Return-Path: <sender@other.vn>\r\nReceived: from client.example "
                      "([192.0.2.7])\r\n\tby mx.example.gov.vn (govmail) with ESMTP id ",
                      0),
            0u)
      << raw;
  EXPECT_NE(raw.find("\r\n\tfor <binh@example.gov.vn>; "), std::string::npos);
  EXPECT_EQ(raw.substr(raw.find("From: ba@")),
            "From: ba@other.vn\r\nTo: binh@example.gov.vn\r\nSubject: test\r\n\r\n"
            "line 1\r\n.dot stuffed\r\n");
  EXPECT_EQ(c.session().read_timeout(), std::chrono::seconds(300));
}

TEST(SmtpSession, MxRefusesUnauthenticatedLocalSenders) {
  Client c(mx_config());
  add_users(c.backend);
  c.send("EHLO x\r\n");
  EXPECT_EQ(c.send("MAIL FROM:<an@example.gov.vn>\r\n"),
            "553 5.7.1 Sender in a local domain requires authentication\r\n");
  c.send("MAIL FROM:<s@o.vn>\r\nRCPT TO:<binh@example.gov.vn>\r\nDATA\r\n");
  EXPECT_EQ(c.send("From: \"An\" <an@Example.gov.vn>\r\n\r\nfake\r\n.\r\n"),
            "550 5.7.1 From: in a local domain requires authentication\r\n");
  EXPECT_TRUE(c.backend.delivered.empty());
}

TEST(SmtpSession, PipelinedTransactionAnswersInOrder) {
  Client c(mx_config());
  add_users(c.backend);
  auto out = c.send(
      "EHLO x\r\nMAIL FROM:<s@o.vn>\r\nRCPT TO:<an@example.gov.vn>\r\nRCPT "
      "TO:<nobody@example.gov.vn>"
      "\r\nRCPT TO:<binh@example.gov.vn>\r\nDATA\r\n");
  EXPECT_NE(out.find("250 STARTTLS\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 Recipient address "
                     "rejected: user unknown\r\n250 2.1.5 Ok\r\n354 "),
            std::string::npos)
      << out;
  out = c.send(kBody + "QUIT\r\n");
  EXPECT_NE(out.find("250 2.0.0 Ok: queued as"), std::string::npos);
  EXPECT_NE(out.find("221 2.0.0"), std::string::npos);
  EXPECT_TRUE(c.closed);
  ASSERT_EQ(c.backend.delivered.size(), 1u);
  EXPECT_EQ(c.backend.delivered[0].local.size(), 2u);
}

TEST(SmtpSession, OneByteAtATime) {
  Client c(mx_config());
  add_users(c.backend);
  std::string script = "EHLO x\r\nMAIL FROM:<s@o.vn>\r\nRCPT TO:<an@example.gov.vn>\r\nDATA\r\n" +
                       kBody + "QUIT\r\n";
  std::string out;
  for (char ch : script) out += c.send(std::string(1, ch));
  EXPECT_NE(out.find("250 2.0.0 Ok: queued as"), std::string::npos) << out;
  ASSERT_EQ(c.backend.delivered.size(), 1u);
  EXPECT_NE(c.backend.delivered[0].raw->find("line 1\r\n.dot stuffed\r\n"), std::string::npos);
}

TEST(SmtpSession, BareLfDotDoesNotEndData) {
  Client c(mx_config());
  add_users(c.backend);
  c.send("EHLO x\r\nMAIL FROM:<s@o.vn>\r\nRCPT TO:<an@example.gov.vn>\r\nDATA\r\n");
  auto out = c.send("Subject: x\r\n\r\na\n.\nMAIL FROM:<evil@o.vn>\r\n");
  EXPECT_EQ(out, "");
  EXPECT_TRUE(c.backend.delivered.empty());
  out = c.send(".\r\n");
  EXPECT_NE(out.find("250 2.0.0"), std::string::npos);
  ASSERT_EQ(c.backend.delivered.size(), 1u);
  EXPECT_NE(c.backend.delivered[0].raw->find("a\n.\nMAIL FROM:<evil@o.vn>\r\n"), std::string::npos);
}

TEST(SmtpSession, RelayUnknownAndSequence) {
  auto cfg = mx_config();
  cfg.max_bad_commands = 10;
  Client c(cfg);
  add_users(c.backend);
  EXPECT_EQ(c.send("MAIL FROM:<a@b.c>\r\n"), "503 5.5.1 Send HELO/EHLO first\r\n");
  c.send("HELO x\r\n");
  EXPECT_EQ(c.send("RCPT TO:<an@example.gov.vn>\r\n"), "503 5.5.1 Need MAIL command\r\n");
  EXPECT_EQ(c.send("DATA\r\n"), "503 5.5.1 Need MAIL command\r\n");
  c.send("MAIL FROM:<a@b.c>\r\n");
  EXPECT_EQ(c.send("MAIL FROM:<a@b.c>\r\n"), "503 5.5.1 Nested MAIL command\r\n");
  EXPECT_EQ(c.send("RCPT TO:<someone@gmail.com>\r\n"), "554 5.7.1 Relay access denied\r\n");
  EXPECT_EQ(c.send("DATA\r\n"), "554 5.5.1 No valid recipients\r\n");
  EXPECT_EQ(c.send("RSET\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(c.send("NOOP\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(c.send("VRFY an@example.gov.vn\r\n").substr(0, 10), "252 2.5.2 ");
  EXPECT_EQ(c.send("EXPN all\r\n"), "502 5.5.1 EXPN not available\r\n");
  EXPECT_EQ(c.send("HELP\r\n").substr(0, 10), "214-2.0.0 ");
  EXPECT_TRUE(c.backend.delivered.empty());
}

TEST(SmtpSession, QuotaAtRcpt) {
  Client c(mx_config());
  add_users(c.backend);
  c.send("EHLO x\r\nMAIL FROM:<s@o.vn> SIZE=500\r\n");
  EXPECT_EQ(c.send("RCPT TO:<full@example.gov.vn>\r\n"),
            "452 4.2.2 Mailbox full, try again later\r\n");
  EXPECT_EQ(c.send("RCPT TO:<tiny@example.gov.vn>\r\n"),
            "552 5.2.2 Mailbox full: message larger than the quota\r\n");
  EXPECT_EQ(c.send("RCPT TO:<an@example.gov.vn>\r\n"), "250 2.1.5 Ok\r\n");
}

TEST(SmtpSession, GroupExpandedOnceAndDeduplicated) {
  Client c(mx_config());
  add_users(c.backend);
  c.send(
      "EHLO x\r\nMAIL FROM:<s@o.vn>\r\nRCPT TO:<all@example.gov.vn>\r\n"
      "RCPT TO:<binh@example.gov.vn>\r\nRCPT TO:<all@example.gov.vn>\r\nDATA\r\n");
  c.send("Subject: circular\r\n\r\nhi\r\n.\r\n");
  // One delivery: the message, with the report to the sender in the same commit.
  ASSERT_EQ(c.backend.delivered.size(), 1u);
  ASSERT_EQ(c.backend.delivered[0].companions.size(), 1u);
  std::vector<AccountId> ids;
  for (auto& l : c.backend.delivered[0].local) ids.push_back(l.account_id);
  // Account 3 is over quota: left out of the group delivery; the others once each.
  EXPECT_EQ(ids, (std::vector<AccountId>{1, 2, 5}));
  // The group was named twice: the member left out is reported once.
  const std::string& dsn = *c.backend.delivered[0].companions[0].raw;
  const auto first = dsn.find("Final-Recipient: rfc822;full@example.gov.vn\r\n");
  ASSERT_NE(first, std::string::npos) << dsn;
  EXPECT_EQ(dsn.find("Final-Recipient:", first + 1), std::string::npos) << dsn;
}

TEST(SmtpSession, SizeLimits) {
  Client c(mx_config());
  add_users(c.backend);
  c.send("EHLO x\r\n");
  EXPECT_EQ(c.send("MAIL FROM:<s@o.vn> SIZE=10001\r\n"),
            "552 5.3.4 Message size exceeds fixed maximum message size\r\n");
  c.send("MAIL FROM:<s@o.vn>\r\nRCPT TO:<an@example.gov.vn>\r\nDATA\r\n");
  std::string big = "Subject: big\r\n\r\n";
  for (int i = 0; i < 200; ++i) big += std::string(98, 'x') + "\r\n";
  EXPECT_EQ(c.send(big + ".\r\n"), "552 5.3.4 Message size exceeds fixed maximum message size\r\n");
  EXPECT_TRUE(c.backend.delivered.empty());
  // The session is in sync after the refusal.
  EXPECT_EQ(c.send("NOOP\r\n"), "250 2.0.0 Ok\r\n");
}

TEST(SmtpSession, LineLimits) {
  Client c(mx_config());
  add_users(c.backend);
  c.send("EHLO x\r\n");
  EXPECT_EQ(c.send(std::string(600, 'A') + "\r\nNOOP\r\n"),
            "500 5.5.2 Line too long (limits.smtp_line_max)\r\n250 2.0.0 Ok\r\n");
  c.send("MAIL FROM:<s@o.vn>\r\nRCPT TO:<an@example.gov.vn>\r\nDATA\r\n");
  EXPECT_EQ(c.send("Subject: x\r\n\r\n" + std::string(1500, 'y') + "\r\nend\r\n.\r\n"),
            "550 5.6.0 Message line too long (limits.smtp_data_line_max)\r\n");
  EXPECT_TRUE(c.backend.delivered.empty());
}

TEST(SmtpSession, RecipientLimit) {
  Client c(mx_config());
  add_users(c.backend);
  c.send("EHLO x\r\nMAIL FROM:<s@o.vn>\r\n");
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(c.send("RCPT TO:<an@example.gov.vn>\r\n"), "250 2.1.5 Ok\r\n");
  EXPECT_EQ(c.send("RCPT TO:<an@example.gov.vn>\r\n"),
            "452 4.5.3 Too many recipients (limits.smtp_max_recipients)\r\n");
}

TEST(SmtpSession, BadCommandBudgetDisconnects) {
  Client c(mx_config());
  std::string out;
  for (int i = 0; i < 4; ++i) out += c.send("BOGUS\r\n");
  EXPECT_FALSE(c.closed);
  out = c.send("BOGUS\r\nNOOP\r\n");
  EXPECT_EQ(out, "421 4.7.0 mx.example.gov.vn Too many errors, closing connection\r\n");
  EXPECT_TRUE(c.closed);
}

TEST(SmtpSession, JunkBeforeMailDisconnects) {
  Client c(mx_config());
  std::string out;
  for (int i = 0; i < 10; ++i) out += c.send("NOOP\r\n");
  EXPECT_FALSE(c.closed);
  EXPECT_EQ(c.send("NOOP\r\n"),
            "421 4.7.0 mx.example.gov.vn Too many commands, closing connection\r\n");
  EXPECT_TRUE(c.closed);
}

TEST(SmtpSession, BdatChunksPipelined) {
  Client c(mx_config());
  add_users(c.backend);
  std::string part1 = "Subject: chunked\r\n\r\n.leading dot kept\r\n";
  std::string part2 = "second part\r\n";
  auto out = c.send("EHLO x\r\nMAIL FROM:<s@o.vn>\r\nRCPT TO:<an@example.gov.vn>\r\nBDAT " +
                    std::to_string(part1.size()) + "\r\n" + part1 + "BDAT " +
                    std::to_string(part2.size()) + " LAST\r\n" + part2 + "NOOP\r\n");
  EXPECT_NE(out.find("250 2.0.0 " + std::to_string(part1.size()) +
                     " octets received\r\n250 2.0.0 "
                     "Ok: queued as "),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\r\n250 2.0.0 Ok\r\n"), std::string::npos);
  ASSERT_EQ(c.backend.delivered.size(), 1u);
  const auto& raw = *c.backend.delivered[0].raw;
  EXPECT_EQ(raw.substr(raw.find("Subject: chunked")), part1 + part2);
  // BDAT without a transaction: the bytes are consumed, the session stays in sync.
  EXPECT_EQ(c.send("BDAT 5 LAST\r\nHELLONOOP\r\n"),
            "503 5.5.1 Need MAIL command\r\n250 2.0.0 Ok\r\n");
  EXPECT_EQ(c.send("BDAT many\r\n"), "501 5.5.4 Syntax: BDAT size [LAST]; closing connection\r\n");
  EXPECT_TRUE(c.closed);
}

TEST(SmtpSession, BdatOverSizeRefusedAtEveryChunk) {
  Client c(mx_config());
  add_users(c.backend);
  c.send("EHLO x\r\nMAIL FROM:<s@o.vn>\r\nRCPT TO:<an@example.gov.vn>\r\n");
  std::string chunk(6000, 'z');
  EXPECT_EQ(c.send("BDAT 6000\r\n" + chunk), "250 2.0.0 6000 octets received\r\n");
  EXPECT_EQ(c.send("BDAT 6000\r\n" + chunk),
            "552 5.3.4 Message size exceeds fixed maximum message size\r\n");
  EXPECT_EQ(c.send("BDAT 10 LAST\r\n" + chunk.substr(0, 10)),
            "552 5.3.4 Message size exceeds fixed maximum message size\r\n");
  EXPECT_TRUE(c.backend.delivered.empty());
  EXPECT_EQ(c.send("DATA\r\n"), "503 5.5.1 Need MAIL command\r\n");
}

TEST(SmtpSession, SmtpUtf8AddressesNeedTheParameter) {
  Client c(mx_config());
  add_users(c.backend);
  c.backend.addresses["nguyễn@example.gov.vn"] = one(7);
  c.send("EHLO x\r\n");
  EXPECT_EQ(c.send("MAIL FROM:<trần@bộ.vn>\r\n"),
            "553 5.6.7 Non-ASCII sender address requires SMTPUTF8\r\n");
  EXPECT_EQ(c.send("MAIL FROM:<tran@bo.vn>\r\n"), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(c.send("RCPT TO:<nguyễn@example.gov.vn>\r\n"),
            "553 5.6.7 Non-ASCII recipient address requires SMTPUTF8\r\n");
  c.send("RSET\r\nMAIL FROM:<trần@bộ.vn> SMTPUTF8 BODY=8BITMIME\r\n");
  EXPECT_EQ(c.send("RCPT TO:<nguyễn@example.gov.vn>\r\n"), "250 2.1.5 Ok\r\n");
  c.send("DATA\r\n");
  EXPECT_EQ(c.send("Subject: Công văn số 1\r\n\r\nKính gửi đồng chí\r\n.\r\n").substr(0, 9),
            "250 2.0.0");
  ASSERT_EQ(c.backend.delivered.size(), 1u);
  EXPECT_NE(c.backend.delivered[0].raw->find("with UTF8SMTP id"), std::string::npos);
  EXPECT_NE(c.backend.delivered[0].raw->find("Kính gửi đồng chí\r\n"), std::string::npos);
}

TEST(SmtpSession, DeliveryFailureIsNeverAcknowledged) {
  Client c(mx_config());
  add_users(c.backend);
  c.backend.deliver_error = store::StoreError::unavailable;
  c.send("EHLO x\r\nMAIL FROM:<s@o.vn>\r\nRCPT TO:<an@example.gov.vn>\r\nDATA\r\n");
  auto out = c.send(kBody);
  EXPECT_EQ(out.substr(0, 50), "451 4.3.0 Temporary local problem, try again later");
  c.backend.deliver_error = store::StoreError::over_quota;
  c.send("MAIL FROM:<s@o.vn>\r\nRCPT TO:<an@example.gov.vn>\r\nDATA\r\n");
  EXPECT_EQ(c.send(kBody), "452 4.2.2 Mailbox full, try again later\r\n");
}

TEST(SmtpSession, SubmissionRequiresAuthAndTlsOffNonLoopback) {
  Client c(submission_config());  // 192.0.2.7, no TLS
  add_users(c.backend);
  auto ehlo = c.send("EHLO x\r\n");
  EXPECT_EQ(ehlo.find("AUTH"), std::string::npos);
  EXPECT_EQ(c.send("AUTH PLAIN AGFuQGV4YW1wbGUuZ292LnZuAHNlY3JldA==\r\n"),
            "538 5.7.11 Encryption required for requested authentication mechanism\r\n");
  EXPECT_EQ(c.send("MAIL FROM:<an@example.gov.vn>\r\n"), "530 5.7.0 Authentication required\r\n");
  EXPECT_EQ(c.send("STARTTLS\r\n"), "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_TRUE(c.start_tls);
  c.session().tls_started();
  EXPECT_EQ(c.send("MAIL FROM:<an@example.gov.vn>\r\n"), "503 5.5.1 Send HELO/EHLO first\r\n");
  ehlo = c.send("EHLO x\r\n");
  EXPECT_NE(ehlo.find("250 AUTH PLAIN LOGIN\r\n"), std::string::npos) << ehlo;
  EXPECT_EQ(ehlo.find("STARTTLS"), std::string::npos);
  EXPECT_EQ(c.send("AUTH PLAIN AGFuQGV4YW1wbGUuZ292LnZuAHNlY3JldA==\r\n"),
            "235 2.7.0 Authentication successful\r\n");
}

TEST(SmtpSession, AuthPlainLoginAndFailures) {
  auto cfg = submission_config();
  cfg.max_bad_commands = 10;
  Client c(cfg, {"127.0.0.1", true, false});
  add_users(c.backend);
  EXPECT_NE(c.send("EHLO x\r\n").find("AUTH PLAIN LOGIN"), std::string::npos);
  // PLAIN without initial response; a wrong password.
  EXPECT_EQ(c.send("AUTH PLAIN\r\n"), "334 \r\n");
  EXPECT_EQ(c.send("AGFuQGV4YW1wbGUuZ292LnZuAHdyb25n\r\n"),
            "535 5.7.8 Authentication credentials invalid\r\n");
  EXPECT_EQ(c.send("AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
  EXPECT_EQ(c.send("*\r\n"), "501 5.0.0 Authentication cancelled\r\n");
  EXPECT_EQ(c.send("AUTH PLAIN !!!!\r\n"), "501 5.5.2 Invalid base64 data\r\n");
  EXPECT_EQ(c.send("AUTH CRAM-MD5\r\n"), "504 5.5.4 Unrecognized authentication type\r\n");
  EXPECT_EQ(c.send("AUTH LOGIN YW5AZXhhbXBsZS5nb3Yudm4=\r\n"), "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(c.send("c2VjcmV0\r\n"), "235 2.7.0 Authentication successful\r\n");
  EXPECT_EQ(c.send("AUTH PLAIN\r\n"), "503 5.5.1 Already authenticated\r\n");
}

TEST(SmtpSession, LockedOutDisconnects) {
  Client c(submission_config(), {"127.0.0.1", true, false});
  c.backend.force_outcome = true;
  c.backend.forced_outcome = core::AuthOutcome::locked_out;
  c.send("EHLO x\r\n");
  EXPECT_EQ(c.send("AUTH PLAIN AGFuQGV4YW1wbGUuZ292LnZuAHNlY3JldA==\r\n"),
            "421 4.7.0 Too many authentication failures, try again in 30 seconds\r\n");
  EXPECT_TRUE(c.closed);
}

TEST(SmtpSession, SubmissionSenderMustBeOwned) {
  Client c(submission_config(), {"127.0.0.1", true, false});
  add_users(c.backend);
  c.send("EHLO x\r\nAUTH PLAIN AGFuQGV4YW1wbGUuZ292LnZuAHNlY3JldA==\r\n");
  EXPECT_EQ(c.send("MAIL FROM:<binh@example.gov.vn>\r\n"),
            "553 5.7.1 Sender address not owned by the authenticated user\r\n");
  EXPECT_EQ(c.send("MAIL FROM:<>\r\n"),
            "553 5.7.1 Null sender not allowed for authenticated users\r\n");
  // An alias of the account; a remote recipient goes to the outbound queue with its DSN.
  c.send("MAIL FROM:<van.an@example.gov.vn> RET=HDRS ENVID=x1\r\n");
  EXPECT_EQ(c.send("RCPT TO:<someone@gmail.com> NOTIFY=FAILURE ORCPT=rfc822;someone@gmail.com\r\n"),
            "250 2.1.5 Ok\r\n");
  c.send("RCPT TO:<binh@example.gov.vn>\r\nDATA\r\n");
  // From: of someone else is refused even with an owned envelope sender.
  EXPECT_EQ(c.send("From: binh@example.gov.vn\r\n\r\nspoof\r\n.\r\n"),
            "550 5.7.1 From: address not owned by the authenticated user\r\n");
  EXPECT_TRUE(c.backend.delivered.empty());
  c.send(
      "MAIL FROM:<van.an@example.gov.vn> RET=HDRS ENVID=x1\r\n"
      "RCPT TO:<someone@gmail.com> NOTIFY=FAILURE ORCPT=rfc822;someone@gmail.com\r\n"
      "RCPT TO:<binh@example.gov.vn>\r\nDATA\r\n");
  EXPECT_EQ(c.send("From: \"An\" <an@example.gov.vn>\r\n\r\nok\r\n.\r\n").substr(0, 9),
            "250 2.0.0");
  ASSERT_EQ(c.backend.delivered.size(), 1u);
  const auto& d = c.backend.delivered[0];
  ASSERT_EQ(d.remote.size(), 1u);
  EXPECT_EQ(d.remote[0].address, "someone@gmail.com");
  EXPECT_EQ(d.remote[0].dsn_notify, "FAILURE");
  EXPECT_EQ(d.remote[0].dsn_orcpt, "rfc822;someone@gmail.com");
  EXPECT_EQ(d.dsn_ret, "HDRS");
  EXPECT_EQ(d.dsn_envid, "x1");
  ASSERT_EQ(d.local.size(), 1u);
  EXPECT_NE(d.raw->find("with ESMTPA id"), std::string::npos);
}

TEST(SmtpSession, QuitAndTimeoutReplies) {
  Client c(mx_config());
  EXPECT_EQ(c.session().timeout_reply(), "421 4.4.2 mx.example.gov.vn Error: timeout exceeded\r\n");
  EXPECT_EQ(c.send("QUIT\r\nNOOP\r\n"), "221 2.0.0 mx.example.gov.vn Bye\r\n");
  EXPECT_TRUE(c.closed);
}

TEST(SmtpSession, VrfyDisabledAnswers252EvenAfterAuth) {
  Client c(submission_config(), {"127.0.0.1", true, false});  // vrfy = false (the default)
  add_users(c.backend);
  c.send("EHLO x\r\nAUTH PLAIN AGFuQGV4YW1wbGUuZ292LnZuAHNlY3JldA==\r\n");
  EXPECT_EQ(c.send("VRFY binh@example.gov.vn\r\n"),
            "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery\r\n");
  EXPECT_EQ(c.send("VRFY nobody@example.gov.vn\r\n").substr(0, 10), "252 2.5.2 ");
  EXPECT_EQ(c.backend.resolve_calls, 0);
}

TEST(SmtpSession, VrfyEnabledAnswersOnlyAfterAuthOnSubmission) {
  auto cfg = submission_config();
  cfg.vrfy = true;
  Client c(cfg, {"127.0.0.1", true, false});
  add_users(c.backend);
  c.send("EHLO x\r\n");
  EXPECT_EQ(c.send("VRFY nobody@example.gov.vn\r\n").substr(0, 10), "252 2.5.2 ");  // no AUTH
  c.send("AUTH PLAIN AGFuQGV4YW1wbGUuZ292LnZuAHNlY3JldA==\r\n");
  EXPECT_EQ(c.send("VRFY binh@example.gov.vn\r\n"), "250 2.1.5 <binh@example.gov.vn>\r\n");
  EXPECT_EQ(c.send("VRFY Binh <BINH@example.gov.vn>\r\n"), "250 2.1.5 <BINH@example.gov.vn>\r\n");
  EXPECT_EQ(c.send("VRFY nobody@example.gov.vn\r\n"), "550 5.1.1 User unknown\r\n");
  EXPECT_EQ(c.send("VRFY someone@gmail.com\r\n").substr(0, 10), "252 2.5.2 ");  // not local
  EXPECT_EQ(c.send("VRFY binh\r\n").substr(0, 10), "252 2.5.2 ");               // not an address

  auto mx = mx_config();
  mx.vrfy = true;
  Client m(mx);
  add_users(m.backend);
  m.send("EHLO x\r\n");
  EXPECT_EQ(m.send("VRFY nobody@example.gov.vn\r\n").substr(0, 10), "252 2.5.2 ");
  EXPECT_EQ(m.backend.resolve_calls, 0);
}

store::RecipientResolution group(store::SendPolicy policy) {
  return resolution(
      {account(1, 0, 0, "an@example.gov.vn"), account(2, 0, 0, "binh@example.gov.vn")}, true,
      policy);
}

TEST(SmtpSession, GroupSendPolicyCheckedAtRcpt) {
  auto cfg = submission_config();
  cfg.max_bad_commands = 20;
  Client c(cfg, {"127.0.0.1", true, false});
  add_users(c.backend);
  c.backend.addresses["anyone@example.gov.vn"] = group(store::SendPolicy::anyone);
  c.backend.addresses["domain@example.gov.vn"] = group(store::SendPolicy::same_domain);
  c.backend.addresses["members@example.gov.vn"] = group(store::SendPolicy::members);
  c.backend.addresses["senders@example.gov.vn"] = group(store::SendPolicy::senders);
  c.backend.addresses["others@other.gov.vn"] = group(store::SendPolicy::same_domain);
  c.backend.domains.insert("other.gov.vn");
  // After `admin domain merge cu.gov.vn example.gov.vn`: a group reached as ...@cu.gov.vn is in
  // the sender's domain (canonical domains compared, not the addresses as typed).
  c.backend.domains.insert("cu.gov.vn");
  c.backend.alias_domains["cu.gov.vn"] = "example.gov.vn";
  c.backend.addresses["domain@cu.gov.vn"] = group(store::SendPolicy::same_domain);
  c.backend.passwords["chi@example.gov.vn"] = {"secret", 9};  // in the domain, not a member
  c.backend.addresses["chi@example.gov.vn"] = one(9);
  c.backend.senders.insert({9, "chi@example.gov.vn"});
  c.backend.senders.insert({9, "senders@example.gov.vn"});
  // chi: AUTH PLAIN \0chi@example.gov.vn\0secret
  c.send("EHLO x\r\nAUTH PLAIN AGNoaUBleGFtcGxlLmdvdi52bgBzZWNyZXQ=\r\n");
  c.send("MAIL FROM:<chi@example.gov.vn>\r\n");
  EXPECT_EQ(c.send("RCPT TO:<anyone@example.gov.vn>\r\n"), "250 2.1.5 Ok\r\n");
  EXPECT_EQ(c.send("RCPT TO:<domain@example.gov.vn>\r\n"), "250 2.1.5 Ok\r\n");
  EXPECT_EQ(c.send("RCPT TO:<domain@cu.gov.vn>\r\n"), "250 2.1.5 Ok\r\n");
  EXPECT_EQ(c.send("RCPT TO:<others@other.gov.vn>\r\n"),
            "550 5.7.1 Not allowed to send to the group <others@other.gov.vn>\r\n");
  EXPECT_EQ(c.send("RCPT TO:<Members@example.gov.vn>\r\n"),
            "550 5.7.1 Not allowed to send to the group <Members@example.gov.vn>\r\n");
  EXPECT_EQ(c.send("RCPT TO:<senders@example.gov.vn>\r\n"), "250 2.1.5 Ok\r\n");

  // An unauthenticated MX client may only write to groups open to anyone.
  Client m(mx_config());
  m.backend.addresses = c.backend.addresses;
  m.send("EHLO x\r\nMAIL FROM:<x@bo.gov.vn>\r\n");
  EXPECT_EQ(m.send("RCPT TO:<anyone@example.gov.vn>\r\n"), "250 2.1.5 Ok\r\n");
  for (const char* g : {"domain", "members", "senders"})
    EXPECT_EQ(m.send(std::string("RCPT TO:<") + g + "@example.gov.vn>\r\n").substr(0, 10),
              "550 5.7.1 ")
        << g;
}

TEST(SmtpSession, GroupMemberOverQuotaBouncedToSender) {
  Client c(mx_config());
  add_users(c.backend);
  c.backend.addresses["all@example.gov.vn"] = resolution(
      {account(1, 0, 0, "an@example.gov.vn"), account(3, 1000, 1000, "full@example.gov.vn"),
       account(4, 100, 0, "tiny@example.gov.vn")},
      true);
  // tiny fits 100 bytes: left out when the message turns out larger (at the end of DATA).
  c.send("EHLO x\r\nMAIL FROM:<ba@bo.vn> ENVID=abc\r\nRCPT TO:<all@example.gov.vn>\r\nDATA\r\n");
  EXPECT_EQ(
      c.send("From: ba@bo.vn\r\nSubject: circular\r\n\r\n" + std::string(200, 'x') + "\r\n.\r\n")
          .substr(0, 10),
      "250 2.0.0 ");
  ASSERT_EQ(c.backend.delivered.size(), 1u);
  EXPECT_EQ(c.backend.delivered[0].local.size(), 1u);  // an only
  ASSERT_EQ(c.backend.delivered[0].companions.size(), 1u);
  const auto& dsn = c.backend.delivered[0].companions[0];
  EXPECT_TRUE(dsn.companions.empty());
  EXPECT_EQ(dsn.envelope_from, "");
  ASSERT_EQ(dsn.remote.size(), 1u);  // the sender is remote: outbound queue
  EXPECT_EQ(dsn.remote[0].address, "ba@bo.vn");
  EXPECT_TRUE(dsn.local.empty());
  const std::string& raw = *dsn.raw;
  EXPECT_EQ(raw.rfind("Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@", 0), 0u);
  EXPECT_NE(raw.find("Content-Type: multipart/report; report-type=delivery-status"),
            std::string::npos);
  EXPECT_NE(raw.find("Original-Envelope-Id: abc\r\n"), std::string::npos);
  EXPECT_NE(raw.find("Final-Recipient: rfc822;full@example.gov.vn\r\nAction: failed\r\n"
                     "Status: 5.2.2\r\n"),
            std::string::npos)
      << raw;
  EXPECT_NE(raw.find("Final-Recipient: rfc822;tiny@example.gov.vn\r\n"), std::string::npos);
  EXPECT_NE(raw.find("Original-Recipient: rfc822;all@example.gov.vn\r\n"), std::string::npos);
  EXPECT_EQ(raw.find("Final-Recipient: rfc822;an@"), std::string::npos);
  EXPECT_NE(raw.find("text/rfc822-headers\r\n\r\nFrom: ba@bo.vn\r\nSubject: circular\r\n"),
            std::string::npos);

  // NOTIFY=NEVER and the null sender: no report.
  c.send("MAIL FROM:<ba@bo.vn>\r\nRCPT TO:<all@example.gov.vn> NOTIFY=NEVER\r\nDATA\r\n");
  c.send("Subject: x\r\n\r\nhi\r\n.\r\n");
  c.send("MAIL FROM:<>\r\nRCPT TO:<all@example.gov.vn>\r\nDATA\r\n");
  c.send("Subject: x\r\n\r\nhi\r\n.\r\n");
  ASSERT_EQ(c.backend.delivered.size(), 3u);
  EXPECT_TRUE(c.backend.delivered[1].companions.empty());
  EXPECT_TRUE(c.backend.delivered[2].companions.empty());
}

TEST(SmtpSession, FailedDeliveryStoresNeitherMessageNorReport) {
  Client c(mx_config());
  add_users(c.backend);
  c.backend.deliver_error = store::StoreError::temporary;
  c.send("EHLO x\r\nMAIL FROM:<ba@bo.vn>\r\nRCPT TO:<all@example.gov.vn>\r\nDATA\r\n");
  EXPECT_EQ(c.send("Subject: circular\r\n\r\nhi\r\n.\r\n").substr(0, 10), "451 4.3.0 ");
  EXPECT_TRUE(c.backend.delivered.empty());  // no report sent on its own after a failure
}

// A circular to all@ from a local user on submission: the deliveries the backend got.
std::vector<store::Delivery> circular_from(const FakeBackend& backend, std::string_view auth_plain,
                                           std::string_view from) {
  Client c(submission_config(), {"127.0.0.1", true, false});
  c.backend = backend;
  c.send("EHLO x\r\nAUTH PLAIN " + std::string(auth_plain) + "\r\nMAIL FROM:<" + std::string(from) +
         ">\r\nRCPT TO:<all@example.gov.vn>\r\nDATA\r\n");
  EXPECT_EQ(c.send("From: " + std::string(from) + "\r\n\r\nhi\r\n.\r\n").substr(0, 10),
            "250 2.0.0 ");
  return c.backend.delivered;
}

TEST(SmtpSession, ReportToAFullLocalSenderIsDroppedNotTheMessage) {
  FakeBackend backend;
  add_users(backend);
  backend.passwords["full@example.gov.vn"] = {"pw", 3};
  backend.passwords["binh@example.gov.vn"] = {"pw", 2};
  backend.senders.insert({{3, "full@example.gov.vn"}, {2, "binh@example.gov.vn"}});
  // full@ is itself left out of the group, and has no room for the report either.
  auto sent = circular_from(backend, "AGZ1bGxAZXhhbXBsZS5nb3Yudm4AcHc=", "full@example.gov.vn");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].local.size(), 3u);
  EXPECT_TRUE(sent[0].companions.empty());
  // A local sender with room gets it as a local companion.
  sent = circular_from(backend, "AGJpbmhAZXhhbXBsZS5nb3Yudm4AcHc=", "binh@example.gov.vn");
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_EQ(sent[0].companions.size(), 1u);
  ASSERT_EQ(sent[0].companions[0].local.size(), 1u);
  EXPECT_EQ(sent[0].companions[0].local[0].account_id, 2);
}

}  // namespace
}  // namespace govmail::smtp

namespace govmail::smtp {
namespace {

TEST(SmtpSession, InflightBudgetRefusesTheMessageThatDoesNotFitWith452) {
  core::ByteBudget& budget = core::inflight_message_bytes();
  const std::uint64_t saved = budget.limit();
  budget.set_limit(4000);
  {
    Client a(mx_config()), b(mx_config());
    add_users(a.backend);
    add_users(b.backend);
    const std::string start =
        "EHLO x\r\nMAIL FROM:<s@o.vn>\r\nRCPT TO:<an@example.gov.vn>\r\nDATA\r\n";
    std::string body = "Subject: budget\r\n\r\n";
    for (int i = 0; i < 30; ++i) body += std::string(98, 'x') + "\r\n";  // ~3 KB
    a.send(start);
    EXPECT_TRUE(a.session().mid_command());  // DATA has begun: the command deadline runs
    a.send(body);
    EXPECT_GE(budget.used(), 3000u);
    b.send(start);
    EXPECT_EQ(b.send(body + ".\r\n"), "452 4.3.1 Insufficient system storage, try again later\r\n");
    EXPECT_TRUE(b.backend.delivered.empty());
    EXPECT_EQ(b.send("NOOP\r\n"), "250 2.0.0 Ok\r\n");  // in sync
    EXPECT_EQ(a.send(".\r\n").substr(0, 3), "250");
    ASSERT_EQ(a.backend.delivered.size(), 1u);
    EXPECT_FALSE(a.session().mid_command());
    a.send("RSET\r\n");
    EXPECT_EQ(budget.used(), 0u);  // given back once the message is stored
    b.send("MAIL FROM:<s@o.vn>\r\nRCPT TO:<an@example.gov.vn>\r\nDATA\r\n");
    EXPECT_EQ(b.send(body + ".\r\n").substr(0, 3), "250");
  }
  EXPECT_EQ(budget.used(), 0u);
  budget.set_limit(saved);
}

}  // namespace
}  // namespace govmail::smtp
