// The outbound SMTP client: the reply parser as tables and byte by byte, the message preparation,
// and whole dialogues against a scripted fake server on 127.0.0.1.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <functional>

#include "core/asio.hpp"
#include "core/stream.hpp"
#include "core/tls.hpp"
#include "smtp/client.hpp"
#include "smtp/reply_parser.hpp"
#include "smtp/src/client/message.hpp"
#include "stream_impl.hpp"

namespace govmail::smtp::client {
namespace {

using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

// ---- reply parser ----------------------------------------------------------------------------

struct ParseCase {
  std::string wire;
  int code;
  std::string enhanced;
  std::string text;
};

TEST(ReplyParser, Table) {
  const std::vector<ParseCase> cases = {
      {"250 ok\r\n", 250, "", "ok"},
      {"250 2.1.0 Sender ok\r\n", 250, "2.1.0", "Sender ok"},
      {"550 5.1.1 <a@b>: unknown\r\n", 550, "5.1.1", "<a@b>: unknown"},
      {"451 4.3.0\r\n", 451, "4.3.0", ""},
      {"250\r\n", 250, "", ""},
      {"250 ok\n", 250, "", "ok"},  // bare LF tolerated
      {"250-mx.test\r\n250-PIPELINING\r\n250 SIZE 100\r\n", 250, "",
       "mx.test\nPIPELINING\nSIZE 100"},
      {"550-5.7.1 first\r\n550 5.7.1 second\r\n", 550, "5.7.1", "first\nsecond"},
      {"250 5.1.0 wrong class kept as text\r\n", 250, "", "5.1.0 wrong class kept as text"},
      {"220 mx.test ESMTP\r\n", 220, "", "mx.test ESMTP"},
  };
  for (const auto& c : cases) {
    ReplyParser p;
    p.feed(c.wire);
    ASSERT_EQ(p.next(), ReplyParser::Status::complete) << c.wire;
    EXPECT_EQ(p.reply().code, c.code) << c.wire;
    EXPECT_EQ(p.reply().enhanced, c.enhanced) << c.wire;
    EXPECT_EQ(p.reply().text, c.text) << c.wire;
    EXPECT_EQ(p.next(), ReplyParser::Status::need_more) << c.wire;
  }
}

TEST(ReplyParser, Errors) {
  const std::vector<std::pair<std::string, ReplyParser::Error>> cases = {
      {"hello\r\n", ReplyParser::Error::syntax},
      {"25\r\n", ReplyParser::Error::syntax},
      {"250x\r\n", ReplyParser::Error::syntax},
      {"\r\n", ReplyParser::Error::syntax},
      {"354 go\r\n", ReplyParser::Error::none},  // 3xx is a reply; the client judges it
      {"150 wait\r\n", ReplyParser::Error::bad_code},
      {"650 no\r\n", ReplyParser::Error::bad_code},
      {"250-a\r\n550 b\r\n", ReplyParser::Error::inconsistent_code},
      {std::string(5000, '2') + "\r\n", ReplyParser::Error::line_too_long},
  };
  for (const auto& [wire, err] : cases) {
    ReplyParser p;
    p.feed(wire);
    const auto st = p.next();
    if (err == ReplyParser::Error::none) {
      EXPECT_EQ(st, ReplyParser::Status::complete) << wire;
      continue;
    }
    EXPECT_EQ(st, ReplyParser::Status::error) << wire;
    EXPECT_EQ(p.error(), err) << wire;
    EXPECT_EQ(p.next(), ReplyParser::Status::error) << "stays failed";
  }
  std::string many;
  for (int i = 0; i < 101; ++i) many += "250-x\r\n";
  ReplyParser p;
  p.feed(many);
  EXPECT_EQ(p.next(), ReplyParser::Status::error);
  EXPECT_EQ(p.error(), ReplyParser::Error::too_many_lines);
  ReplyParser small(ReplyParser::Limits{10, 100});
  small.feed("250 01234567890\r\n");
  EXPECT_EQ(small.next(), ReplyParser::Status::error);
  EXPECT_EQ(small.error_text(), "remote sent an over-long reply line");
}

TEST(ReplyParser, ByteAtATimeAndPipelined) {
  const std::string wire =
      "250 2.1.0 ok\r\n250-2.1.5 one\r\n250 2.1.5 two\r\n354 End data with <CR><LF>.<CR><LF>\r\n";
  ReplyParser p;
  std::vector<Reply> got;
  for (char c : wire) {
    p.feed(std::string_view(&c, 1));
    for (;;) {
      const auto st = p.next();
      ASSERT_NE(st, ReplyParser::Status::error);
      if (st == ReplyParser::Status::need_more) break;
      got.push_back(p.reply());
    }
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].enhanced, "2.1.0");
  EXPECT_EQ(got[1].text, "one\ntwo");
  EXPECT_EQ(got[2].code, 354);
  ReplyParser all;
  all.feed(wire);
  int n = 0;
  while (all.next() == ReplyParser::Status::complete) ++n;
  EXPECT_EQ(n, 3);
}

TEST(ReplyParser, EhloCapabilities) {
  Reply r{250, "",
          "mx.example.gov.vn Hello\npipelining\nSIZE 35882577\n8BITMIME\nSMTPUTF8\nCHUNKING\n"
          "STARTTLS\nDSN\nAUTH PLAIN login\nAUTH=CRAM-MD5\nENHANCEDSTATUSCODES\nX-UNKNOWN 1"};
  const Capabilities c = parse_ehlo(r);
  EXPECT_TRUE(c.esmtp && c.pipelining && c.size && c.eightbitmime && c.smtputf8 && c.chunking &&
              c.starttls && c.dsn && c.enhancedstatuscodes);
  EXPECT_EQ(c.size_limit, 35882577u);
  EXPECT_EQ(c.server_name, "mx.example.gov.vn");
  EXPECT_TRUE(c.has_auth("plain"));
  EXPECT_TRUE(c.has_auth("LOGIN"));
  EXPECT_TRUE(c.has_auth("CRAM-MD5"));
  const Capabilities bare = parse_ehlo(Reply{250, "", "mx PIPELINING"});  // first line only
  EXPECT_FALSE(bare.pipelining);
  EXPECT_EQ(parse_ehlo(Reply{250, "", "mx\nSIZE"}).size_limit, 0u);
  EXPECT_EQ(parse_ehlo(Reply{250, "", "mx\nSIZE 99999999999999999999999"}).size_limit, 0u);
}

// ---- message preparation -----------------------------------------------------------------

std::string unstuff(std::string_view wire) {  // what a server makes of DATA (without ".\r\n")
  std::string out;
  std::size_t pos = 0;
  while (pos < wire.size()) {
    const std::size_t e = wire.find("\r\n", pos);
    std::string_view line = wire.substr(pos, e - pos);
    pos = e + 2;
    if (line == ".") break;
    if (!line.empty() && line[0] == '.') line.remove_prefix(1);
    out += line;
    out += "\r\n";
  }
  return out;
}

TEST(WireMessage, DotStuffingBareLfAndChecks) {
  const std::string msg = "Subject: x\n\n.line\r\n..two\n.\nend";
  WireMessage w = prepare_message(msg, true);
  EXPECT_EQ(w.wire, "Subject: x\r\n\r\n..line\r\n...two\r\n..\r\nend\r\n.\r\n");
  EXPECT_EQ(unstuff(w.wire), "Subject: x\r\n\r\n.line\r\n..two\r\n.\r\nend\r\n");
  EXPECT_EQ(w.size, unstuff(w.wire).size());
  EXPECT_FALSE(w.eight_bit);
  EXPECT_EQ(prepare_message(msg, false).wire, unstuff(w.wire));
  EXPECT_EQ(prepare_message(std::string(998, 'a') + "\r\n", true).long_line, 0u);
  EXPECT_EQ(prepare_message("a\r\n" + std::string(999, 'a') + "\r\n", true).long_line, 2u);
  WireMessage body8 = prepare_message("Subject: x\r\n\r\nViệt\r\n", true);
  EXPECT_TRUE(body8.eight_bit);
  EXPECT_FALSE(body8.header_non_ascii);
  EXPECT_TRUE(prepare_message("Subject: Việt\r\n\r\nx\r\n", true).header_non_ascii);
}

// ---- scripted fake server ----------------------------------------------------------------

// The remote side of one connection, driven by a test's script.
struct Peer {
  core::Stream& s;
  std::string buf;                    // read, not yet consumed
  std::vector<std::string> reads;     // every read as it arrived
  std::vector<std::string> commands;  // every line() taken

  awaitable<bool> fill() {
    std::array<char, 16384> tmp;
    core::IoResult r = co_await s.read_some(tmp);
    if (!r) co_return false;
    reads.emplace_back(tmp.data(), r.bytes);
    buf.append(tmp.data(), r.bytes);
    co_return true;
  }
  awaitable<std::string> line() {
    for (;;) {
      if (auto p = buf.find("\r\n"); p != std::string::npos) {
        std::string l = buf.substr(0, p);
        buf.erase(0, p + 2);
        commands.push_back(l);
        co_return l;
      }
      if (!co_await fill()) co_return "<eof>";
    }
  }
  awaitable<std::string> until(std::string_view end) {  // up to and including `end`
    for (;;) {
      if (auto p = buf.find(end); p != std::string::npos) {
        std::string d = buf.substr(0, p + end.size());
        buf.erase(0, p + end.size());
        co_return d;
      }
      if (!co_await fill()) co_return "<eof>";
    }
  }
  awaitable<std::string> bytes(std::size_t n) {
    while (buf.size() < n)
      if (!co_await fill()) co_return "<eof>";
    std::string d = buf.substr(0, n);
    buf.erase(0, n);
    co_return d;
  }
  // string_view parameters: GCC 12 cannot copy a string literal into a coroutine's std::string
  // parameter ("array used as initializer"); the callers' strings outlive the co_await.
  awaitable<void> say(std::string_view text) { (void)co_await s.write(text); }
  // Reads one command and answers it.
  awaitable<std::string> expect(std::string_view reply) {
    std::string l = co_await line();
    co_await say(reply);
    co_return l;
  }
  // caps: EHLO keywords separated by '|' (no braced lists in coroutines: GCC 12 fails on the
  // initializer_list's array living across a co_await).
  awaitable<void> greet(std::string_view caps) {
    co_await say("220 mx.test ESMTP\r\n");
    std::vector<std::string> lines{"mx.test"};
    while (!caps.empty()) {
      const std::size_t bar = caps.find('|');
      lines.emplace_back(caps.substr(0, bar));
      caps = bar == std::string_view::npos ? std::string_view() : caps.substr(bar + 1);
    }
    const std::string reply = multiline(250, "", lines);
    co_await expect(reply);
  }
  awaitable<void> quit() { co_await expect("221 2.0.0 bye\r\n"); }
};

Options test_options() {
  Options o;
  o.helo_name = "client.test";
  o.tls = TlsMode::none;
  o.connect = o.greeting = o.ehlo = o.mail = o.rcpt = o.data_init = o.data_block = o.data_end = 3s;
  o.quit = 1s;
  return o;
}

template <class... Address>  // no braced list: see Peer::greet
Envelope envelope(Address... rcpts) {
  Envelope e;
  e.from = "sender@client.test";
  (e.rcpts.push_back({rcpts, {}, {}}), ...);
  return e;
}

constexpr std::string_view kOkOkGo[] = {"250 ok\r\n", "250 ok\r\n", "354 go\r\n"};

const std::string kMessage = "From: a@client.test\r\nSubject: hi\r\n\r\nhello\r\n";

class ClientTest : public ::testing::Test {
 protected:
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::vector<std::string> commands;  // what the server read, line by line
  std::vector<std::string> reads;     // what the server read, read by read

  std::uint16_t port() const { return acceptor.local_endpoint().port(); }

  void run(std::function<awaitable<void>(Peer&)> server, std::function<awaitable<void>()> client) {
    std::exception_ptr failure;
    auto done = [&](std::exception_ptr e) {
      if (e && !failure) failure = e;
    };
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          tcp::socket sock = co_await acceptor.async_accept(use_awaitable);
          core::Stream stream(std::make_unique<core::Stream::Impl>(std::move(sock)));
          stream.set_read_timeout(5s);
          Peer peer{stream, {}, {}, {}};
          co_await server(peer);
          commands = peer.commands;
          reads = peer.reads;
        },
        done);
    asio::co_spawn(io, client(), done);
    io.run_for(20s);
    if (failure) std::rethrow_exception(failure);
  }

  awaitable<std::unique_ptr<Connection>> open_ok(Options opts = test_options()) {
    auto c = co_await Connection::open(io.get_executor(), "127.0.0.1", port(), "localhost",
                                       std::move(opts));
    if (!c) {
      ADD_FAILURE() << "open failed: " << c.error().reply.code << " " << c.error().reply.text;
      co_return nullptr;
    }
    co_return std::move(*c);
  }
};

TEST_F(ClientTest, EsmtpWithPipeliningSendsMailRcptAndDataInOneBatch) {
  Outcome out;
  std::string data;
  std::size_t batch_reads = 0;
  run(
      [&](Peer& p) -> awaitable<void> {
        co_await p.greet("PIPELINING|SIZE 1000000|8BITMIME|ENHANCEDSTATUSCODES|DSN");
        const std::size_t before = p.reads.size();
        co_await p.line();
        co_await p.line();
        co_await p.line();
        co_await p.line();
        batch_reads = p.reads.size() - before;
        co_await p.say("250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n354 go\r\n");
        data = co_await p.until("\r\n.\r\n");
        co_await p.say("250 2.0.0 queued as 1\r\n");
        co_await p.quit();
      },
      [&]() -> awaitable<void> {
        auto c = co_await open_ok();
        if (!c) co_return;
        EXPECT_TRUE(c->capabilities().pipelining);
        Envelope e = envelope("a@mx.test", "b@mx.test");
        e.ret = "HDRS";
        e.envid = "ID1";
        e.rcpts[0].notify = "SUCCESS,FAILURE";
        e.rcpts[0].orcpt = "rfc822;a@mx.test";
        out = co_await c->send(e, kMessage);
        EXPECT_EQ(c->transactions(), 1u);
        co_await c->quit();
        EXPECT_FALSE(c->usable());
      });
  EXPECT_TRUE(out.ok()) << out.reply.text;
  EXPECT_EQ(out.stage, Outcome::Stage::done);
  EXPECT_TRUE(out.connection_usable);
  ASSERT_EQ(out.rcpt_replies.size(), 2u);
  EXPECT_EQ(out.rcpt_replies[1].enhanced, "2.1.5");
  EXPECT_EQ(batch_reads, 1u) << "MAIL, RCPT, RCPT, DATA arrive in one read";
  ASSERT_GE(commands.size(), 6u);
  EXPECT_EQ(commands[0], "EHLO client.test");
  EXPECT_EQ(commands[1], "MAIL FROM:<sender@client.test> SIZE=" + std::to_string(kMessage.size()) +
                             " RET=HDRS ENVID=ID1");
  EXPECT_EQ(commands[2], "RCPT TO:<a@mx.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@mx.test");
  EXPECT_EQ(commands[3], "RCPT TO:<b@mx.test>");
  EXPECT_EQ(commands[4], "DATA");
  EXPECT_EQ(commands.back(), "QUIT");
  EXPECT_EQ(data, kMessage + ".\r\n");
}

TEST_F(ClientTest, WithoutPipeliningOneCommandAtATime) {
  Outcome out;
  bool extra = false;
  run(
      [&](Peer& p) -> awaitable<void> {
        co_await p.greet("SIZE");
        for (std::string_view r : kOkOkGo) {
          co_await p.line();
          extra = extra || !p.buf.empty();
          co_await p.say(r);
        }
        co_await p.until("\r\n.\r\n");
        co_await p.say("250 ok\r\n");
        co_await p.quit();
      },
      [&]() -> awaitable<void> {
        auto c = co_await open_ok();
        if (!c) co_return;
        out = co_await c->send(envelope("a@mx.test"), kMessage);
        co_await c->quit();
      });
  EXPECT_TRUE(out.ok());
  EXPECT_FALSE(extra) << "nothing pipelined";
  ASSERT_GE(commands.size(), 4u);
  EXPECT_EQ(commands[1], "MAIL FROM:<sender@client.test> SIZE=" + std::to_string(kMessage.size()));
}

TEST_F(ClientTest, HeloFallbackWhenEhloIsRefused) {
  Outcome out;
  run(
      [&](Peer& p) -> awaitable<void> {
        co_await p.say("220 old.test SMTP\r\n");
        co_await p.expect("502 5.5.2 what?\r\n");
        co_await p.expect("250 old.test\r\n");
        co_await p.expect("250 ok\r\n");
        co_await p.expect("250 ok\r\n");
        co_await p.expect("354 go\r\n");
        co_await p.until("\r\n.\r\n");
        co_await p.say("250 ok\r\n");
        co_await p.quit();
      },
      [&]() -> awaitable<void> {
        auto c = co_await open_ok();
        if (!c) co_return;
        EXPECT_FALSE(c->capabilities().esmtp);
        out = co_await c->send(envelope("a@old.test"), kMessage);
        co_await c->quit();
      });
  EXPECT_TRUE(out.ok());
  ASSERT_GE(commands.size(), 3u);
  EXPECT_EQ(commands[1], "HELO client.test");
  EXPECT_EQ(commands[2], "MAIL FROM:<sender@client.test>");
}

class TlsClientTest : public ClientTest {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("govmail-client-tls-" + std::to_string(::getpid()));
    cert_ = dir_ / "cert.pem";
    key_ = dir_ / "key.pem";
    ASSERT_TRUE(core::ensure_self_signed(cert_, key_, "localhost").ok());
    core::TlsConfig cfg;
    cfg.cert_file = cert_;
    cfg.key_file = key_;
    auto ctx = core::make_server_tls_context(cfg);
    ASSERT_TRUE(ctx.ok()) << ctx.error();
    server_ctx_ = *ctx;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::function<awaitable<void>(Peer&)> tls_server(bool* handshake_ok) {
    return [this, handshake_ok](Peer& p) -> awaitable<void> {
      co_await p.greet("STARTTLS|PIPELINING");
      co_await p.expect("220 2.0.0 go ahead\r\n");
      core::IoResult hs = co_await p.s.handshake(*server_ctx_);
      *handshake_ok = static_cast<bool>(hs);
      if (!hs) co_return;
      co_await p.expect("250-mx.test\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n");
      std::string batch = co_await p.line();
      if (batch.rfind("AUTH PLAIN ", 0) == 0) {
        co_await p.say("235 2.7.0 ok\r\n");
        co_await p.line();
      }
      co_await p.line();
      co_await p.line();
      co_await p.say("250 ok\r\n250 ok\r\n354 go\r\n");
      co_await p.until("\r\n.\r\n");
      co_await p.say("250 ok\r\n");
      co_await p.quit();
    };
  }

  std::filesystem::path dir_, cert_, key_;
  core::TlsContext server_ctx_;
};

TEST_F(TlsClientTest, OpportunisticStartTlsThenEhloAgain) {
  bool handshake_ok = false;
  Outcome out;
  bool tls = false;
  run(tls_server(&handshake_ok), [&]() -> awaitable<void> {
    Options o = test_options();
    o.tls = TlsMode::opportunistic;
    o.tls_ctx_noverify = core::make_client_tls_context_noverify();
    auto c = co_await open_ok(o);
    if (!c) co_return;
    tls = c->tls_active();
    EXPECT_FALSE(c->capabilities().starttls) << "capabilities from after the handshake";
    out = co_await c->send(envelope("a@mx.test"), kMessage);
    co_await c->quit();
  });
  EXPECT_TRUE(handshake_ok);
  EXPECT_TRUE(tls);
  EXPECT_TRUE(out.ok()) << out.reply.text;
  ASSERT_GE(commands.size(), 3u);
  EXPECT_EQ(commands[1], "STARTTLS");
  EXPECT_EQ(commands[2], "EHLO client.test");
}

TEST_F(TlsClientTest, VerifiedTlsWithAuthPlain) {
  bool handshake_ok = false;
  Outcome out;
  run(tls_server(&handshake_ok), [&]() -> awaitable<void> {
    Options o = test_options();
    o.tls = TlsMode::required_verified;
    o.tls_ctx_verify = core::make_client_tls_context(cert_);
    o.auth_user = "relay";
    o.auth_password = "secret";
    auto c = co_await open_ok(o);
    if (!c) co_return;
    out = co_await c->send(envelope("a@mx.test"), kMessage);
    co_await c->quit();
  });
  EXPECT_TRUE(handshake_ok);
  EXPECT_TRUE(out.ok()) << out.reply.text;
  ASSERT_GE(commands.size(), 4u);
  // base64("\0relay\0secret")
  EXPECT_EQ(commands[3], "AUTH PLAIN AHJlbGF5AHNlY3JldA==");
}

TEST_F(TlsClientTest, VerificationFailsForAnotherName) {
  std::optional<Outcome> failed;
  run(
      [&](Peer& p) -> awaitable<void> {
        co_await p.greet("STARTTLS");
        co_await p.expect("220 2.0.0 go ahead\r\n");
        (void)co_await p.s.handshake(*server_ctx_);
      },
      [&]() -> awaitable<void> {
        Options o = test_options();
        o.tls = TlsMode::required_verified;
        o.tls_ctx_verify = core::make_client_tls_context(cert_);
        auto c = co_await Connection::open(io.get_executor(), "127.0.0.1", port(),
                                           "mx.elsewhere.test", o);
        if (!c) failed = c.error();
      });
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->stage, Outcome::Stage::starttls);
  EXPECT_EQ(failed->reply.code, 421);
  EXPECT_EQ(failed->reply.enhanced, "4.7.5");
  EXPECT_TRUE(failed->local);
}

TEST_F(ClientTest, TlsRequiredButNotOffered) {
  std::optional<Outcome> failed;
  run(
      [&](Peer& p) -> awaitable<void> {
        co_await p.greet("PIPELINING");
        co_await p.quit();
      },
      [&]() -> awaitable<void> {
        Options o = test_options();
        o.tls = TlsMode::required;
        o.tls_ctx_noverify = core::make_client_tls_context_noverify();
        auto c = co_await Connection::open(io.get_executor(), "127.0.0.1", port(), "mx.test", o);
        if (!c) failed = c.error();
      });
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->stage, Outcome::Stage::starttls);
  EXPECT_EQ(failed->reply.code / 100, 4);
  EXPECT_EQ(failed->reply.enhanced, "4.7.4");
  EXPECT_NE(failed->reply.text.find("does not offer STARTTLS"), std::string::npos);
  EXPECT_FALSE(failed->connection_usable);
  EXPECT_EQ(commands.back(), "QUIT");
}

TEST_F(ClientTest, SomeRecipientsRefusedTheOthersGetTheMessage) {
  Outcome out;
  run(
      [&](Peer& p) -> awaitable<void> {
        co_await p.greet("PIPELINING|ENHANCEDSTATUSCODES");
        for (int i = 0; i < 5; ++i) co_await p.line();
        co_await p.say(
            "250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no such user\r\n450 4.2.1 busy\r\n354 "
            "go\r\n");
        co_await p.until("\r\n.\r\n");
        co_await p.say("250 2.0.0 queued\r\n");
        co_await p.quit();
      },
      [&]() -> awaitable<void> {
        auto c = co_await open_ok();
        if (!c) co_return;
        out = co_await c->send(envelope("a@mx.test", "b@mx.test", "c@mx.test"), kMessage);
        co_await c->quit();
      });
  EXPECT_TRUE(out.ok());
  ASSERT_EQ(out.rcpt_replies.size(), 3u);
  EXPECT_EQ(out.for_recipient(0).code, 250);
  EXPECT_EQ(out.for_recipient(1).code, 550);
  EXPECT_EQ(out.for_recipient(1).enhanced, "5.1.1");
  EXPECT_EQ(out.for_recipient(2).code, 450);
  EXPECT_TRUE(out.connection_usable);
}

TEST_F(ClientTest, DataRefusedWith451) {
  Outcome out;
  run(
      [&](Peer& p) -> awaitable<void> {
        co_await p.greet("");
        co_await p.expect("250 ok\r\n");
        co_await p.expect("250 ok\r\n");
        co_await p.expect("354 go\r\n");
        co_await p.until("\r\n.\r\n");
        co_await p.say("451 4.3.0 try later\r\n");
        co_await p.quit();
      },
      [&]() -> awaitable<void> {
        auto c = co_await open_ok();
        if (!c) co_return;
        out = co_await c->send(envelope("a@mx.test"), kMessage);
        co_await c->quit();
      });
  EXPECT_EQ(out.stage, Outcome::Stage::data);
  EXPECT_EQ(out.reply.code, 451);
  EXPECT_FALSE(out.local);
  EXPECT_TRUE(out.connection_usable);
  EXPECT_EQ(out.for_recipient(0).code, 451);
  EXPECT_EQ(commands.back(), "QUIT") << "no RSET after a final reply";
}

TEST_F(ClientTest, Reply421MidTransactionMakesTheConnectionUnusable) {
  Outcome out;
  bool usable_after = true;
  run(
      [&](Peer& p) -> awaitable<void> {
        co_await p.greet("");
        co_await p.expect("250 ok\r\n");
        co_await p.expect("421 4.3.2 shutting down\r\n");
      },
      [&]() -> awaitable<void> {
        auto c = co_await open_ok();
        if (!c) co_return;
        out = co_await c->send(envelope("a@mx.test", "b@mx.test"), kMessage);
        usable_after = c->usable();
        co_await c->quit();
      });
  EXPECT_EQ(out.stage, Outcome::Stage::rcpt);
  EXPECT_EQ(out.reply.code, 421);
  EXPECT_FALSE(out.connection_usable);
  EXPECT_FALSE(usable_after);
  EXPECT_EQ(out.for_recipient(1).code, 421);
}

TEST_F(ClientTest, GarbageReplyIsAConnectionFailure) {
  Outcome out;
  run(
      [&](Peer& p) -> awaitable<void> {
        co_await p.greet("");
        co_await p.expect("hello there\r\n");
        co_await p.line();
      },
      [&]() -> awaitable<void> {
        auto c = co_await open_ok();
        if (!c) co_return;
        out = co_await c->send(envelope("a@mx.test"), kMessage);
      });
  EXPECT_EQ(out.stage, Outcome::Stage::mail);
  EXPECT_EQ(out.reply.code, 421);
  EXPECT_EQ(out.reply.enhanced, "4.4.2");
  EXPECT_EQ(out.reply.text, "remote sent a malformed reply after MAIL FROM");
  EXPECT_TRUE(out.local);
  EXPECT_FALSE(out.connection_usable);
}

TEST_F(ClientTest, OverlongReplyLine) {
  std::optional<Outcome> failed;
  run(
      [&](Peer& p) -> awaitable<void> {
        co_await p.say("220 " + std::string(5000, 'x') + "\r\n");
        co_await p.line();
      },
      [&]() -> awaitable<void> {
        auto c = co_await Connection::open(io.get_executor(), "127.0.0.1", port(), "mx.test",
                                           test_options());
        if (!c) failed = c.error();
      });
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->stage, Outcome::Stage::greeting);
  EXPECT_EQ(failed->reply.code, 421);
  EXPECT_EQ(failed->reply.text, "remote sent an over-long reply line waiting for the greeting");
}

TEST_F(ClientTest, ConnectionDroppedDuringData) {
  Outcome out;
  const std::string big = "Subject: big\r\n\r\n" + std::string(50, 'x') + "\r\n";
  run(
      [&](Peer& p) -> awaitable<void> {
        co_await p.greet("");
        co_await p.expect("250 ok\r\n");
        co_await p.expect("250 ok\r\n");
        co_await p.expect("354 go\r\n");
        co_await p.bytes(10);
        p.s.close();
      },
      [&]() -> awaitable<void> {
        auto c = co_await open_ok();
        if (!c) co_return;
        out = co_await c->send(envelope("a@mx.test"), big);
      });
  EXPECT_EQ(out.stage, Outcome::Stage::data);
  EXPECT_EQ(out.reply.code, 421);
  EXPECT_EQ(out.reply.enhanced, "4.4.2");
  EXPECT_NE(out.reply.text.find("connection closed by the remote"), std::string::npos)
      << out.reply.text;
  EXPECT_TRUE(out.local);
  EXPECT_FALSE(out.connection_usable);
}

TEST_F(ClientTest, GreetingTimeout) {
  std::optional<Outcome> failed;
  auto started = std::chrono::steady_clock::now();
  run([&](Peer& p) -> awaitable<void> { co_await p.line(); },
      [&]() -> awaitable<void> {
        Options o = test_options();
        o.greeting = 200ms;
        auto c = co_await Connection::open(io.get_executor(), "127.0.0.1", port(), "mx.test", o);
        if (!c) failed = c.error();
      });
  ASSERT_TRUE(failed);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_EQ(failed->stage, Outcome::Stage::greeting);
  EXPECT_EQ(failed->reply.code, 421);
  EXPECT_EQ(failed->reply.text, "timed out waiting for the greeting");
}

TEST_F(ClientTest, GreetingRefusalIsPermanent) {
  std::optional<Outcome> failed;
  run(
      [&](Peer& p) -> awaitable<void> {
        co_await p.say("554 5.7.1 go away\r\n");
        co_await p.quit();
      },
      [&]() -> awaitable<void> {
        auto c = co_await Connection::open(io.get_executor(), "127.0.0.1", port(), "mx.test",
                                           test_options());
        if (!c) failed = c.error();
      });
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->reply.code, 554);
  EXPECT_FALSE(failed->local);
  EXPECT_EQ(commands.back(), "QUIT");
}

TEST_F(ClientTest, DotStuffingIsByteExact) {
  const std::string msg = "Subject: dots\r\n\r\n.line\r\n..\r\n.\r\nmiddle . dot\nbare lf\n.end";
  std::string data;
  Outcome out;
  run(
      [&](Peer& p) -> awaitable<void> {
        co_await p.greet("PIPELINING");
        for (int i = 0; i < 3; ++i) co_await p.line();
        co_await p.say("250 ok\r\n250 ok\r\n354 go\r\n");
        data = co_await p.until("\r\n.\r\n");
        co_await p.say("250 ok\r\n");
        co_await p.quit();
      },
      [&]() -> awaitable<void> {
        auto c = co_await open_ok();
        if (!c) co_return;
        out = co_await c->send(envelope("a@mx.test"), msg);
        co_await c->quit();
      });
  EXPECT_TRUE(out.ok());
  EXPECT_EQ(
      data,
      "Subject: dots\r\n\r\n..line\r\n...\r\n..\r\nmiddle . dot\r\nbare lf\r\n..end\r\n.\r\n");
  EXPECT_EQ(unstuff(data),
            "Subject: dots\r\n\r\n.line\r\n..\r\n.\r\nmiddle . dot\r\nbare lf\r\n.end\r\n");
}

TEST_F(ClientTest, ChunkingSendsBdat) {
  const std::string msg = "Subject: chunk\n\n.not stuffed\n";
  const std::string expected = "Subject: chunk\r\n\r\n.not stuffed\r\n";
  std::string bdat, body;
  Outcome out;
  run(
      [&](Peer& p) -> awaitable<void> {
        co_await p.greet("PIPELINING|CHUNKING|8BITMIME");
        co_await p.line();
        co_await p.line();
        co_await p.say("250 ok\r\n250 ok\r\n");
        bdat = co_await p.line();
        body = co_await p.bytes(expected.size());
        co_await p.say("250 2.0.0 chunked\r\n");
        co_await p.quit();
      },
      [&]() -> awaitable<void> {
        auto c = co_await open_ok();
        if (!c) co_return;
        out = co_await c->send(envelope("a@mx.test"), msg);
        co_await c->quit();
      });
  EXPECT_TRUE(out.ok());
  EXPECT_EQ(bdat, "BDAT " + std::to_string(expected.size()) + " LAST");
  EXPECT_EQ(body, expected);
  EXPECT_EQ(commands.back(), "QUIT");
}

// Local refusals: nothing of the transaction goes to the server.
class LocalRefusalTest : public ClientTest {
 protected:
  void check(std::string caps, Envelope env, std::string message, int code,
             const std::string& enhanced) {
    Outcome out;
    bool usable = false;
    run(
        [&](Peer& p) -> awaitable<void> {
          co_await p.greet(caps);
          co_await p.quit();
        },
        [&]() -> awaitable<void> {
          auto c = co_await open_ok();
          if (!c) co_return;
          out = co_await c->send(env, message);
          usable = c->usable();
          co_await c->quit();
        });
    EXPECT_EQ(out.reply.code, code) << out.reply.text;
    EXPECT_EQ(out.reply.enhanced, enhanced);
    EXPECT_TRUE(out.local);
    EXPECT_TRUE(usable);
    EXPECT_TRUE(out.connection_usable);
    ASSERT_EQ(out.rcpt_replies.size(), env.rcpts.size());
    EXPECT_EQ(out.for_recipient(0).code, code);
    ASSERT_EQ(commands.size(), 2u);
    EXPECT_EQ(commands[1], "QUIT") << "no MAIL FROM was sent";
  }
};

TEST_F(LocalRefusalTest, SmtpUtf8NeededButNotOffered) {
  check({"8BITMIME"}, envelope("người.nhận@ví-dụ.vn"), kMessage, 550, "5.6.7");
}
TEST_F(LocalRefusalTest, SmtpUtf8HeaderNeededButNotOffered) {
  check({"8BITMIME"}, envelope("a@mx.test"), "Subject: Việt\r\n\r\nx\r\n", 550, "5.6.7");
}
TEST_F(LocalRefusalTest, EightBitWithout8BitMime) {
  check({"PIPELINING"}, envelope("a@mx.test"), "Subject: x\r\n\r\nViệt Nam\r\n", 554, "5.6.3");
}
TEST_F(LocalRefusalTest, SizeOverTheAnnouncedLimit) {
  check({"SIZE 20"}, envelope("a@mx.test"), kMessage, 552, "5.3.4");
}
TEST_F(LocalRefusalTest, LineOver998Octets) {
  check({}, envelope("a@mx.test"), "Subject: x\r\n\r\n" + std::string(999, 'a') + "\r\n", 554,
        "5.6.0");
}
TEST_F(LocalRefusalTest, AddressThatWouldInjectACommand) {
  Envelope e = envelope("a@mx.test");
  e.from = "x@y>\r\nRCPT TO:<evil@z";
  check({}, e, kMessage, 553, "5.1.7");
}

TEST_F(ClientTest, ReuseWithRsetAfterATransactionWithoutRecipients) {
  Outcome first, second, third;
  std::size_t transactions = 0;
  run(
      [&](Peer& p) -> awaitable<void> {
        co_await p.greet("8BITMIME");
        for (std::string_view r : kOkOkGo) co_await p.expect(r);
        co_await p.until("\r\n.\r\n");
        co_await p.say("250 2.0.0 one\r\n");
        co_await p.expect("250 ok\r\n");             // MAIL
        co_await p.expect("550 5.1.1 unknown\r\n");  // RCPT
        co_await p.expect("250 2.0.0 reset\r\n");    // RSET
        for (std::string_view r : kOkOkGo) co_await p.expect(r);
        co_await p.until("\r\n.\r\n");
        co_await p.say("250 2.0.0 three\r\n");
        co_await p.quit();
      },
      [&]() -> awaitable<void> {
        auto c = co_await open_ok();
        if (!c) co_return;
        first = co_await c->send(envelope("a@mx.test"), kMessage);
        second = co_await c->send(envelope("nobody@mx.test"), kMessage);
        third = co_await c->send(envelope("c@mx.test"), kMessage);
        transactions = c->transactions();
        co_await c->quit();
      });
  EXPECT_TRUE(first.ok());
  EXPECT_EQ(second.stage, Outcome::Stage::rcpt);
  EXPECT_EQ(second.reply.code, 550);
  EXPECT_TRUE(second.connection_usable);
  EXPECT_TRUE(third.ok());
  EXPECT_EQ(third.reply.text, "three");
  EXPECT_EQ(transactions, 2u);
  ASSERT_EQ(commands.size(), 11u);
  EXPECT_EQ(commands[6], "RSET");
  EXPECT_EQ(commands[7], "MAIL FROM:<sender@client.test>");
}

TEST_F(ClientTest, RecipientsPerTransactionHint) {
  Outcome out;
  run(
      [&](Peer& p) -> awaitable<void> {
        co_await p.greet("");
        for (int i = 0; i < 3; ++i) co_await p.expect("250 ok\r\n");
        co_await p.expect("354 go\r\n");
        co_await p.until("\r\n.\r\n");
        co_await p.say("250 ok\r\n");
        co_await p.quit();
      },
      [&]() -> awaitable<void> {
        auto c = co_await open_ok();
        if (!c) co_return;
        out = co_await c->send(envelope("a@mx.test", "b@mx.test", "c@mx.test"), kMessage, 2);
        co_await c->quit();
      });
  EXPECT_TRUE(out.ok());
  EXPECT_EQ(out.for_recipient(0).code, 250);
  EXPECT_EQ(out.for_recipient(2).code, 452);
  EXPECT_EQ(out.for_recipient(2).enhanced, "4.5.3");
}

TEST_F(ClientTest, ConnectRefused) {
  const std::uint16_t closed = port();
  acceptor.close();
  std::optional<Outcome> failed;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        auto c = co_await Connection::open(io.get_executor(), "127.0.0.1", closed, "mx.test",
                                           test_options());
        if (!c) failed = c.error();
      },
      asio::detached);
  io.run_for(5s);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->stage, Outcome::Stage::connect);
  EXPECT_EQ(failed->reply.code, 421);
  EXPECT_EQ(failed->reply.enhanced, "4.4.1");
}

}  // namespace
}  // namespace govmail::smtp::client
