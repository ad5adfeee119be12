// APPEND with APPENDUID (RFC 4315), flags, date-time, literal8 (RFC 3516) and APPENDLIMIT.
#include "session_impl.hpp"

namespace govmail::imap {

GOVMAIL_IMAP_HANDLER(cmd_append) {
  if (cmd.args.size() < 2 || cmd.args.size() > 4)
    co_return bad("APPEND needs a mailbox and a message");
  auto name = s.mailbox_name(cmd.args[0]);
  if (!name) co_return bad("Invalid mailbox name");
  store::AppendRequest req;
  std::size_t i = 1;
  if (cmd.args[i].is_list()) {
    auto flags = parse_flags(cmd.args[i]);
    if (!flags) co_return bad("Invalid flags");
    req.flags = std::move(*flags);
    ++i;
  }
  if (i + 1 < cmd.args.size()) {
    auto t = parse_date_time(cmd.args[i].value);
    if (!t || cmd.args[i].type == Arg::Type::list) co_return bad("Invalid date-time");
    req.internal_date = *t;
    ++i;
  }
  if (i + 1 != cmd.args.size() || cmd.args[i].type != Arg::Type::literal)
    co_return bad("APPEND needs the message as a literal");
  if (cmd.args[i].value.empty()) co_return no("[CANNOT] Empty message");
  auto box = co_await s.store().get_mailbox(s.account, *name);
  if (!box) {
    if (box.error() == store::StoreError::not_found) co_return no("[TRYCREATE] No such mailbox");
    co_return store_error_reply(box.error(), "APPEND");
  }
  req.raw = std::make_shared<const std::string>(cmd.args[i].value);
  auto r = co_await s.store().append(s.account, box->id, std::move(req));
  if (!r) co_return store_error_reply(r.error(), "APPEND");
  if (s.sel && s.sel->mailbox.id == box->id) s.notifier->dirty = true;
  co_return ok("[APPENDUID " + std::to_string(r->uidvalidity) + " " + std::to_string(r->uid) +
               "] APPEND completed");
}

}  // namespace govmail::imap
