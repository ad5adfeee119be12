// SUBSCRIBE and UNSUBSCRIBE: a flag on an existing mailbox.
#include "session_impl.hpp"

namespace govmail::imap {
namespace {

awaitable<Reply> set_subscribed(Session::Impl& s, const Command& cmd, bool on) {
  if (cmd.args.size() != 1) co_return bad(cmd.name + " needs a mailbox name");
  auto name = s.mailbox_name(cmd.args[0]);
  if (!name) co_return bad("Invalid mailbox name");
  auto m = co_await s.store().get_mailbox(s.account, *name);
  if (!m) co_return store_error_reply(m.error(), cmd.name);
  auto r = co_await s.store().set_subscribed(s.account, m->id, on);
  if (!r) co_return store_error_reply(r.error(), cmd.name);
  co_return ok(cmd.name + " completed");
}

}  // namespace

GOVMAIL_IMAP_HANDLER(cmd_subscribe) {
  co_return co_await set_subscribed(s, cmd, true);
}
GOVMAIL_IMAP_HANDLER(cmd_unsubscribe) {
  co_return co_await set_subscribed(s, cmd, false);
}

}  // namespace govmail::imap
