// STATUS (RFC 3501 6.3.10, RFC 9051: SIZE, DELETED; RFC 7162: HIGHESTMODSEQ).
#include "session_impl.hpp"

namespace govmail::imap {

// A named set: GCC 12 miscompiles braced lists inside co_await expressions.
static const store::UidSet all{{1, UINT32_MAX}};

awaitable<Reply> status_response(Session::Impl& s, const store::Mailbox& m,
                                 const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    std::string v;
    if (item == "MESSAGES")
      v = std::to_string(m.messages);
    else if (item == "RECENT") {
      // Recent for nobody yet, and those recent for this session when it has the mailbox open.
      const store::UidSet unclaimed{
          {static_cast<store::Uid>(std::min<std::uint64_t>(m.first_recent_uid, UINT32_MAX)),
           UINT32_MAX}};
      auto entries = co_await s.store().list_entries(s.account, m.id, unclaimed);
      if (!entries) co_return store_error_reply(entries.error(), "STATUS");
      std::size_t n = 0;
      for (const auto& e : *entries) n += e.uid >= m.first_recent_uid ? 1 : 0;
      if (s.sel && s.sel->mailbox.id == m.id && !s.sel->read_only) n += s.sel->recent_count();
      v = std::to_string(n);
    } else if (item == "UIDNEXT")
      v = std::to_string(m.uidnext);
    else if (item == "UIDVALIDITY")
      v = std::to_string(m.uidvalidity);
    else if (item == "UNSEEN")
      v = std::to_string(m.unseen);
    else if (item == "SIZE")
      v = std::to_string(m.size_bytes);
    else if (item == "HIGHESTMODSEQ") {
      s.enable_condstore();  // STATUS HIGHESTMODSEQ enables CONDSTORE (RFC 7162 3.1)
      v = std::to_string(m.highestmodseq);
    } else if (item == "DELETED") {
      auto entries = co_await s.store().list_entries(s.account, m.id, all);
      if (!entries) co_return store_error_reply(entries.error(), "STATUS");
      std::size_t n = 0;
      for (const auto& e : *entries) n += (e.flags.system & store::kDeleted) ? 1 : 0;
      v = std::to_string(n);
    } else {
      co_return bad("Unknown STATUS item");
    }
    out += (out.empty() ? "" : " ") + item + " " + v;
  }
  s.untagged("STATUS " + s.wire_name(m.name) + " (" + out + ")");
  co_return ok("STATUS completed");
}

GOVMAIL_IMAP_HANDLER(cmd_status) {
  if (cmd.args.size() != 2 || !cmd.args[1].is_list() || cmd.args[1].list.empty())
    co_return bad("STATUS needs a mailbox and a list of items");
  auto name = s.mailbox_name(cmd.args[0]);
  // Not modified UTF-7: a valid astring that names no mailbox (CREATE refuses such names).
  if (!name && cmd.args[0].is_string()) co_return no("[NONEXISTENT] No such mailbox");
  if (!name) co_return bad("Invalid mailbox name");
  std::vector<std::string> items;
  for (const auto& a : cmd.args[1].list) items.push_back(upper(a.value));
  auto m = co_await s.store().get_mailbox(s.account, *name);
  if (!m) co_return store_error_reply(m.error(), "STATUS");
  co_return co_await status_response(s, *m, items);
}

}  // namespace govmail::imap
