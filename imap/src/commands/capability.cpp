#include "session_impl.hpp"

namespace govmail::imap {

GOVMAIL_IMAP_HANDLER(cmd_capability) {
  if (!cmd.args.empty()) co_return bad("CAPABILITY takes no arguments");
  s.untagged("CAPABILITY " + s.capabilities());
  co_return ok("CAPABILITY completed");
}

}  // namespace govmail::imap
