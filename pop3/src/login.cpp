// The AUTHORIZATION state (RFC 1939 section 4, RFC 2595, RFC 5034), the command table, CAPA and
// QUIT.
#include <spdlog/spdlog.h>

#include "core/log.hpp"
#include "session_impl.hpp"

namespace govmail::pop3 {
namespace {

constexpr unsigned kAuth = static_cast<unsigned>(State::authorization);
constexpr unsigned kTrans = static_cast<unsigned>(State::transaction);

constexpr CommandSpec kCommands[] = {
    {"CAPA", cmd_capa, kAuth | kTrans}, {"QUIT", cmd_quit, kAuth | kTrans},
    {"STLS", cmd_stls, kAuth},          {"USER", cmd_user, kAuth},
    {"PASS", cmd_pass, kAuth},          {"AUTH", cmd_auth, kAuth},
    {"STAT", cmd_stat, kTrans},         {"LIST", cmd_list, kTrans},
    {"UIDL", cmd_uidl, kTrans},         {"RETR", cmd_retr, kTrans},
    {"TOP", cmd_top, kTrans},           {"DELE", cmd_dele, kTrans},
    {"RSET", cmd_rset, kTrans},         {"NOOP", cmd_noop, kTrans},
};

constexpr std::string_view kUseTls = "Use STLS (or the POP3S port) before logging in";

}  // namespace

const CommandSpec* find_command(std::string_view keyword) {
  for (const auto& c : kCommands)
    if (keyword == c.keyword) return &c;
  return nullptr;
}

GOVMAIL_POP3_HANDLER(cmd_capa) {
  (void)cmd;
  s.out += "+OK Capability list follows\r\n" + s.capabilities() + ".\r\n";
  co_return;
}

GOVMAIL_POP3_HANDLER(cmd_stls) {
  if (!cmd.args.empty()) co_return s.bad_command("STLS takes no argument");
  if (s.conn.tls) co_return s.err("Already using TLS");
  if (!s.cfg.starttls_available) co_return s.err("STLS not available");
  s.ok("Begin TLS negotiation");
  s.start_tls = true;
}

GOVMAIL_POP3_HANDLER(cmd_user) {
  if (cmd.args.size() != 1) co_return s.bad_command("USER needs a user name");
  if (!s.login_allowed()) co_return s.err(kUseTls);
  s.pending_user = cmd.args[0];
  s.ok("Send PASS");
}

GOVMAIL_POP3_HANDLER(cmd_pass) {
  if (s.pending_user.empty()) co_return s.bad_command("Send USER first");
  if (cmd.rest.empty()) co_return s.bad_command("PASS needs a password");
  // The password is the rest of the line: it may hold spaces. Named first (NOTES.md: GCC 12).
  std::string user = std::exchange(s.pending_user, {});
  std::string password = cmd.rest;
  co_await s.authenticate(std::move(user), std::move(password));
}

GOVMAIL_POP3_HANDLER(cmd_auth) {
  if (cmd.args.empty()) {  // the mechanism list some clients ask for (RFC 1734 era)
    s.out += "+OK SASL mechanisms follow\r\nPLAIN\r\n.\r\n";
    co_return;
  }
  if (cmd.args.size() > 2) co_return s.bad_command("AUTH takes a mechanism and a response");
  std::string mech = cmd.args[0];
  for (auto& c : mech) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (mech != "PLAIN") co_return s.err("Unsupported SASL mechanism (use PLAIN)");
  if (!s.login_allowed()) co_return s.err(kUseTls);
  if (cmd.args.size() == 1) {
    s.out += "+ \r\n";
    s.sasl_pending = true;  // the next line is the response (session.cpp)
    co_return;
  }
  const std::string_view response =
      cmd.args[1] == "=" ? std::string_view() : std::string_view(cmd.args[1]);
  co_await s.sasl_response(response);
}

awaitable<void> Session::Impl::sasl_response(std::string_view line) {
  if (line == "*") co_return err("AUTH cancelled");
  auto creds = decode_sasl_plain(line);
  if (!creds) co_return bad_command(creds.error());
  if (!creds->authzid.empty() && creds->authzid != creds->authcid)
    co_return err("[AUTH] Authorization identity must be the login name");
  co_await authenticate(std::move(creds->authcid), std::move(creds->password));
}

awaitable<void> Session::Impl::authenticate(std::string name, std::string password) {
  if (!login_allowed()) co_return err(kUseTls);
  auto r = co_await backend.authenticate(name, std::move(password), conn.remote_ip);
  switch (r.outcome) {
    case core::AuthOutcome::ok:
      co_return co_await open_maildrop(r);
    case core::AuthOutcome::temporary:
      co_return err("[SYS/TEMP] Authentication temporarily unavailable");
    case core::AuthOutcome::locked_out:
    case core::AuthOutcome::bad_credentials:
      break;
  }
  spdlog::info("pop3 ip={} user={} authentication failed", conn.remote_ip,
               core::log_safe(name, 64));
  // Locked out or wrong: the same words, so that a guesser learns nothing (STYLE.md 12).
  err("[AUTH] Authentication failed");
  if (++auth_failures >= cfg.max_auth_failures) close = true;
}

awaitable<void> Session::Impl::open_maildrop(const core::AuthResult& r) {
  std::string name = "INBOX";
  auto mb = co_await store().get_mailbox(r.account_id, std::move(name));
  if (!mb) co_return err(store_error_text(mb.error()));
  auto leased = co_await store().lease_mailbox(r.account_id, mb->id, lease_holder, cfg.lease_ttl);
  if (!leased) co_return err(store_error_text(leased.error()));
  if (!*leased) {
    spdlog::info("pop3 ip={} user={} refused: maildrop in use", conn.remote_ip, r.address);
    co_return err("[IN-USE] Mailbox in use by another POP3 session");
  }
  account = r.account_id;
  credentials_version = r.credentials_version;
  user = r.address;
  inbox = *mb;
  lease_held = true;
  lease_renewed = std::chrono::steady_clock::now();
  // The snapshot: taken under the lease, numbered for the whole session.
  store::UidSet all{store::UidRange{}};
  auto entries = co_await store().list_entries(account, inbox.id, std::move(all));
  if (!entries) {
    co_await release_lease();
    co_return err(store_error_text(entries.error()));
  }
  messages.clear();
  messages.reserve(entries->size());
  std::uint64_t octets = 0;
  for (const auto& e : *entries) {
    messages.push_back({e.uid, e.message_id, e.size, false});
    octets += e.size;
  }
  state = State::transaction;
  spdlog::info("pop3 ip={} user={} logged in{}", conn.remote_ip, user,
               r.from_cache ? " (cached)" : "");
  ok("Logged in, " + std::to_string(messages.size()) + " messages (" + std::to_string(octets) +
     " octets)");
}

GOVMAIL_POP3_HANDLER(cmd_quit) {
  (void)cmd;
  s.close = true;
  if (s.state == State::authorization) co_return s.ok("Bye");
  store::UidSet gone;
  for (const auto& m : s.messages)
    if (m.deleted) gone.push_back({m.uid, m.uid});
  if (gone.empty()) {
    co_await s.release_lease();
    co_return s.ok("Bye");
  }
  // The UPDATE state (RFC 1939 section 6): deleted and unlocked in one transaction.
  auto r = co_await s.store().expunge_leased(s.account, s.inbox.id, s.lease_holder, gone);
  if (!r) {
    if (r.error() != store::StoreError::conflict) co_await s.release_lease();
    s.lease_held = false;
    co_return s.err(store_error_text(r.error()) + "; no message was deleted");
  }
  s.lease_held = false;
  spdlog::info("pop3 user={} deleted {} messages", s.user, r->uids.size());
  s.ok("Bye, " + std::to_string(r->uids.size()) + " messages deleted");
}

}  // namespace govmail::pop3
