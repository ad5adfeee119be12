// SUBSCRIBE and UNSUBSCRIBE: names in the account's subscription list, which outlive their
// mailboxes (RFC 3501 6.3.6). SUBSCRIBE checks that the mailbox exists (which the RFC allows);
// UNSUBSCRIBE does not, so that the name of a deleted mailbox can be dropped. Both answer OK
// when there is nothing to change (RFC 9051 6.3.7, 6.3.8).
#include "session_impl.hpp"

namespace govmail::imap {
namespace {

awaitable<Reply> set_subscribed(Session::Impl& s, const Command& cmd, bool on) {
  if (cmd.args.size() != 1) co_return bad(cmd.name + " needs a mailbox name");
  auto name = s.mailbox_name(cmd.args[0]);
  if (!name) co_return bad("Invalid mailbox name");
  if (on) {
    auto m = co_await s.store().get_mailbox(s.account, *name);
    if (!m) co_return store_error_reply(m.error(), cmd.name);
  }
  auto r = co_await s.store().set_subscribed(s.account, *name, on);
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
