#include "session_impl.hpp"

namespace govmail::imap {

GOVMAIL_IMAP_HANDLER(cmd_rename) {
  if (cmd.args.size() != 2) co_return bad("RENAME needs two mailbox names");
  auto from = s.mailbox_name(cmd.args[0]);
  auto to = s.mailbox_name(cmd.args[1]);
  if (!from || !to) co_return bad("Invalid mailbox name");
  if (*to == "INBOX") co_return no("[ALREADYEXISTS] INBOX always exists");
  auto m = co_await s.store().get_mailbox(s.account, *from);
  if (!m) co_return store_error_reply(m.error(), "RENAME");
  auto r = co_await s.store().rename_mailbox(s.account, m->id, *to);
  if (!r) co_return store_error_reply(r.error(), "RENAME");
  co_return ok("RENAME completed");
}

}  // namespace govmail::imap
