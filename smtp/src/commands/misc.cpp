// RSET, NOOP, QUIT, VRFY, EXPN, HELP: no state beyond the transaction.
#include "../session_impl.hpp"
#include "core/asio.hpp"

namespace govmail::smtp {
namespace {

// "user@domain", "<user@domain>" or "Name <user@domain>": the address inside the brackets.
std::string vrfy_address(std::string_view arg) {
  auto open = arg.rfind('<');
  auto close = arg.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open)
    return std::string(arg.substr(open + 1, close - open - 1));
  return std::string(arg);
}

}  // namespace

awaitable<void> cmd_rset(Session::Impl& s, std::string_view) {
  if (s.tx.active) s.log_transaction("reset by client");
  s.reset_transaction();
  s.reply(250, "2.0.0", "Ok");
  co_return;
}

awaitable<void> cmd_noop(Session::Impl& s, std::string_view) {
  s.reply(250, "2.0.0", "Ok");
  co_return;
}

awaitable<void> cmd_quit(Session::Impl& s, std::string_view) {
  if (s.tx.active) s.log_transaction("quit during transaction");
  s.reset_transaction();
  s.reply(221, "2.0.0", s.cfg.hostname + " Bye");
  s.close = true;
  co_return;
}

// 252 unless smtp.vrfy is on and an authenticated user asks on submission: answering anyone
// else would tell a harvester which addresses exist (RFC 5321 3.5.3 allows 252).
awaitable<void> cmd_vrfy(Session::Impl& s, std::string_view arg) {
  if (arg.empty()) {
    s.bad_command({501, "5.5.4", "Syntax: VRFY address"});
    co_return;
  }
  const Reply cannot{252, "2.5.2",
                     "Cannot VRFY user, but will accept message and attempt delivery"};
  std::string address = vrfy_address(arg);
  if (!s.cfg.vrfy || !s.auth_offered() || !s.auth || !valid_mailbox(address)) {
    s.reply(cannot);
    co_return;
  }
  auto local = co_await s.is_local_domain(std::string(domain_of(address)));
  if (!local || !*local) {
    s.reply(local ? cannot : store_error_reply(local.error(), ""));
    co_return;
  }
  auto res = co_await s.backend.resolve_recipient(lower_ascii(address));
  if (res)
    s.reply(250, "2.1.5", "<" + address + ">");
  else if (res.error() == store::StoreError::not_found)
    s.reply(550, "5.1.1", "User unknown");
  else
    s.reply(store_error_reply(res.error(), ""));
}

awaitable<void> cmd_expn(Session::Impl& s, std::string_view) {
  s.reply(502, "5.5.1", "EXPN not available");
  co_return;
}

awaitable<void> cmd_help(Session::Impl& s, std::string_view) {
  s.out += multiline(214, "2.0.0",
                     {"Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP "
                      "STARTTLS AUTH",
                      "See RFC 5321"});
  co_return;
}

awaitable<void> cmd_starttls(Session::Impl& s, std::string_view arg) {
  if (!arg.empty()) {
    s.bad_command({501, "5.5.4", "Syntax: STARTTLS"});
  } else if (s.conn.tls) {
    s.bad_command({503, "5.5.1", "TLS already active"});
  } else if (!s.cfg.starttls_available) {
    s.bad_command({502, "5.5.1", "STARTTLS not available"});
  } else {
    s.reply(220, "2.0.0", "Ready to start TLS");
    s.start_tls = true;
  }
  co_return;
}

}  // namespace govmail::smtp
