// MAIL FROM: opens a transaction. On submission the sender must be the authenticated account's
// own address, an alias, or a group it may send as.
#include <spdlog/spdlog.h>
#include "../session_impl.hpp"

#include "core/asio.hpp"
#include "core/log.hpp"

namespace govmail::smtp {

awaitable<void> cmd_mail(Session::Impl& s, std::string_view arg) {
  if (s.tx.active) {
    s.bad_command({503, "5.5.1", "Nested MAIL command"});
    co_return;
  }
  auto from = parse_mail_from(arg);
  if (!from) {
    s.bad_command(from.error());
    co_return;
  }
  if (s.cfg.mode == Mode::submission && !s.auth) {
    s.bad_command({530, "5.7.0", "Authentication required"});
    co_return;
  }
  if (from->size && *from->size > s.cfg.max_message_bytes) {
    s.reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
    co_return;
  }
  if (!from->smtputf8 && !is_ascii(from->address)) {
    s.bad_command({553, "5.6.7", "Non-ASCII sender address requires SMTPUTF8"});
    co_return;
  }
  if (!s.auth && !from->address.empty()) {
    // No one sends as an official without logging in: mail from our own domains comes through
    // submission, never unauthenticated through MX.
    auto local = co_await s.is_local_domain(std::string(domain_of(from->address)));
    if (!local) {
      s.reply(store_error_reply(local.error(), ""));
      co_return;
    }
    if (*local) {
      spdlog::info("smtp ip={} refused unauthenticated local sender <{}>", s.conn.remote_ip,
                   core::log_safe(from->address, 80));
      s.bad_command({553, "5.7.1", "Sender in a local domain requires authentication"});
      co_return;
    }
  }
  if (s.auth) {
    if (from->address.empty()) {
      s.bad_command({553, "5.7.1", "Null sender not allowed for authenticated users"});
      co_return;
    }
    auto may = co_await s.backend.may_send_as(s.auth->account, from->address);
    if (!may) {
      s.reply(store_error_reply(may.error(), ""));
      co_return;
    }
    if (!*may) {
      spdlog::info("smtp ip={} user={} refused sender <{}>: not owned", s.conn.remote_ip,
                   s.auth->address, core::log_safe(from->address, 80));
      s.bad_command({553, "5.7.1", "Sender address not owned by the authenticated user"});
      co_return;
    }
  }
  s.reset_transaction();
  s.tx.active = true;
  s.tx.from = std::move(*from);
  s.tx.queue_id = make_queue_id();
  s.tx.started = std::chrono::steady_clock::now();
  s.junk_commands = 0;
  s.reply(250, "2.1.0", "Ok");
}

}  // namespace govmail::smtp
