// DATA (RFC 5321 4.1.1.4, dot-unstuffing) and BDAT (RFC 3030 CHUNKING): collect the message.
#include "../session_impl.hpp"
#include "core/asio.hpp"

namespace govmail::smtp {
namespace {

std::optional<Reply> not_ready(const Session::Impl& s) {
  if (!s.tx.active) return Reply{503, "5.5.1", "Need MAIL command"};
  if (s.tx.rcpts.empty()) return Reply{554, "5.5.1", "No valid recipients"};
  return std::nullopt;
}

}  // namespace

const Reply kOverBudget{452, "4.3.1", "Insufficient system storage, try again later"};

awaitable<void> cmd_data(Session::Impl& s, std::string_view arg) {
  if (!arg.empty()) {
    s.bad_command({501, "5.5.4", "Syntax: DATA"});
    co_return;
  }
  if (auto r = not_ready(s)) {
    s.bad_command(*r);
    co_return;
  }
  if (s.tx.bdat) {
    s.bad_command({503, "5.5.1", "DATA not allowed after BDAT"});
    co_return;
  }
  s.tx.body.reserve(static_cast<std::size_t>(
      std::min<std::uint64_t>(s.tx.from.size.value_or(64 * 1024), s.cfg.max_message_bytes)));
  s.reply(354, "", "End data with <CR><LF>.<CR><LF>");
  s.enter_data_mode();
}

bool data_line(Session::Impl& s, std::string_view line) {
  if (line == ".") return true;
  if (!line.empty() && line.front() == '.') line.remove_prefix(1);
  if (s.tx.too_big || s.tx.body.size() + line.size() + 2 > s.cfg.max_message_bytes) {
    s.tx.too_big = true;
    return false;
  }
  s.append_body(line);
  s.append_body("\r\n");
  return false;
}

awaitable<void> cmd_bdat(Session::Impl& s, std::string_view arg) {
  auto chunk = parse_bdat(arg);
  if (!chunk) {
    // Without a size we cannot find the next command in the stream: end the session.
    s.reply(501, "5.5.4", "Syntax: BDAT size [LAST]; closing connection");
    s.close = true;
    co_return;
  }
  s.phase = Phase::bdat;
  s.bdat_remaining = chunk->size;
  s.bdat_last = chunk->last;
  if (!s.tx.bdat_error) {
    if (auto r = not_ready(s)) s.tx.bdat_error = *r;
  }
  if (s.tx.body.empty())
    s.tx.body.reserve(static_cast<std::size_t>(std::min(chunk->size, s.cfg.max_message_bytes)));
  s.tx.bdat = true;
}

awaitable<void> finish_chunk(Session::Impl& s) {
  s.phase = Phase::command;
  if (!s.tx.bdat_error && s.tx.too_big)
    s.tx.bdat_error = Reply{552, "5.3.4", "Message size exceeds fixed maximum message size"};
  if (!s.tx.bdat_error && s.tx.over_budget) s.tx.bdat_error = kOverBudget;
  if (s.tx.bdat_error) {
    // Every chunk up to LAST gets the refusal; the transaction ends at LAST (RFC 3030 2).
    s.bad_command(*s.tx.bdat_error);
    if (s.bdat_last) {
      if (s.tx.active) s.log_transaction(s.tx.bdat_error->text);
      s.reset_transaction();
    }
    co_return;
  }
  if (!s.bdat_last) {
    s.reply(250, "2.0.0", std::to_string(s.tx.body.size()) + " octets received");
    co_return;
  }
  co_await finish_message(s);
}

}  // namespace govmail::smtp
