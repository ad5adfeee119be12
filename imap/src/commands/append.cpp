// APPEND with APPENDUID (RFC 4315), MULTIAPPEND (RFC 3502), flags, date-time, literal8 (RFC
// 3516), APPENDLIMIT, and the UTF8 data item of UTF8=ACCEPT (RFC 6855).
#include "session_impl.hpp"

namespace govmail::imap {
namespace {

bool is_utf8_item(const std::vector<Arg>& args, std::size_t i) {
  return i + 1 < args.size() && args[i].type == Arg::Type::atom && iequals(args[i].value, "UTF8") &&
         args[i + 1].is_list() && args[i + 1].list.size() == 1;
}

// One message of an APPEND from args[i]: [flags] [date-time] (literal | UTF8 (literal8)).
// Advances `i` past it; the error text when it is malformed.
std::optional<std::string> parse_message(const Session::Impl& s, const std::vector<Arg>& args,
                                         std::size_t& i, store::AppendRequest& req) {
  if (i < args.size() && args[i].is_list()) {
    auto flags = parse_flags(args[i]);
    if (!flags) return "Invalid flags";
    req.flags = std::move(*flags);
    ++i;
  }
  if (i < args.size() && args[i].type == Arg::Type::quoted) {
    auto t = parse_date_time(args[i].value);
    if (!t) return "Invalid date-time";
    req.internal_date = *t;
    ++i;
  }
  const Arg* message = nullptr;
  if (is_utf8_item(args, i)) {
    // UTF-8 headers once UTF8=ACCEPT is enabled (RFC 6855 4).
    if (!s.utf8) return "APPEND UTF8 needs ENABLE UTF8=ACCEPT";
    message = &args[i + 1].list[0];
    i += 2;
  } else if (i < args.size()) {
    message = &args[i++];
  }
  if (!message || message->type != Arg::Type::literal)
    return "APPEND needs each message as a literal";
  req.raw = std::make_shared<const std::string>(message->value);
  return std::nullopt;
}

}  // namespace

GOVMAIL_IMAP_HANDLER(cmd_append) {
  const auto& args = cmd.args;
  if (args.size() < 2) co_return bad("APPEND needs a mailbox and a message");
  auto name = s.mailbox_name(args[0]);
  if (!name) co_return bad("Invalid mailbox name");
  std::vector<store::AppendRequest> reqs;
  for (std::size_t i = 1; i < args.size();) {
    if (auto error = parse_message(s, args, i, reqs.emplace_back())) co_return bad(*error);
  }
  for (const auto& req : reqs)
    if (req.raw->empty()) co_return no("[CANNOT] Empty message");
  // INBOX always exists: the store finds it itself, no lookup by name first.
  std::optional<store::MailboxId> target;
  if (*name != "INBOX") {
    auto box = co_await s.store().get_mailbox(s.account, *name);
    if (!box) {
      if (box.error() == store::StoreError::not_found) co_return no("[TRYCREATE] No such mailbox");
      co_return store_error_reply(box.error(), "APPEND");
    }
    target = box->id;
  }
  // Into the mailbox this IMAP4rev1 session has selected read-write: the new messages are recent
  // here (the first session to be told of them), claimed in the append's own transaction.
  reqs.back().claim_recent =
      s.sel && !s.sel->read_only && !s.rev2 &&
      (target ? *target == s.sel->mailbox.id : s.sel->mailbox.name == "INBOX");
  // Several messages: all or none (RFC 3502 6.3.11), in one transaction.
  auto r = co_await s.store().append_all(s.account, target, std::move(reqs));
  if (!r) co_return store_error_reply(r.error(), "APPEND");
  std::vector<std::uint32_t> uids;
  for (const auto& a : *r) {
    s.appended(a);
    uids.push_back(a.uid);
  }
  co_return ok("[APPENDUID " + std::to_string(r->front().uidvalidity) + " " + seq_set_text(uids) +
               "] APPEND completed");
}

}  // namespace govmail::imap
