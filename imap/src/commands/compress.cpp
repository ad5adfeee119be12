// COMPRESS DEFLATE (RFC 4978): the I/O side switches both directions after the tagged OK.
#include "session_impl.hpp"

namespace govmail::imap {

GOVMAIL_IMAP_HANDLER(cmd_compress) {
  if (cmd.args.size() != 1 || !iequals(cmd.args[0].value, "DEFLATE"))
    co_return bad("Only COMPRESS DEFLATE is supported");
  if (s.compressed) co_return no("[COMPRESSIONACTIVE] Already compressing");
  s.tagged(cmd.tag, ok("DEFLATE active"));
  s.compressed = s.start_compress = true;
  co_return Reply{"", ""};
}

}  // namespace govmail::imap
