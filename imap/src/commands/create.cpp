// CREATE, with the RFC 6154 USE parameter.
#include "session_impl.hpp"

namespace govmail::imap {

GOVMAIL_IMAP_HANDLER(cmd_create) {
  if (cmd.args.empty() || cmd.args.size() > 2) co_return bad("CREATE needs a mailbox name");
  auto name = s.mailbox_name(cmd.args[0]);
  if (!name) co_return bad("Invalid mailbox name");
  if (*name == "INBOX") co_return no("[ALREADYEXISTS] INBOX always exists");
  auto use = store::SpecialUse::none;
  if (cmd.args.size() == 2) {
    const auto& p = cmd.args[1];
    if (!p.is_list() || p.list.size() != 2 || !iequals(p.list[0].value, "USE") ||
        !p.list[1].is_list())
      co_return bad("Bad CREATE parameters");
    // "USE ()" makes a plain mailbox; a mailbox has one special use at most here, and a use the
    // server cannot give is NO [USEATTR], not a syntax error (RFC 6154 3).
    const auto& attrs = p.list[1].list;
    if (attrs.size() > 1) co_return no("[USEATTR] One special use per mailbox");
    static const std::pair<const char*, store::SpecialUse> uses[] = {
        {"\\SENT", store::SpecialUse::sent},
        {"\\DRAFTS", store::SpecialUse::drafts},
        {"\\TRASH", store::SpecialUse::trash},
        {"\\JUNK", store::SpecialUse::junk},
        {"\\ARCHIVE", store::SpecialUse::archive}};
    if (attrs.size() == 1) {
      auto want = upper(attrs[0].value);
      bool found = false;
      for (auto& [n, u] : uses)
        if (want == n) use = u, found = true;
      if (!found) co_return no("[USEATTR] Unsupported special-use attribute");
    }
  }
  auto r = co_await s.store().create_mailbox(s.account, *name, use);
  if (!r) co_return store_error_reply(r.error(), "CREATE");
  co_return ok("CREATE completed");
}

}  // namespace govmail::imap
