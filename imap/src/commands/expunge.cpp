// EXPUNGE and UID EXPUNGE (RFC 4315), CLOSE and UNSELECT (RFC 3691).
#include "session_impl.hpp"

namespace govmail::imap {

GOVMAIL_IMAP_HANDLER(cmd_expunge) {
  std::optional<store::UidSet> only;
  if (cmd.uid) {
    auto set = cmd.args.size() == 1 ? parse_seq_set(cmd.args[0].value) : std::nullopt;
    if (!set) co_return bad("UID EXPUNGE needs a UID set");
    only = uid_set_of(*s.sel, s.resolve(*set, true));
    if (only->empty()) co_return ok("EXPUNGE completed");
  } else if (!cmd.args.empty()) {
    co_return bad("EXPUNGE takes no arguments");
  }
  if (s.sel->read_only) co_return no("[READ-ONLY] Mailbox is read-only");
  auto r = co_await s.store().expunge(s.account, s.sel->mailbox.id, only);
  if (!r) co_return store_error_reply(r.error(), "EXPUNGE");
  s.expunged(std::move(r->uids));
  s.advance(r->step);
  co_return ok("EXPUNGE completed");
}

GOVMAIL_IMAP_HANDLER(cmd_close) {
  if (!cmd.args.empty()) co_return bad("CLOSE takes no arguments");
  if (!s.sel->read_only) {
    auto r = co_await s.store().expunge(s.account, s.sel->mailbox.id, std::nullopt);
    if (!r) co_return store_error_reply(r.error(), "CLOSE");
  }
  s.unselect();
  co_return ok("CLOSE completed");
}

GOVMAIL_IMAP_HANDLER(cmd_unselect) {
  if (!cmd.args.empty()) co_return bad("UNSELECT takes no arguments");
  s.unselect();
  co_return ok("UNSELECT completed");
}

}  // namespace govmail::imap
