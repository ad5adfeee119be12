// SELECT and EXAMINE (RFC 3501 6.3.1-2; CONDSTORE parameter, RFC 7162 3.1.8).
#include "session_impl.hpp"

namespace govmail::imap {

// A named set: GCC 12 miscompiles braced lists inside co_await expressions.
static const store::UidSet all{{1, UINT32_MAX}};
namespace {

awaitable<Reply> open_mailbox(Session::Impl& s, const Command& cmd, bool read_only) {
  if (cmd.args.empty() || cmd.args.size() > 2) co_return bad(cmd.name + " needs a mailbox name");
  if (cmd.args.size() == 2) {
    const auto& p = cmd.args[1];
    if (!p.is_list() || p.list.size() != 1 || !iequals(p.list[0].value, "CONDSTORE"))
      co_return bad("Unsupported " + cmd.name + " parameters");
    s.condstore = true;
  }
  auto name = s.mailbox_name(cmd.args[0]);
  if (!name) co_return bad("Invalid mailbox name");
  s.unselect();  // a failed SELECT leaves no mailbox selected (RFC 3501)
  auto m = co_await s.store().get_mailbox(s.account, *name);
  if (!m) co_return store_error_reply(m.error(), cmd.name);
  auto entries = co_await s.store().list_entries(s.account, m->id, all);
  if (!entries) co_return store_error_reply(entries.error(), cmd.name);
  Selected sel;
  sel.mailbox = *m;
  sel.read_only = read_only;
  sel.known_modseq = m->highestmodseq;
  std::optional<std::uint32_t> first_unseen;
  for (const auto& e : *entries) {
    sel.messages.push_back({e.uid, e.modseq});
    if (!first_unseen && !(e.flags.system & store::kSeen))
      first_unseen = static_cast<std::uint32_t>(sel.messages.size());
  }
  auto count = sel.messages.size();
  auto uidnext = std::max(m->uidnext, sel.max_uid() + 1);
  s.select_mailbox(std::move(sel));
  s.untagged("FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
  s.untagged(read_only ? "OK [PERMANENTFLAGS ()] Read-only"
                       : "OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] "
                         "Flags permitted");
  s.untagged(std::to_string(count) + " EXISTS");
  s.untagged("0 RECENT");
  if (first_unseen) s.untagged("OK [UNSEEN " + std::to_string(*first_unseen) + "] First unseen");
  s.untagged("OK [UIDVALIDITY " + std::to_string(m->uidvalidity) + "] UIDs valid");
  s.untagged("OK [UIDNEXT " + std::to_string(uidnext) + "] Predicted next UID");
  s.untagged("OK [HIGHESTMODSEQ " + std::to_string(m->highestmodseq) + "] Highest");
  co_return ok(read_only ? "[READ-ONLY] EXAMINE completed" : "[READ-WRITE] SELECT completed");
}

}  // namespace

GOVMAIL_IMAP_HANDLER(cmd_select) {
  co_return co_await open_mailbox(s, cmd, false);
}
GOVMAIL_IMAP_HANDLER(cmd_examine) {
  co_return co_await open_mailbox(s, cmd, true);
}

}  // namespace govmail::imap
