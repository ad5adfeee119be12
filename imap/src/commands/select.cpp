// SELECT and EXAMINE (RFC 3501 6.3.1-2; CONDSTORE parameter, RFC 7162 3.1.8).
#include <charconv>

#include "session_impl.hpp"

namespace govmail::imap {

namespace {

struct Resync {
  std::uint32_t uidvalidity = 0;
  store::ModSeq modseq = 0;
  std::optional<SeqSet> known_uids;
};

std::optional<std::uint64_t> number(const Arg& a) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(a.value.data(), a.value.data() + a.value.size(), v);
  if (a.type != Arg::Type::atom || ec != std::errc() || p != a.value.data() + a.value.size())
    return std::nullopt;
  return v;
}

// (CONDSTORE) and/or (QRESYNC (uidvalidity modseq [known-uids [seq-match]])), RFC 7162.
bool parse_params(Session::Impl& s, const Arg& p, std::optional<Resync>& resync) {
  if (!p.is_list()) return false;
  for (std::size_t i = 0; i < p.list.size(); ++i) {
    auto name = upper(p.list[i].value);
    if (name == "CONDSTORE") {
      s.condstore = true;  // SELECT sends HIGHESTMODSEQ anyway
      continue;
    }
    if (name != "QRESYNC" || !s.qresync || i + 1 >= p.list.size() || !p.list[i + 1].is_list())
      return false;
    const auto& q = p.list[++i].list;
    if (q.size() < 2) return false;
    auto v = number(q[0]), m = number(q[1]);
    if (!v || !m) return false;
    resync = Resync{static_cast<std::uint32_t>(*v), *m, {}};
    if (q.size() >= 3 && q[2].type == Arg::Type::atom)
      resync->known_uids = parse_seq_set(q[2].value);
  }
  return true;
}

// What changed since the client's last visit: VANISHED (EARLIER) and FETCH (RFC 7162 3.2.5.2).
awaitable<void> resynchronise(Session::Impl& s, const Resync& r) {
  if (r.uidvalidity != s.sel->mailbox.uidvalidity) co_return;
  auto ch = co_await s.store().changes_since(s.account, s.sel->mailbox.id, r.modseq);
  if (!ch) co_return;
  if (ch->expunged_unknown) {  // the change log was pruned past the client's mod-sequence
    const auto* known = r.known_uids ? &*r.known_uids : nullptr;
    auto text = vanished_without_log(*s.sel, s.sel->mailbox.uidnext, known);
    if (!text.empty()) s.untagged("VANISHED (EARLIER) " + text);
    ch->expunged.clear();
  }
  std::vector<std::uint32_t> gone;
  for (auto u : ch->expunged)
    if (!r.known_uids || r.known_uids->contains(u, s.sel->max_uid())) gone.push_back(u);
  if (!gone.empty()) s.untagged("VANISHED (EARLIER) " + seq_set_text(std::move(gone)));
  for (const auto& e : ch->changed)
    if (auto seq = s.sel->seq_of(e.uid))
      s.untagged(std::to_string(*seq) + " FETCH (UID " + std::to_string(e.uid) + " FLAGS " +
                 s.flags_text(e.flags, e.uid) + " MODSEQ (" + std::to_string(e.modseq) + "))");
}

awaitable<Reply> open_mailbox(Session::Impl& s, const Command& cmd, bool read_only) {
  if (cmd.args.empty() || cmd.args.size() > 2) co_return bad(cmd.name + " needs a mailbox name");
  std::optional<Resync> resync;
  if (cmd.args.size() == 2 && !parse_params(s, cmd.args[1], resync))
    co_return bad("Unsupported " + cmd.name + " parameters (QRESYNC needs ENABLE QRESYNC)");
  auto name = s.mailbox_name(cmd.args[0]);
  if (!name && !cmd.args[0].is_string()) co_return bad("Invalid mailbox name");
  s.unselect();  // a failed SELECT leaves no mailbox selected (RFC 3501)
  // A string that is not modified UTF-7 names no mailbox (CREATE refuses such names).
  if (!name) co_return no("[NONEXISTENT] No such mailbox");
  // An IMAP4rev1 SELECT makes the messages no session has seen recent for itself alone.
  auto opened = co_await s.store().open_mailbox(s.account, *name, !read_only && !s.rev2);
  if (!opened) co_return store_error_reply(opened.error(), cmd.name);
  const store::Mailbox* m = &opened->mailbox;
  Selected sel;
  sel.mailbox = *m;
  sel.read_only = read_only;
  sel.known_modseq = m->highestmodseq;
  if (read_only)  // EXAMINE claims nothing: what nobody claimed is recent here too
    sel.add_recent({m->first_recent_uid, std::uint64_t{UINT32_MAX} + 1});
  else
    sel.add_recent(opened->claimed);
  sel.messages.reserve(opened->entries.size());
  std::optional<std::uint32_t> first_unseen;
  for (const auto& e : opened->entries) {
    sel.messages.push_back({e.uid, e.modseq});
    if (!first_unseen && !(e.flags & store::kSeen))
      first_unseen = static_cast<std::uint32_t>(sel.messages.size());
  }
  auto count = sel.messages.size();
  auto recent = sel.recent_count();
  auto uidnext = std::max(m->uidnext, sel.max_uid() + 1);
  s.select_mailbox(std::move(sel));
  s.announce_flags();
  s.untagged(std::to_string(count) + " EXISTS");
  if (!s.rev2) s.untagged(std::to_string(recent) + " RECENT");  // gone from IMAP4rev2
  if (first_unseen) s.untagged("OK [UNSEEN " + std::to_string(*first_unseen) + "] First unseen");
  s.untagged("OK [UIDVALIDITY " + std::to_string(m->uidvalidity) + "] UIDs valid");
  s.untagged("OK [UIDNEXT " + std::to_string(uidnext) + "] Predicted next UID");
  s.untagged("OK [HIGHESTMODSEQ " + std::to_string(m->highestmodseq) + "] Highest");
  if (resync) co_await resynchronise(s, *resync);
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
