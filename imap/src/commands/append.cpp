// APPEND with APPENDUID (RFC 4315), flags, date-time, literal8 (RFC 3516), APPENDLIMIT, and the
// UTF8 data item of UTF8=ACCEPT (RFC 6855).
#include "session_impl.hpp"

namespace govmail::imap {

GOVMAIL_IMAP_HANDLER(cmd_append) {
  const auto& args = cmd.args;
  // The message: a literal, or UTF8 (literal8) for UTF-8 headers once UTF8=ACCEPT is enabled
  // (RFC 6855 4).
  bool utf8_item = args.size() >= 3 && args.back().is_list() && args.back().list.size() == 1 &&
                   args[args.size() - 2].type == Arg::Type::atom &&
                   iequals(args[args.size() - 2].value, "UTF8");
  if (args.size() < 2) co_return bad("APPEND needs a mailbox and a message");
  const std::size_t at = args.size() - (utf8_item ? 2 : 1);  // where the message starts
  if (at < 1 || at > 3) co_return bad("APPEND needs a mailbox and a message");
  if (utf8_item && !s.utf8) co_return bad("APPEND UTF8 needs ENABLE UTF8=ACCEPT");
  auto name = s.mailbox_name(args[0]);
  if (!name) co_return bad("Invalid mailbox name");
  store::AppendRequest req;
  std::size_t i = 1;
  if (i < at && args[i].is_list()) {
    auto flags = parse_flags(args[i]);
    if (!flags) co_return bad("Invalid flags");
    req.flags = std::move(*flags);
    ++i;
  }
  if (i < at) {
    auto t = parse_date_time(args[i].value);
    if (!t || args[i].type == Arg::Type::list) co_return bad("Invalid date-time");
    req.internal_date = *t;
    ++i;
  }
  const Arg& message = utf8_item ? args.back().list[0] : args.back();
  if (i != at || message.type != Arg::Type::literal)
    co_return bad("APPEND needs the message as a literal");
  if (message.value.empty()) co_return no("[CANNOT] Empty message");
  // INBOX always exists: the store finds it itself, no lookup by name first.
  std::optional<store::MailboxId> target;
  if (*name != "INBOX") {
    auto box = co_await s.store().get_mailbox(s.account, *name);
    if (!box) {
      if (box.error() == store::StoreError::not_found) co_return no("[TRYCREATE] No such mailbox");
      co_return store_error_reply(box.error(), "APPEND");
    }
    target = box->id;
  }
  req.raw = std::make_shared<const std::string>(message.value);
  // Into the mailbox this IMAP4rev1 session has selected read-write: the new message is recent
  // here (the first session to be told of it), claimed in the append's own transaction.
  req.claim_recent = s.sel && !s.sel->read_only && !s.rev2 &&
                     (target ? *target == s.sel->mailbox.id : s.sel->mailbox.name == "INBOX");
  auto r = co_await s.store().append(s.account, target, std::move(req));
  if (!r) co_return store_error_reply(r.error(), "APPEND");
  s.appended(*r);
  co_return ok("[APPENDUID " + std::to_string(r->uidvalidity) + " " + std::to_string(r->uid) +
               "] APPEND completed");
}

}  // namespace govmail::imap
