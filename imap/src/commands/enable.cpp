// ENABLE (RFC 5161): UTF8=ACCEPT (RFC 6855), CONDSTORE (RFC 7162).
#include "session_impl.hpp"

namespace govmail::imap {

GOVMAIL_IMAP_HANDLER(cmd_enable) {
  if (cmd.args.empty()) co_return bad("ENABLE needs capability names");
  std::string enabled;
  for (const auto& a : cmd.args) {
    auto name = upper(a.value);
    bool* flag = name == "UTF8=ACCEPT" ? &s.utf8
                 : name == "CONDSTORE" ? &s.condstore
                 : name == "QRESYNC"   ? &s.qresync
                 : name == "IMAP4REV2" ? &s.rev2
                                       : nullptr;
    if (!flag || *flag) continue;
    if (flag == &s.condstore || (flag == &s.qresync && !s.condstore))
      s.enable_condstore();  // QRESYNC implies CONDSTORE (RFC 7162 3.2.3)
    *flag = true;
    enabled += " " + name;
  }
  s.untagged("ENABLED" + enabled);
  co_return ok("ENABLE completed");
}

}  // namespace govmail::imap
