// Sessions before login, without sockets or a database (STYLE.md 18): every limit and refusal.
#include <gtest/gtest.h>

#include <stdexcept>

#include "core/asio.hpp"
#include "imap/backend.hpp"
#include "imap/session.hpp"

namespace govmail::imap {
namespace {

struct NoStoreBackend : Backend {
  int auth_calls = 0;
  awaitable<core::AuthResult> authenticate(std::string user, std::string pw, std::string) override {
    ++auth_calls;
    core::AuthResult r;
    if (user == "a@example.gov.vn" && pw == "pw") r.outcome = core::AuthOutcome::ok;
    r.account_id = 1;
    co_return r;
  }
  store::MailboxStore& mailboxes() override { throw std::logic_error("no store in unit tests"); }
  store::Subscription subscribe_mailbox(store::MailboxId,
                                        std::function<void(const store::MailboxEvent&)>) override {
    return {};
  }
};

class Client {
 public:
  Client(const SessionConfig& cfg, ConnectionInfo conn) : session_(cfg, backend, std::move(conn)) {}
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
  Session& session() { return session_; }
  NoStoreBackend backend;
  bool closed = false, start_tls = false;

 private:
  asio::io_context io_;
  Session session_;
};

SessionConfig config() {
  SessionConfig c;
  c.starttls_available = true;
  c.limits = {.line_max = 200, .literal_max = 100};
  c.max_commands_before_auth = 5;
  c.max_bad_commands = 3;
  return c;
}

TEST(ImapSession, GreetingAndCapabilitiesDependOnTransport) {
  auto cfg = config();
  Client remote(cfg, {"192.0.2.1", false, false});
  auto greeting = remote.session().greeting();
  EXPECT_NE(greeting.find("* OK [CAPABILITY IMAP4rev1"), std::string::npos);
  EXPECT_NE(greeting.find("STARTTLS"), std::string::npos);
  EXPECT_NE(greeting.find("LOGINDISABLED"), std::string::npos);
  EXPECT_NE(remote.send("a LOGIN a@example.gov.vn pw\r\n").find("a NO [PRIVACYREQUIRED]"),
            std::string::npos);
  EXPECT_EQ(remote.backend.auth_calls, 0) << "no password checked over plaintext";
  EXPECT_EQ(remote.send("t STARTTLS\r\n"), "t OK Begin TLS negotiation now\r\n");
  EXPECT_TRUE(remote.start_tls);
  remote.session().tls_started();
  auto caps = remote.send("c CAPABILITY\r\n");
  EXPECT_EQ(caps.find("STARTTLS"), std::string::npos) << caps;
  EXPECT_NE(caps.find("AUTH=PLAIN"), std::string::npos) << caps;
  EXPECT_NE(remote.send("t2 STARTTLS\r\n").find("t2 BAD"), std::string::npos);
  EXPECT_NE(remote.send("l LOGIN a@example.gov.vn pw\r\n").find("l OK [CAPABILITY"),
            std::string::npos);
}

TEST(ImapSession, CommandsBeforeLoginAreCounted) {
  auto cfg = config();
  Client c(cfg, {"192.0.2.1", false, true});
  EXPECT_NE(c.send("1 NOOP\r\n2 NOOP\r\n3 NOOP\r\n4 NOOP\r\n5 NOOP\r\n").find("5 OK"),
            std::string::npos);
  EXPECT_FALSE(c.closed);
  EXPECT_NE(c.send("6 NOOP\r\n").find("* BYE Too many commands before login"), std::string::npos);
  EXPECT_TRUE(c.closed);
}

TEST(ImapSession, BadCommandsEndTheSessionAfterTheBudget) {
  auto cfg = config();
  Client c(cfg, {"192.0.2.1", false, true});
  EXPECT_NE(c.send("a SELECT INBOX\r\n").find("a BAD Command not valid in this state"),
            std::string::npos);
  EXPECT_NE(c.send("b UID NOOP\r\n").find("b BAD UID not valid"), std::string::npos);
  EXPECT_FALSE(c.closed);
  EXPECT_NE(c.send("c \"x\r\n").find("* BYE Too many invalid commands"), std::string::npos);
  EXPECT_TRUE(c.closed);
}

TEST(ImapSession, LongLinesAndBigLiteralsAreRefusedAndTheSessionGoesOn) {
  auto cfg = config();
  Client c(cfg, {"192.0.2.1", false, true});
  auto r = c.send("a NOOP " + std::string(300, 'x') + "\r\nb NOOP\r\n");
  EXPECT_NE(r.find("BAD [TOOBIG]"), std::string::npos) << r;
  EXPECT_NE(r.find("b OK"), std::string::npos) << r;
  EXPECT_NE(c.send("l LOGIN {101}\r\n").find("l BAD [TOOBIG]"), std::string::npos);
  EXPECT_EQ(c.send("l LOGIN {16}\r\n"), "+ OK\r\n");
  EXPECT_NE(c.send("a@example.gov.vn pw\r\n").find("l OK"), std::string::npos);
  EXPECT_FALSE(c.closed);
}

TEST(ImapSession, NonSynchronisingLiteralOverTheLimitCloses) {
  auto cfg = config();
  Client c(cfg, {"192.0.2.1", false, true});
  auto r = c.send("l LOGIN {500+}\r\n");
  EXPECT_NE(r.find("* BYE"), std::string::npos) << r;
  EXPECT_TRUE(c.closed);
}

TEST(ImapSession, AuthenticationFailuresCloseAfterThree) {
  auto cfg = config();
  Client c(cfg, {"192.0.2.1", false, true});
  for (int i = 0; i < 2; ++i)
    EXPECT_NE(c.send("l LOGIN a@example.gov.vn bad\r\n").find("l NO [AUTHENTICATIONFAILED]"),
              std::string::npos);
  EXPECT_FALSE(c.closed);
  EXPECT_NE(c.send("l LOGIN a@example.gov.vn bad\r\n").find("* BYE"), std::string::npos);
  EXPECT_TRUE(c.closed);
  Client d(cfg, {"192.0.2.1", false, true});
  EXPECT_EQ(d.send("p AUTHENTICATE PLAIN\r\n"), "+ \r\n");
  EXPECT_NE(d.send("*\r\n").find("p BAD AUTHENTICATE cancelled"), std::string::npos);
  EXPECT_NE(d.send("q AUTHENTICATE PLAIN !!!\r\n").find("q BAD Invalid base64"), std::string::npos);
}

TEST(ImapSession, LogoutSaysByeThenOk) {
  auto cfg = config();
  Client c(cfg, {"192.0.2.1", false, true});
  EXPECT_EQ(c.send("z LOGOUT\r\n"), "* BYE Logging out\r\nz OK LOGOUT completed\r\n");
  EXPECT_TRUE(c.closed);
}

}  // namespace
}  // namespace govmail::imap
