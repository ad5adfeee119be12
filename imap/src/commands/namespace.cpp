#include "session_impl.hpp"

namespace govmail::imap {

GOVMAIL_IMAP_HANDLER(cmd_namespace) {
  if (!cmd.args.empty()) co_return bad("NAMESPACE takes no arguments");
  s.untagged("NAMESPACE ((\"\" \"/\")) NIL NIL");
  co_return ok("NAMESPACE completed");
}

}  // namespace govmail::imap
