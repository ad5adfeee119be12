#include "session_impl.hpp"

namespace govmail::imap {

GOVMAIL_IMAP_HANDLER(cmd_delete) {
  if (cmd.args.size() != 1) co_return bad("DELETE needs a mailbox name");
  auto name = s.mailbox_name(cmd.args[0]);
  if (!name) co_return bad("Invalid mailbox name");
  if (*name == "INBOX") co_return no("[CANNOT] INBOX cannot be deleted");
  auto m = co_await s.store().get_mailbox(s.account, *name);
  if (!m) co_return store_error_reply(m.error(), "DELETE");
  auto r = co_await s.store().delete_mailbox(s.account, m->id);
  if (!r) {
    if (r.error() == store::StoreError::invalid) co_return no("[INUSE] Delete the children first");
    co_return store_error_reply(r.error(), "DELETE");
  }
  if (s.sel && s.sel->mailbox.id == m->id) s.unselect();
  co_return ok("DELETE completed");
}

}  // namespace govmail::imap
