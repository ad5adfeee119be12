// QUOTA (RFC 9208): one root per account, "".
#include "session_impl.hpp"

namespace govmail::imap {
namespace {

awaitable<Reply> quota_response(Session::Impl& s) {
  auto q = co_await s.store().quota(s.account);
  if (!q) co_return store_error_reply(q.error(), "GETQUOTA");
  if (q->limit_bytes == 0) {
    s.untagged("QUOTA \"\" ()");
  } else {
    s.untagged("QUOTA \"\" (STORAGE " + std::to_string(q->used_bytes / 1024) + " " +
               std::to_string(q->limit_bytes / 1024) + ")");
  }
  co_return ok("GETQUOTA completed");
}

}  // namespace

GOVMAIL_IMAP_HANDLER(cmd_getquotaroot) {
  if (cmd.args.size() != 1) co_return bad("GETQUOTAROOT needs a mailbox");
  auto name = s.mailbox_name(cmd.args[0]);
  if (!name) co_return bad("Invalid mailbox name");
  auto m = co_await s.store().get_mailbox(s.account, *name);
  if (!m) co_return store_error_reply(m.error(), "GETQUOTAROOT");
  s.untagged("QUOTAROOT " + s.wire_name(m->name) + " \"\"");
  co_return co_await quota_response(s);
}

GOVMAIL_IMAP_HANDLER(cmd_getquota) {
  if (cmd.args.size() != 1 || !cmd.args[0].value.empty())
    co_return no("[NONEXISTENT] No such quota root");
  co_return co_await quota_response(s);
}

}  // namespace govmail::imap
