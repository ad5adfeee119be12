#include "session_impl.hpp"

namespace govmail::imap {

GOVMAIL_IMAP_HANDLER(cmd_logout) {
  s.untagged("BYE Logging out");
  s.state = State::logout;
  s.sel.reset();
  s.close = true;
  s.tagged(cmd.tag, ok("LOGOUT completed"));
  s.idling = false;
  co_return Reply{"", ""};  // answered above: the dispatcher writes nothing more
}

}  // namespace govmail::imap
