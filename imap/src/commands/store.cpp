// STORE and UID STORE (RFC 3501 6.4.6, RFC 7162 UNCHANGEDSINCE).
#include <charconv>

#include "session_impl.hpp"

namespace govmail::imap {

bool valid_seq_set(const Session::Impl& s, const SeqSet& set, bool uid);

GOVMAIL_IMAP_HANDLER(cmd_store) {
  if (cmd.args.size() < 3) co_return bad("STORE needs a set, an item and flags");
  auto set = parse_seq_set(cmd.args[0].value);
  if (!set || cmd.args[0].type != Arg::Type::atom) co_return bad("Invalid sequence set");
  if (!valid_seq_set(s, *set, cmd.uid)) co_return bad("Invalid message sequence number");
  std::size_t i = 1;
  std::optional<store::ModSeq> unchanged;
  if (cmd.args[1].is_list()) {
    const auto& l = cmd.args[1].list;
    store::ModSeq v = 0;
    if (l.size() != 2 || !iequals(l[0].value, "UNCHANGEDSINCE"))
      co_return bad("Bad STORE modifier");
    auto [p, ec] = std::from_chars(l[1].value.data(), l[1].value.data() + l[1].value.size(), v);
    if (ec != std::errc()) co_return bad("Bad UNCHANGEDSINCE");
    unchanged = v;
    s.enable_condstore();
    ++i;
  }
  if (cmd.args.size() < i + 2) co_return bad("STORE needs an item and flags");
  auto item = upper(cmd.args[i].value);
  bool silent = item.ends_with(".SILENT");
  if (silent) item.resize(item.size() - 7);
  store::FlagOp op;
  if (item == "FLAGS")
    op = store::FlagOp::replace;
  else if (item == "+FLAGS")
    op = store::FlagOp::add;
  else if (item == "-FLAGS")
    op = store::FlagOp::remove;
  else
    co_return bad("Unknown STORE item");
  Arg flags_arg{.type = Arg::Type::list};
  if (cmd.args.size() == i + 2)
    flags_arg = cmd.args[i + 1];
  else
    flags_arg.list.assign(cmd.args.begin() + i + 1, cmd.args.end());
  auto flags = parse_flags(flags_arg);
  if (!flags) co_return bad("Invalid flags");
  if (s.sel->read_only) co_return no("[READ-ONLY] Mailbox is read-only");
  auto idx = s.resolve(*set, cmd.uid);
  if (idx.empty()) co_return ok("STORE completed");
  const auto uids = uid_set_of(*s.sel, idx);
  auto r = co_await s.store().set_flags(s.account, s.sel->mailbox.id, uids, op, *flags, unchanged);
  if (!r) co_return store_error_reply(r.error(), "STORE");
  s.advance(r->step);
  auto answer = [&](const store::MailboxEntry& e) {
    auto seq = s.sel->seq_of(e.uid);
    if (!seq) return;
    std::string out = std::to_string(*seq) + " FETCH (";
    if (cmd.uid) out += "UID " + std::to_string(e.uid) + " ";
    if (!silent) out += "FLAGS " + s.flags_text(e.flags, e.uid);
    if (s.condstore)
      out += std::string(silent ? "" : " ") + "MODSEQ (" + std::to_string(e.modseq) + ")";
    s.untagged(out + ")");
  };
  for (const auto& e : r->updated) {
    auto seq = s.sel->seq_of(e.uid);
    if (!seq) continue;
    s.sel->messages[*seq - 1].modseq = e.modseq;
    if (!silent || unchanged) answer(e);
  }
  // The flags of every message named come back "as if a FETCH of those flags was done" (RFC 3501
  // 6.4.6), also those the STORE left as they were (a conflict is reported in MODIFIED instead).
  if (!silent)
    for (const auto& e : r->unchanged) answer(e);
  if (!r->conflicts.empty()) {
    std::vector<std::uint32_t> nums;
    for (auto u : r->conflicts) {
      if (cmd.uid)
        nums.push_back(u);
      else if (auto seq = s.sel->seq_of(u))
        nums.push_back(*seq);
    }
    co_return ok("[MODIFIED " + seq_set_text(nums) + "] Conditional STORE failed");
  }
  co_return ok("STORE completed");
}

}  // namespace govmail::imap
