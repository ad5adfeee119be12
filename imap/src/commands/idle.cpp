// IDLE (RFC 2177): the I/O side writes idle_updates() whenever the mailbox changes, until DONE.
#include "session_impl.hpp"

namespace govmail::imap {

GOVMAIL_IMAP_HANDLER(cmd_idle) {
  if (!cmd.args.empty()) co_return bad("IDLE takes no arguments");
  co_await s.announce(true, true);
  // An IDLE session may wait for hours: its snapshot of the mailbox (16 bytes a message, grown
  // by push_back to up to twice that) is kept at its size.
  if (s.sel) s.sel->messages.shrink_to_fit();
  s.out += "+ idling\r\n";
  s.idling = true;
  s.idle_tag = cmd.tag;
  co_return Reply{};
}

}  // namespace govmail::imap
