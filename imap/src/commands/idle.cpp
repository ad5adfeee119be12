// IDLE (RFC 2177): the I/O side writes idle_updates() whenever the mailbox changes, until DONE.
#include "session_impl.hpp"

namespace govmail::imap {

GOVMAIL_IMAP_HANDLER(cmd_idle) {
  if (!cmd.args.empty()) co_return bad("IDLE takes no arguments");
  co_await s.announce(true, true);
  s.out += "+ idling\r\n";
  s.idling = true;
  s.idle_tag = cmd.tag;
  co_return Reply{};
}

}  // namespace govmail::imap
