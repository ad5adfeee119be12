// Private state of an SMTP session, shared by the dispatcher (session.cpp) and the command files
// (commands/*.cpp). Nothing here does I/O: handlers append replies to `out`.
#pragma once
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.hpp"
#include "core/line_reader.hpp"
#include "smtp/backend.hpp"
#include "smtp/command.hpp"
#include "smtp/headers.hpp"
#include "smtp/reply.hpp"
#include "smtp/session.hpp"
#include "store/error.hpp"

namespace govmail::smtp {

struct Recipient {
  std::string address;  // as given (case kept for the outbound queue)
  bool local = false;
  bool group = false;
};

struct LocalAccount {
  store::RecipientAccount account;
  bool only_via_group = true;             // reached only through a group (may be dropped when full)
  std::string group;                      // that group's address, as given
  bool notify_failure = true;             // that RCPT's NOTIFY= asks for failure reports
  std::vector<std::string> addressed_as;  // RCPT addresses that reached it directly
};

// A group member left out because its mailbox is full: the sender gets a DSN (bounce.cpp).
struct Skipped {
  std::string group;   // as given at RCPT
  std::string member;  // the member's address
};

struct Transaction {
  bool active = false;
  MailFrom from;
  std::vector<Recipient> rcpts;
  std::map<store::AccountId, LocalAccount> accounts;  // expanded once, deduplicated
  std::vector<store::RemoteRecipient> remote;
  std::vector<Skipped> skipped;  // reported in the same commit as the message
  std::string queue_id;
  std::string body;
  bool too_big = false;
  bool line_too_long = false;
  // The body's share of limits.max_inflight_message_bytes; given back with the transaction.
  core::ByteBudget::Reservation held{core::inflight_message_bytes()};
  bool over_budget = false;         // the budget had no room: the rest is dropped, 452 at the end
  bool bdat = false;                // BDAT used: DATA is refused until RSET/end (RFC 3030)
  std::optional<Reply> bdat_error;  // a failed chunk: later chunks get the same answer
  std::chrono::steady_clock::time_point started{};
  std::string auth_results;  // MX: our Authentication-Results field for this message
  bool to_junk = false;      // MX: the From: domain's DMARC policy quarantines it
};

struct AuthUser {
  store::AccountId account = 0;
  std::string address;
  std::uint64_t credentials_version = 0;  // of the credentials checked (session revocation)
};

// A SASL exchange in progress (AUTH PLAIN without initial response, AUTH LOGIN).
struct SaslState {
  std::string mech;  // "PLAIN" or "LOGIN"
  int step = 0;      // LOGIN: 0 waits for the user name, 1 for the password
  std::string user;
};

enum class Phase { command, sasl, data, bdat };

struct Session::Impl {
  Impl(const SessionConfig& c, Backend& b, ConnectionInfo ci);

  const SessionConfig& cfg;
  Backend& backend;
  ConnectionInfo conn;
  core::LineReader reader;
  Phase phase = Phase::command;

  std::string out;  // replies waiting to be written
  bool close = false;
  bool start_tls = false;
  bool flush = false;  // a command after which the client waits for our answer

  std::string helo;  // sanitised HELO/EHLO argument; empty before it
  bool esmtp = false;
  std::optional<AuthUser> auth;
  std::optional<SaslState> sasl;
  unsigned bad_commands = 0;
  unsigned junk_commands = 0;  // since the last MAIL
  std::uint64_t bdat_remaining = 0;
  bool bdat_last = false;
  std::map<std::string, bool> local_domains;  // cache for this session
  Transaction tx;

  void reply(const Reply& r) { out += r.wire(); }
  void reply(int code, std::string_view enhanced, std::string_view text) {
    reply(Reply{code, std::string(enhanced), std::string(text)});
  }
  // A refused command: replies and counts it; over limits.max_bad_commands the session ends.
  void bad_command(const Reply& r);
  void reset_transaction();
  // Appends message bytes within the in-flight budget; over it, drops them and sets over_budget.
  void append_body(std::string_view bytes);
  void enter_data_mode();
  void leave_data_mode();
  // AUTH is offered and accepted now (submission; TLS, or loopback when the config allows).
  bool auth_allowed() const;
  bool auth_offered() const { return cfg.mode == Mode::submission; }
  std::string protocol_name() const;  // RFC 3848 / 6531 "with" keyword
  awaitable<store::Result<bool>> is_local_domain(std::string domain);
  void log_transaction(std::string_view result) const;
};

using Handler = awaitable<void> (*)(Session::Impl&, std::string_view arg);

// Flags the dispatcher enforces before a handler runs (STYLE.md 1).
enum CommandFlag : unsigned {
  kNeedHelo = 1,        // 503 before HELO/EHLO
  kJunk = 2,            // counts toward limits.smtp_max_commands_before_mail
  kNotInMail = 4,       // 503 inside a transaction (AUTH)
  kLastInPipeline = 8,  // the client waits for the reply: flush before reading on
};

struct CommandSpec {
  Verb verb;
  Handler handler;
  unsigned flags;
};

// One file per command (commands/*.cpp).
awaitable<void> cmd_helo(Session::Impl& s, std::string_view arg);
awaitable<void> cmd_ehlo(Session::Impl& s, std::string_view arg);
awaitable<void> cmd_mail(Session::Impl& s, std::string_view arg);
awaitable<void> cmd_rcpt(Session::Impl& s, std::string_view arg);
awaitable<void> cmd_data(Session::Impl& s, std::string_view arg);
awaitable<void> cmd_bdat(Session::Impl& s, std::string_view arg);
awaitable<void> cmd_rset(Session::Impl& s, std::string_view arg);
awaitable<void> cmd_noop(Session::Impl& s, std::string_view arg);
awaitable<void> cmd_quit(Session::Impl& s, std::string_view arg);
awaitable<void> cmd_vrfy(Session::Impl& s, std::string_view arg);
awaitable<void> cmd_expn(Session::Impl& s, std::string_view arg);
awaitable<void> cmd_help(Session::Impl& s, std::string_view arg);
awaitable<void> cmd_starttls(Session::Impl& s, std::string_view arg);
awaitable<void> cmd_auth(Session::Impl& s, std::string_view arg);
// A line of a SASL exchange (phase sasl).
awaitable<void> auth_continue(Session::Impl& s, std::string_view line);

// DATA content: one line (dot-unstuffed here); true at the final ".".
bool data_line(Session::Impl& s, std::string_view line);
// limits.max_inflight_message_bytes reached while the message arrived.
extern const Reply kOverBudget;
// End of DATA or of the LAST chunk: checks, delivery, the one reply, the log line.
awaitable<void> finish_message(Session::Impl& s);
// End of one BDAT chunk.
awaitable<void> finish_chunk(Session::Impl& s);
// Before the delivery: the DSN to the envelope sender for the group members left out, added to
// `message` as a companion (one transaction). A reply when the sender could not be looked up.
awaitable<std::optional<Reply>> attach_bounce(Session::Impl& s, store::Delivery& message);
// After the message committed: the vacation responses of its local recipients (vacation.cpp).
awaitable<void> send_vacation_replies(Session::Impl& s);
// RFC 3461: with NOTIFY= given, failures are reported only when it names FAILURE.
inline bool notify_failure(std::string_view notify) {
  return notify.empty() || notify.find("FAILURE") != std::string_view::npos;
}

// With no size known, a mailbox is full once it has reached its quota.
inline bool over_quota(const store::RecipientAccount& a, std::uint64_t size) {
  if (a.quota_bytes == 0) return false;
  return size == 0 ? a.used_bytes >= a.quota_bytes : a.used_bytes + size > a.quota_bytes;
}

// The one mapping of store errors to SMTP replies (STYLE.md 11).
Reply store_error_reply(store::StoreError e, std::string_view queue_id);

// Received: and Return-Path: for a message about to be stored.
std::string trace_headers(const Session::Impl& s, std::string_view date);
std::string make_queue_id();

}  // namespace govmail::smtp
