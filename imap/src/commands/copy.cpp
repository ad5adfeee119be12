// COPY and MOVE (RFC 6851) with COPYUID (RFC 4315 UIDPLUS).
#include "session_impl.hpp"

namespace govmail::imap {

bool valid_seq_set(const Session::Impl& s, const SeqSet& set, bool uid);

awaitable<Reply> copy_or_move(Session::Impl& s, const Command& cmd, bool move) {
  if (cmd.args.size() != 2) co_return bad(cmd.name + " needs a set and a mailbox");
  auto set = parse_seq_set(cmd.args[0].value);
  if (!set || cmd.args[0].type != Arg::Type::atom) co_return bad("Invalid sequence set");
  if (!valid_seq_set(s, *set, cmd.uid)) co_return bad("Invalid message sequence number");
  auto name = s.mailbox_name(cmd.args[1]);
  if (!name) co_return bad("Invalid mailbox name");
  if (move && s.sel->read_only) co_return no("[READ-ONLY] Mailbox is read-only");
  auto dest = co_await s.store().get_mailbox(s.account, *name);
  if (!dest) {
    if (dest.error() == store::StoreError::not_found) co_return no("[TRYCREATE] No such mailbox");
    co_return store_error_reply(dest.error(), cmd.name);
  }
  auto idx = s.resolve(*set, cmd.uid);
  if (idx.empty()) co_return ok(cmd.name + " completed");
  auto uids = uid_set_of(*s.sel, idx);
  // Not a ?: of two co_awaits: GCC 12 destroys the result of such an expression twice.
  store::Result<store::UidMapping> r = store::unexpected(store::StoreError::permanent);
  if (move)
    r = co_await s.store().move(s.account, s.sel->mailbox.id, uids, dest->id);
  else
    r = co_await s.store().copy(s.account, s.sel->mailbox.id, uids, dest->id);
  if (!r) co_return store_error_reply(r.error(), cmd.name);
  std::vector<std::uint32_t> src(r->source.begin(), r->source.end());
  std::vector<std::uint32_t> dst(r->destination.begin(), r->destination.end());
  // Both lists are in the store's order, pairwise; keep the pairs, write them as sets.
  std::string code = r->source.empty() ? std::string()
                                       : "[COPYUID " + std::to_string(r->uidvalidity) + " " +
                                             seq_set_text(src) + " " + seq_set_text(dst) + "] ";
  if (!move) co_return ok(code + "COPY completed");
  if (!code.empty()) s.untagged("OK " + code + "Moved");
  s.expunged(r->source);
  co_return ok("MOVE completed");
}

GOVMAIL_IMAP_HANDLER(cmd_copy) {
  co_return co_await copy_or_move(s, cmd, false);
}
GOVMAIL_IMAP_HANDLER(cmd_move) {
  co_return co_await copy_or_move(s, cmd, true);
}

}  // namespace govmail::imap
