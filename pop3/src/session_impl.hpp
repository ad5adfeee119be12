// Session internals shared by the dispatcher (session.cpp), the AUTHORIZATION commands
// (login.cpp) and the TRANSACTION commands (transaction.cpp).
#pragma once
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/line_reader.hpp"
#include "pop3/backend.hpp"
#include "pop3/proto.hpp"
#include "pop3/session.hpp"
#include "store/types.hpp"

namespace govmail::pop3 {

enum class State : unsigned { authorization = 1, transaction = 2 };

// A message of the snapshot taken at login: numbered from 1 in UID order for the whole session.
struct Message {
  store::Uid uid = 0;
  store::MessageId id = 0;
  std::uint32_t size = 0;
  bool deleted = false;
};

struct Session::Impl {
  Impl(const SessionConfig& c, Backend& b, ConnectionInfo conn);

  const SessionConfig& cfg;
  Backend& backend;
  ConnectionInfo conn;
  core::LineReader reader;
  State state = State::authorization;
  store::AccountId account = 0;
  std::uint64_t credentials_version = 0;  // of the credentials checked (session revocation)
  std::string user;                       // canonical address once logged in
  std::string pending_user;               // from USER, waiting for PASS
  bool sasl_pending = false;              // AUTH PLAIN sent "+ ": the next line is the response
  unsigned bad_commands = 0, commands_before_auth = 0, auth_failures = 0;

  // The maildrop: INBOX as it was at login, and its lease (the [IN-USE] lock).
  store::Mailbox inbox;
  std::vector<Message> messages;
  std::string lease_holder;  // random per session
  bool lease_held = false;
  std::chrono::steady_clock::time_point lease_renewed{};

  // Messages read ahead of the client's RETRs (clients download in order): the next few after
  // the one asked for, fetched with it in one round trip, at most kReadAheadBytes in all.
  std::vector<store::MailboxStore::Raw> read_ahead;

  std::string out;
  bool close = false, start_tls = false;
  std::function<awaitable<bool>(std::string)> writer;

  store::MailboxStore& store() { return backend.mailboxes(); }
  void ok(std::string_view text) {
    out += "+OK ";
    out += text;
    out += "\r\n";
  }
  void err(std::string_view text) {
    out += "-ERR ";
    out += text;
    out += "\r\n";
  }
  // -ERR for a command that is unknown, out of place or malformed; too many close the session.
  void bad_command(std::string_view reason);
  bool login_allowed() const {
    return conn.tls || (conn.loopback && cfg.allow_plaintext_on_loopback);
  }
  std::string capabilities() const;  // the CAPA lines, each with its CRLF
  // Writes buffered output once it passes the flush size (RETR calls it between pieces).
  awaitable<void> flush_if_large();

  awaitable<void> dispatch(std::string_view line);
  awaitable<void> authenticate(std::string name, std::string password);
  awaitable<void> sasl_response(std::string_view line);
  // After a successful password check: INBOX leased and listed, or an -ERR and no login.
  awaitable<void> open_maildrop(const core::AuthResult& r);
  awaitable<void> renew_lease();
  awaitable<void> release_lease();
  // The message numbered `arg` (1-based, not deleted), or nullptr after writing the -ERR.
  Message* message_arg(std::string_view arg);
};

// The one place store errors become POP3 answers (RFC 2449 / RFC 3206 response codes).
std::string store_error_text(store::StoreError e);

using Handler = awaitable<void> (*)(Session::Impl&, const Command&);
struct CommandSpec {
  const char* keyword;
  Handler handler;
  unsigned states;  // State bits in which the command is valid
};
const CommandSpec* find_command(std::string_view keyword);

#define GOVMAIL_POP3_HANDLER(fn) awaitable<void> fn(Session::Impl& s, const Command& cmd)
GOVMAIL_POP3_HANDLER(cmd_capa);
GOVMAIL_POP3_HANDLER(cmd_quit);
GOVMAIL_POP3_HANDLER(cmd_stls);
GOVMAIL_POP3_HANDLER(cmd_user);
GOVMAIL_POP3_HANDLER(cmd_pass);
GOVMAIL_POP3_HANDLER(cmd_auth);
GOVMAIL_POP3_HANDLER(cmd_stat);
GOVMAIL_POP3_HANDLER(cmd_list);
GOVMAIL_POP3_HANDLER(cmd_uidl);
GOVMAIL_POP3_HANDLER(cmd_retr);
GOVMAIL_POP3_HANDLER(cmd_top);
GOVMAIL_POP3_HANDLER(cmd_dele);
GOVMAIL_POP3_HANDLER(cmd_rset);
GOVMAIL_POP3_HANDLER(cmd_noop);

}  // namespace govmail::pop3
