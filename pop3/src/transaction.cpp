// The TRANSACTION state (RFC 1939 section 5, TOP and UIDL of section 7) on the snapshot taken
// at login. Deletions only mark the snapshot; QUIT applies them (login.cpp).
#include "core/asio.hpp"
#include "session_impl.hpp"

namespace govmail::pop3 {
namespace {

constexpr std::size_t kPiece = 256 * 1024;  // message bytes stuffed between flushes
// Read-ahead per session: bounded in bytes (many sessions) and count (one statement).
constexpr std::uint64_t kReadAheadBytes = 256 * 1024;
constexpr std::size_t kReadAheadMessages = 32;

std::string listing(std::size_t n, const Message& m) {
  return std::to_string(n) + ' ' + std::to_string(m.size);
}

std::string uid_listing(std::size_t n, const Message& m, std::uint32_t uidvalidity) {
  return std::to_string(n) + ' ' + unique_id(uidvalidity, m.uid);
}

// STAT, LIST, UIDL: one message (with an argument) or every message not deleted.
template <class Line>
void scan(Session::Impl& s, const Command& cmd, std::string_view what, Line line) {
  if (cmd.args.size() > 1) return s.bad_command(std::string(what) + " takes one message number");
  if (cmd.args.size() == 1) {
    if (const Message* m = s.message_arg(cmd.args[0]))
      s.ok(line(static_cast<std::size_t>(m - s.messages.data()) + 1, *m));
    return;
  }
  s.out += "+OK\r\n";
  for (std::size_t i = 0; i < s.messages.size(); ++i)
    if (!s.messages[i].deleted) {
      s.out += line(i + 1, s.messages[i]);
      s.out += "\r\n";
    }
  s.out += ".\r\n";
}

// The raw message: from the read-ahead, or fetched with the next messages (up to the limits).
awaitable<store::Result<std::string>> raw_message(Session::Impl& s, const Message& m) {
  auto& cache = s.read_ahead;
  for (auto it = cache.begin(); it != cache.end(); ++it)
    if (it->message == m.id) {
      std::string data = std::move(it->data);
      cache.erase(cache.begin(), it + 1);  // and the ones skipped: not read in order
      co_return data;
    }
  cache.clear();
  std::vector<store::MessageId> ids{m.id};
  std::uint64_t bytes = m.size;
  for (auto i = static_cast<std::size_t>(&m - s.messages.data()) + 1;
       i < s.messages.size() && ids.size() < kReadAheadMessages; ++i) {
    const Message& next = s.messages[i];
    if (next.deleted) continue;
    if (bytes + next.size > kReadAheadBytes) break;
    bytes += next.size;
    ids.push_back(next.id);
  }
  if (ids.size() == 1) co_return co_await s.store().fetch_raw(s.account, m.id);
  auto raws = co_await s.store().fetch_raws(s.account, std::move(ids));
  if (!raws) co_return unexpected(raws.error());
  std::optional<std::string> wanted;
  for (auto& r : *raws) {
    if (r.message == m.id)
      wanted = std::move(r.data);
    else
      cache.push_back(std::move(r));
  }
  if (!wanted) co_return unexpected(store::StoreError::not_found);
  co_return std::move(*wanted);
}

// RETR and TOP: the stored bytes, dot-stuffed, written in pieces as they are produced.
awaitable<void> send_message(Session::Impl& s, const Message& m,
                             std::optional<std::uint64_t> body_lines) {
  auto raw = co_await raw_message(s, m);
  if (!raw) co_return s.err(store_error_text(raw.error()));
  s.ok(std::to_string(m.size) + " octets");
  DotStuffer stuffer(body_lines);
  std::string_view rest = *raw;
  while (!rest.empty() && !s.close) {
    const auto piece = rest.substr(0, kPiece);
    rest.remove_prefix(piece.size());
    if (!stuffer.feed(piece, s.out)) break;
    co_await s.flush_if_large();
  }
  stuffer.finish(s.out);
}

}  // namespace

Message* Session::Impl::message_arg(std::string_view arg) {
  auto n = parse_number(arg);
  if (!n) {
    bad_command("Invalid message number");
    return nullptr;
  }
  if (*n == 0 || *n > messages.size()) {
    err("No such message");
    return nullptr;
  }
  Message& m = messages[*n - 1];
  if (m.deleted) {
    err("Message " + std::to_string(*n) + " already deleted");
    return nullptr;
  }
  return &m;
}

GOVMAIL_POP3_HANDLER(cmd_stat) {
  if (!cmd.args.empty()) co_return s.bad_command("STAT takes no argument");
  std::uint64_t count = 0, octets = 0;
  for (const auto& m : s.messages)
    if (!m.deleted) {
      ++count;
      octets += m.size;
    }
  s.ok(std::to_string(count) + ' ' + std::to_string(octets));
}

GOVMAIL_POP3_HANDLER(cmd_list) {
  scan(s, cmd, "LIST", listing);
  co_return;
}

GOVMAIL_POP3_HANDLER(cmd_uidl) {
  const std::uint32_t uv = s.inbox.uidvalidity;
  scan(s, cmd, "UIDL", [uv](std::size_t n, const Message& m) { return uid_listing(n, m, uv); });
  co_return;
}

GOVMAIL_POP3_HANDLER(cmd_retr) {
  if (cmd.args.size() != 1) co_return s.bad_command("RETR needs a message number");
  if (const Message* m = s.message_arg(cmd.args[0])) co_await send_message(s, *m, std::nullopt);
}

GOVMAIL_POP3_HANDLER(cmd_top) {
  if (cmd.args.size() != 2) co_return s.bad_command("TOP needs a message number and a line count");
  auto lines = parse_number(cmd.args[1]);
  if (!lines) co_return s.bad_command("Invalid line count");
  if (const Message* m = s.message_arg(cmd.args[0])) co_await send_message(s, *m, *lines);
}

GOVMAIL_POP3_HANDLER(cmd_dele) {
  if (cmd.args.size() != 1) co_return s.bad_command("DELE needs a message number");
  if (Message* m = s.message_arg(cmd.args[0])) {
    m->deleted = true;
    s.ok("Message " + std::to_string(m - s.messages.data() + 1) + " deleted");
  }
}

GOVMAIL_POP3_HANDLER(cmd_rset) {
  if (!cmd.args.empty()) co_return s.bad_command("RSET takes no argument");
  std::size_t count = 0;
  for (auto& m : s.messages) {
    m.deleted = false;
    ++count;
  }
  s.ok("Maildrop has " + std::to_string(count) + " messages");
}

GOVMAIL_POP3_HANDLER(cmd_noop) {
  if (!cmd.args.empty()) co_return s.bad_command("NOOP takes no argument");
  s.out += "+OK\r\n";
  co_return;
}

}  // namespace govmail::pop3
