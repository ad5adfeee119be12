// Helpers shared by the commands: the store error mapping, mailbox names, sets and flags.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "session_impl.hpp"

namespace govmail::imap {

Reply store_error_reply(store::StoreError e, std::string_view context) {
  using E = store::StoreError;
  switch (e) {
    case E::not_found:  // also "not yours": the same words (STYLE.md 12)
      return no("[NONEXISTENT] No such mailbox or message");
    case E::exists:
      return no("[ALREADYEXISTS] Mailbox already exists");
    case E::over_quota:
      return no("[OVERQUOTA] Quota exceeded");
    case E::too_big:
      return no("[TOOBIG] Message too big");
    case E::limit:
      return no("[LIMIT] Limit reached");
    case E::invalid:
      return no("[CANNOT] Not allowed for this mailbox or name");
    case E::conflict:
      return no("[MODIFIED] Changed meanwhile");
    case E::temporary:
    case E::unavailable:
      return no("[UNAVAILABLE] Temporary failure, try again");
    case E::permanent:
      break;
  }
  // The details are in the store's log; the client gets a stamp to quote (STYLE.md 13).
  auto stamp =
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000007);
  spdlog::error("imap {} failed: internal store error (ref {})", context, stamp);
  return no("[SERVERBUG] Internal error, ref " + stamp);
}

std::optional<std::string> Session::Impl::mailbox_name(const Arg& arg) const {
  if (!arg.is_string() || arg.value.empty()) return std::nullopt;
  std::string name = arg.value;
  bool ascii = std::all_of(name.begin(), name.end(), [](unsigned char c) { return c < 0x80; });
  if (!utf8 && ascii) {
    auto decoded = utf7_decode(name);
    if (!decoded) return std::nullopt;
    name = std::move(*decoded);
  }
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  if (iequals(name.substr(0, 5), "INBOX") && (name.size() == 5 || name[5] == '/'))
    name.replace(0, 5, "INBOX");
  return name;
}

std::string Session::Impl::wire_name(std::string_view name) const {
  return quote_string(utf8 ? std::string(name) : utf7_encode(name), utf8);
}

store::UidSet uid_set_of(std::vector<store::Uid> uids) {
  std::sort(uids.begin(), uids.end());
  store::UidSet out;
  for (auto u : uids) {
    if (!out.empty() && out.back().last + 1 == u)
      out.back().last = u;
    else if (out.empty() || out.back().last < u)
      out.push_back({u, u});
  }
  return out;
}

store::UidSet uid_set_of(const Selected& sel, const std::vector<std::uint32_t>& indexes) {
  std::vector<store::Uid> uids;
  uids.reserve(indexes.size());
  for (auto i : indexes) uids.push_back(sel.messages[i].uid);
  return uid_set_of(std::move(uids));
}

std::string vanished_without_log(const Selected& sel, store::Uid uidnext, const SeqSet* within) {
  std::vector<SeqRange> gaps;  // ascending, disjoint
  std::uint64_t next = 1;
  for (const auto& m : sel.messages) {
    if (m.uid > next) gaps.push_back({next, m.uid - std::uint64_t{1}});
    next = std::max<std::uint64_t>(next, std::uint64_t{m.uid} + 1);
  }
  if (uidnext > next) gaps.push_back({next, uidnext - std::uint64_t{1}});
  std::vector<SeqRange> out;
  if (!within) {
    out = std::move(gaps);
  } else {
    const auto w = within->normalised(sel.max_uid());
    for (std::size_t i = 0, j = 0; i < gaps.size() && j < w.size();) {
      const auto first = std::max(gaps[i].first, w[j].first);
      const auto last = std::min(gaps[i].last, w[j].last);
      if (first <= last) out.push_back({first, last});
      (gaps[i].last < w[j].last ? i : j)++;
    }
  }
  std::string text;
  for (const auto& r : out) {
    if (!text.empty()) text += ',';
    text += std::to_string(r.first);
    if (r.last > r.first) text += ":" + std::to_string(r.last);
  }
  return text;
}

std::string seq_set_text(std::vector<std::uint32_t> numbers) {
  std::sort(numbers.begin(), numbers.end());
  std::string out;
  for (std::size_t i = 0; i < numbers.size();) {
    std::size_t j = i;
    while (j + 1 < numbers.size() && numbers[j + 1] == numbers[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(numbers[i]);
    if (j > i) out += ":" + std::to_string(numbers[j]);
    i = j + 1;
  }
  return out;
}

std::optional<store::Flags> parse_flags(const Arg& arg) {
  std::vector<const Arg*> items;
  if (arg.is_list())
    for (const auto& a : arg.list) items.push_back(&a);
  else
    items.push_back(&arg);
  store::Flags f;
  static const std::pair<const char*, std::uint16_t> system[] = {{"\\SEEN", store::kSeen},
                                                                 {"\\ANSWERED", store::kAnswered},
                                                                 {"\\FLAGGED", store::kFlagged},
                                                                 {"\\DELETED", store::kDeleted},
                                                                 {"\\DRAFT", store::kDraft}};
  for (const Arg* a : items) {
    if (a->type != Arg::Type::atom || a->value.empty()) return std::nullopt;
    auto u = upper(a->value);
    if (u[0] == '\\') {
      if (u == "\\RECENT") continue;  // session-only; never stored
      auto it =
          std::find_if(std::begin(system), std::end(system), [&](auto& p) { return u == p.first; });
      if (it == std::end(system)) return std::nullopt;
      f.system |= it->second;
      continue;
    }
    for (unsigned char c : a->value)
      if (c == '*' || c == '%' || c == ']' || c >= 0x7f) return std::nullopt;
    f.keywords.push_back(a->value);
  }
  std::sort(f.keywords.begin(), f.keywords.end());
  f.keywords.erase(std::unique(f.keywords.begin(), f.keywords.end()), f.keywords.end());
  return f;
}

}  // namespace govmail::imap
