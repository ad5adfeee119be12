// HELO and EHLO (RFC 5321 4.1.1.1): a new session state, and the extensions we offer.
#include "../session_impl.hpp"
#include "core/asio.hpp"

namespace govmail::smtp {
namespace {

// The client's name goes into Received: keep printable ASCII only, bounded.
std::string sanitise_helo(std::string_view arg) {
  std::string out;
  for (char c : arg.substr(0, 255)) out += (c > 32 && c < 127) ? c : '_';
  return out;
}

bool greet(Session::Impl& s, std::string_view arg, std::string_view verb) {
  if (arg.empty()) {
    s.bad_command({501, "5.5.4", "Syntax: " + std::string(verb) + " hostname"});
    return false;
  }
  s.reset_transaction();
  s.helo = sanitise_helo(arg);
  return true;
}

}  // namespace

awaitable<void> cmd_helo(Session::Impl& s, std::string_view arg) {
  if (greet(s, arg, "HELO")) {
    s.esmtp = false;
    s.reply(250, "", s.cfg.hostname);
  }
  co_return;
}

awaitable<void> cmd_ehlo(Session::Impl& s, std::string_view arg) {
  if (!greet(s, arg, "EHLO")) co_return;
  s.esmtp = true;
  std::vector<std::string> lines{
      s.cfg.hostname, "PIPELINING", "SIZE " + std::to_string(s.cfg.max_message_bytes),
      "8BITMIME",     "SMTPUTF8",   "ENHANCEDSTATUSCODES",
      "CHUNKING",     "DSN"};
  if (s.cfg.starttls_available && !s.conn.tls) lines.push_back("STARTTLS");
  if (s.auth_allowed()) lines.push_back("AUTH PLAIN LOGIN");
  s.out += multiline(250, "", lines);
  co_return;
}

}  // namespace govmail::smtp
