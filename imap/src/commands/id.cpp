// ID (RFC 2971): the client's list is read and ignored; we name ourselves.
#include "core/version.hpp"
#include "session_impl.hpp"

namespace govmail::imap {

GOVMAIL_IMAP_HANDLER(cmd_id) {
  if (cmd.args.size() != 1 || !(cmd.args[0].is_list() || cmd.args[0].is_nil()))
    co_return bad("ID needs a list or NIL");
  s.untagged("ID (\"name\" \"govmail\" \"version\" " + quote_string(core::version()) + ")");
  co_return ok("ID completed");
}

}  // namespace govmail::imap
