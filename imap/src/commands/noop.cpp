// NOOP and CHECK: a poll point; changes made elsewhere are announced (RFC 3501 6.1.2).
#include "session_impl.hpp"

namespace govmail::imap {

GOVMAIL_IMAP_HANDLER(cmd_noop) {
  if (!cmd.args.empty()) co_return bad(cmd.name + " takes no arguments");
  co_await s.announce(true, true);
  co_return ok(cmd.name + " completed");
}

}  // namespace govmail::imap
