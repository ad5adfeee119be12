// STARTTLS (RFC 3501 6.2.1, RFC 9051): the I/O side drops bytes pipelined after it (CVE-2011-0411).
#include "session_impl.hpp"

namespace govmail::imap {

GOVMAIL_IMAP_HANDLER(cmd_starttls) {
  if (!s.cfg.starttls_available || s.conn.tls) co_return bad("STARTTLS not available");
  s.tagged(cmd.tag, ok("Begin TLS negotiation now"));
  s.start_tls = true;
  co_return Reply{"", ""};
}

}  // namespace govmail::imap
