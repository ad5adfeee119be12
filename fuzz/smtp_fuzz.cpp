// Fuzz target for the SMTP front end: the command parsers (MAIL/RCPT with their DSN parameters),
// the From: header reader, the header block a DSN quotes, and a whole session fed the input in
// pieces (the first byte picks the piece size). Invariants: no crash, every reply line is "NNN"
// + ' ' or '-' + text + CRLF, a closed session stays closed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/asio.hpp"
#include "smtp/backend.hpp"
#include "smtp/command.hpp"
#include "smtp/dsn.hpp"
#include "smtp/headers.hpp"
#include "smtp/session.hpp"

namespace {

using namespace govmail;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "smtp_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

// Accepts every local address, every password "pw", delivers to nowhere.
struct SinkBackend : smtp::Backend {
  awaitable<store::Result<std::optional<store::MailboxId>>> junk_mailbox(store::AccountId) override {
    co_return std::optional<store::MailboxId>();
  }
  awaitable<store::Result<bool>> is_local_domain(std::string d) override {
    co_return d.size() % 2 == 0;
  }
  awaitable<store::Result<store::RecipientResolution>> resolve_recipient(std::string a) override {
    if (a.front() == 'x') co_return unexpected(store::StoreError::not_found);
    store::RecipientResolution r;
    r.accounts.push_back({1, a.size() % 3 ? 0u : 100u, 50, "m@example.gov.vn"});
    r.is_group = a.front() == 'g';
    co_return r;
  }
  awaitable<store::Result<bool>> may_send_as(store::AccountId, std::string a) override {
    co_return a.front() != 'z';
  }
  awaitable<core::AuthResult> authenticate(std::string, std::string pw, std::string) override {
    core::AuthResult r;
    if (pw == "pw") r = {core::AuthOutcome::ok, 1, "u@d.vn"};
    co_return r;
  }
  awaitable<store::Result<store::DeliveryResult>> deliver(store::Delivery d) override {
    require(d.raw && !d.raw->empty(), "delivery has bytes");
    co_return store::DeliveryResult{};
  }
};

void check_replies(std::string_view out) {
  while (!out.empty()) {
    auto crlf = out.find("\r\n");
    require(crlf != std::string_view::npos, "replies end with CRLF");
    auto line = out.substr(0, crlf);
    require(
        line.size() >= 4 && line[0] >= '2' && line[0] <= '5' && (line[3] == ' ' || line[3] == '-'),
        "reply line shape");
    out.remove_prefix(crlf + 2);
  }
}

void run_session(std::string_view input, bool submission) {
  smtp::SessionConfig cfg;
  cfg.mode = submission ? smtp::Mode::submission : smtp::Mode::mx;
  cfg.allow_plaintext_auth_on_loopback = true;
  cfg.starttls_available = true;
  cfg.max_message_bytes = 4096;
  cfg.max_recipients = 4;
  cfg.line_max = 512;
  cfg.data_line_max = 1000;
  cfg.max_bad_commands = 50;
  SinkBackend backend;
  smtp::Session session(cfg, backend, {"127.0.0.1", true, false});
  asio::io_context io;
  const std::size_t piece = input.empty() ? 1 : 1 + static_cast<unsigned char>(input[0]) % 64;
  bool closed = false;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        for (std::size_t pos = 0; pos < input.size() && !closed; pos += piece) {
          session.feed(input.substr(pos, piece));
          for (;;) {
            auto o = co_await session.process();
            check_replies(o.bytes);
            if (o.start_tls) session.tls_started();
            if (o.close) closed = true;
            if (o.need_input || o.close) break;
          }
        }
      },
      asio::detached);
  io.run();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto cmd = smtp::parse_command(input.substr(0, input.find('\n')));
  (void)smtp::parse_mail_from(cmd.arg);
  (void)smtp::parse_rcpt_to(cmd.arg);
  (void)smtp::parse_bdat(cmd.arg);
  require(input.starts_with(smtp::header_block(input)), "header block is a prefix");
  for (const auto& a : smtp::header_addresses(input, "From"))
    require(!a.empty(), "no empty address");
  run_session(input, false);
  run_session(input, true);
  return 0;
}
