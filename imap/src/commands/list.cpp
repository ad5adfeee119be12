// LIST with LIST-EXTENDED (RFC 5258: selection SUBSCRIBED, RECURSIVEMATCH, SPECIAL-USE; return
// CHILDREN, SUBSCRIBED, SPECIAL-USE), SPECIAL-USE (RFC 6154), CHILDREN, LIST-STATUS
// (RFC 5819), and LSUB. Patterns are matched on UTF-8 names ('*' any, '%' not '/').
#include <algorithm>
#include <vector>

#include "session_impl.hpp"

namespace govmail::imap {
namespace {

// LIST pattern match ('*' any characters, '%' any but the separator '/'), by dynamic
// programming over the pattern: O(pattern x name) whatever the wildcards (a recursive matcher
// takes exponential time on "*a*a*a*a*...b").
bool matches(std::string_view pattern, std::string_view name) {
  std::string p;
  for (char c : pattern) {  // "**", "*%", "%*" are "*"; "%%" is "%"
    if ((c == '*' || c == '%') && !p.empty() && (p.back() == '*' || p.back() == '%')) {
      if (c == '*') p.back() = '*';
      continue;
    }
    p += c;
  }
  // at[j]: the name read so far is matched by p[0, j).
  std::vector<char> at(p.size() + 1, 0), next(p.size() + 1, 0);
  auto close = [&](std::vector<char>& v) {  // wildcards also match nothing
    for (std::size_t j = 0; j < p.size(); ++j)
      if (v[j] && (p[j] == '*' || p[j] == '%')) v[j + 1] = 1;
  };
  at[0] = 1;
  close(at);
  for (char c : name) {
    std::fill(next.begin(), next.end(), 0);
    for (std::size_t j = 0; j < p.size(); ++j) {
      if (!at[j]) continue;
      if (p[j] == '*' || (p[j] == '%' && c != '/'))
        next[j] = 1;  // the wildcard takes c and may take more
      else if (p[j] == c)
        next[j + 1] = 1;
    }
    close(next);
    at.swap(next);
  }
  return at[p.size()] != 0;
}

const char* special_use_attr(store::SpecialUse u) {
  switch (u) {
    case store::SpecialUse::sent:
      return "\\Sent";
    case store::SpecialUse::drafts:
      return "\\Drafts";
    case store::SpecialUse::trash:
      return "\\Trash";
    case store::SpecialUse::junk:
      return "\\Junk";
    case store::SpecialUse::archive:
      return "\\Archive";
    case store::SpecialUse::none:
      break;
  }
  return nullptr;
}

struct ListOptions {
  bool subscribed_only = false, special_use_only = false, recursive = false;
  bool ret_subscribed = false, ret_children = true, ret_special_use = true;
  std::vector<std::string> status_items;
  bool lsub = false;
};

bool parse_options(const Command& cmd, std::size_t& i, ListOptions& o) {
  if (i < cmd.args.size() && cmd.args[i].is_list()) {
    for (const auto& a : cmd.args[i].list) {
      auto n = upper(a.value);
      if (n == "SUBSCRIBED")
        o.subscribed_only = o.ret_subscribed = true;
      else if (n == "SPECIAL-USE")
        o.special_use_only = true;
      else if (n == "RECURSIVEMATCH")
        o.recursive = true;
      else if (n != "REMOTE")
        return false;
    }
    ++i;
  }
  // RECURSIVEMATCH only qualifies another selection option (RFC 5258 3.1).
  return !o.recursive || o.subscribed_only || o.special_use_only;
}

bool parse_return(const Command& cmd, std::size_t i, ListOptions& o) {
  if (i == cmd.args.size()) return true;
  if (i + 2 != cmd.args.size() || !iequals(cmd.args[i].value, "RETURN") ||
      !cmd.args[i + 1].is_list())
    return false;
  const auto& l = cmd.args[i + 1].list;
  for (std::size_t k = 0; k < l.size(); ++k) {
    auto n = upper(l[k].value);
    if (n == "SUBSCRIBED")
      o.ret_subscribed = true;
    else if (n == "STATUS" && k + 1 < l.size() && l[k + 1].is_list()) {
      for (const auto& it : l[++k].list) o.status_items.push_back(upper(it.value));
    } else if (n != "CHILDREN" && n != "SPECIAL-USE")
      return false;
  }
  return true;
}

}  // namespace

awaitable<Reply> status_response(Session::Impl& s, const store::Mailbox& m,
                                 const std::vector<std::string>& items);

static awaitable<Reply> list_common(Session::Impl& s, const Command& cmd, ListOptions o) {
  std::size_t i = 0;
  if (!o.lsub && !parse_options(cmd, i, o)) co_return bad("Bad LIST selection options");
  if (i + 2 > cmd.args.size()) co_return bad("LIST needs a reference and a pattern");
  const Arg& ref_arg = cmd.args[i];
  const Arg& pat_arg = cmd.args[i + 1];
  if (!o.lsub && !parse_return(cmd, i + 2, o)) co_return bad("Bad LIST return options");
  if (o.lsub && i + 2 != cmd.args.size()) co_return bad("LSUB takes a reference and a pattern");
  std::vector<const Arg*> patterns;
  if (pat_arg.is_list())
    for (const auto& p : pat_arg.list) patterns.push_back(&p);
  else
    patterns.push_back(&pat_arg);
  Arg ref_copy = ref_arg;
  std::string ref = ref_arg.value.empty() ? "" : s.mailbox_name(ref_copy).value_or(ref_arg.value);
  const char* kind = o.lsub ? "LSUB" : "LIST";
  if (patterns.size() == 1 && patterns[0]->value.empty()) {
    s.untagged(std::string(kind) + " (\\Noselect) \"/\" \"\"");
    co_return ok(std::string(kind) + " completed");
  }
  auto boxes = co_await s.store().list_mailboxes(s.account);
  if (!boxes) co_return store_error_reply(boxes.error(), "LIST");
  std::sort(boxes->begin(), boxes->end(), [](const auto& a, const auto& b) {
    return (a.name != "INBOX") < (b.name != "INBOX") ||
           ((a.name != "INBOX") == (b.name != "INBOX") && a.name < b.name);
  });
  auto hit = [&](const std::string& name) {
    for (const Arg* p : patterns) {
      Arg pc = *p;
      std::string pat = ref;
      if (!pat.empty() && pat.back() != '/' && !p->value.empty()) pat += '/';
      pat += s.mailbox_name(pc).value_or(p->value);
      if (iequals(pat.substr(0, 5), "INBOX") && name == "INBOX") pat.replace(0, 5, "INBOX");
      if (matches(pat, name)) return true;
    }
    return false;
  };
  for (const auto& m : *boxes) {
    if (!hit(m.name)) continue;
    // SUBSCRIBED RECURSIVEMATCH: a mailbox with a subscribed descendant that the patterns do not
    // match is listed too, with CHILDINFO (RFC 5258 3.5).
    bool subscribed_below = o.recursive && o.subscribed_only &&
                            std::any_of(boxes->begin(), boxes->end(), [&](const auto& d) {
                              return d.subscribed && d.name.size() > m.name.size() + 1 &&
                                     d.name.compare(0, m.name.size() + 1, m.name + "/") == 0 &&
                                     !hit(d.name);
                            });
    if ((o.subscribed_only || o.lsub) && !m.subscribed && !subscribed_below) continue;
    const char* use = special_use_attr(m.special_use);
    if (o.special_use_only && !use) continue;
    bool children = std::any_of(boxes->begin(), boxes->end(),
                                [&](const auto& c) { return c.parent_id && *c.parent_id == m.id; });
    std::string attrs;
    auto add = [&](const char* a) { attrs += (attrs.empty() ? "" : " ") + std::string(a); };
    if (!o.lsub) {
      add(children ? "\\HasChildren" : "\\HasNoChildren");
      if (use) add(use);
      if (o.ret_subscribed && m.subscribed) add("\\Subscribed");
    }
    s.untagged(std::string(kind) + " (" + attrs + ") \"/\" " + s.wire_name(m.name) +
               (subscribed_below ? " (\"CHILDINFO\" (\"SUBSCRIBED\"))" : ""));
    if (!o.status_items.empty()) {
      auto r = co_await status_response(s, m, o.status_items);
      if (r.status != "OK") co_return r;
    }
  }
  co_return ok(std::string(kind) + " completed");
}

GOVMAIL_IMAP_HANDLER(cmd_list) {
  ListOptions o;
  co_return co_await list_common(s, cmd, o);
}

GOVMAIL_IMAP_HANDLER(cmd_lsub) {
  ListOptions o;
  o.lsub = true;
  co_return co_await list_common(s, cmd, o);
}

}  // namespace govmail::imap
