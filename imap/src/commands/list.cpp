// LIST with LIST-EXTENDED (RFC 5258: selection SUBSCRIBED, RECURSIVEMATCH, SPECIAL-USE; return
// CHILDREN, SUBSCRIBED, SPECIAL-USE), SPECIAL-USE (RFC 6154), CHILDREN, LIST-STATUS
// (RFC 5819), and LSUB. Patterns are matched on UTF-8 names ('*' any, '%' not '/').
#include <algorithm>
#include <map>
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
  bool ret_subscribed = false, ret_special_use = true;
  // \HasChildren/\HasNoChildren: always for a plain LIST, on RETURN (CHILDREN) for an extended
  // one (RFC 5258 4 lets a server send them anyway; without them its examples hold literally).
  bool ret_children = true, children_asked = false;
  bool extended = false;  // selection options, RETURN options or several patterns
  std::vector<std::string> status_items;
  bool lsub = false;
};

bool parse_options(const Command& cmd, std::size_t& i, ListOptions& o) {
  if (i < cmd.args.size() && cmd.args[i].is_list()) {
    o.extended = true;
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
  o.extended = true;
  const auto& l = cmd.args[i + 1].list;
  for (std::size_t k = 0; k < l.size(); ++k) {
    auto n = upper(l[k].value);
    if (n == "SUBSCRIBED")
      o.ret_subscribed = true;
    else if (n == "CHILDREN")
      o.children_asked = true;
    else if (n == "STATUS" && k + 1 < l.size() && l[k + 1].is_list()) {
      for (const auto& it : l[++k].list) o.status_items.push_back(upper(it.value));
    } else if (n != "SPECIAL-USE")
      return false;
  }
  return true;
}

// What LIST knows of a name: its mailbox, if it exists, and whether it is subscribed.
struct NameInfo {
  const store::Mailbox* box = nullptr;  // null: no such mailbox (\NonExistent)
  bool subscribed = false;
  bool matched = false;  // by one of the patterns (matched once: descendants are looked at again)
};
using Names = std::map<std::string, NameInfo>;

// The names strictly below `name`: a contiguous range of the sorted map ('0' follows '/').
std::pair<Names::const_iterator, Names::const_iterator> below(const Names& names,
                                                              const std::string& name) {
  return {names.lower_bound(name + "/"), names.lower_bound(name + "0")};
}

// The names LIST may show: the mailboxes, the subscribed names when the subscription list is
// what is listed (they may not exist), and their parents when a parent can stand for a child
// (RECURSIVEMATCH, LSUB's '%').
Names names_to_list(const std::vector<store::Mailbox>& boxes, const std::vector<std::string>& subs,
                    const ListOptions& o) {
  const bool by_subscription = o.subscribed_only || o.lsub;
  Names names;
  for (const auto& m : boxes) names[m.name].box = &m;
  for (const auto& n : subs) {
    if (!by_subscription && !names.count(n)) continue;
    names[n].subscribed = true;
    if (!o.lsub && !o.recursive) continue;
    for (auto slash = n.rfind('/'); slash != std::string::npos && slash > 0;
         slash = n.rfind('/', slash - 1))
      names.try_emplace(n.substr(0, slash));
  }
  return names;
}

// The attributes of a listed name; `meets`: it meets the selection criteria itself.
std::string attributes(const Names& names, Names::const_iterator it, bool meets,
                       const ListOptions& o) {
  const auto& [name, info] = *it;
  std::string attrs;
  auto add = [&](const char* a) { attrs += (attrs.empty() ? "" : " ") + std::string(a); };
  if (o.lsub) {
    if (!meets) add("\\Noselect");  // not subscribed, a subscribed child is (RFC 3501 6.3.9)
    return attrs;
  }
  // \Subscribed first, as Dovecot writes them (imaptest's listext checks the order).
  if (o.ret_subscribed && info.subscribed) add("\\Subscribed");
  if (!info.box) {
    add("\\NonExistent");
    return attrs;
  }
  if (o.ret_children) {
    auto [from, to] = below(names, name);
    bool children = std::any_of(from, to, [](const auto& d) { return d.second.box; });
    add(children ? "\\HasChildren" : "\\HasNoChildren");
  }
  if (const char* use = special_use_attr(info.box->special_use)) add(use);
  return attrs;
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
  if (pat_arg.is_list()) {
    o.extended = true;
    for (const auto& p : pat_arg.list) patterns.push_back(&p);
  } else {
    patterns.push_back(&pat_arg);
  }
  o.ret_children = !o.extended || o.children_asked;
  Arg ref_copy = ref_arg;
  std::string ref = ref_arg.value.empty() ? "" : s.mailbox_name(ref_copy).value_or(ref_arg.value);
  const char* kind = o.lsub ? "LSUB" : "LIST";
  if (patterns.size() == 1 && patterns[0]->value.empty()) {
    s.untagged(std::string(kind) + " (\\Noselect) \"/\" \"\"");
    co_return ok(std::string(kind) + " completed");
  }
  auto boxes = co_await s.store().list_mailboxes(s.account);
  if (!boxes) co_return store_error_reply(boxes.error(), "LIST");
  const bool by_subscription = o.subscribed_only || o.lsub;
  std::vector<std::string> subs;
  if (by_subscription || o.ret_subscribed) {
    auto r = co_await s.store().list_subscriptions(s.account);
    if (!r) co_return store_error_reply(r.error(), "LIST");
    subs = std::move(*r);
  }
  Names names = names_to_list(*boxes, subs, o);
  // The canonical patterns (RFC 5258 3), made once: names are matched many times each.
  std::vector<std::string> canonical;
  for (const Arg* p : patterns) {
    std::string pat = ref;
    if (!pat.empty() && pat.back() != '/' && !p->value.empty()) pat += '/';
    pat += s.mailbox_name(*p).value_or(p->value);
    canonical.push_back(std::move(pat));
  }
  auto hit = [&](const std::string& name) {
    for (const auto& pat : canonical) {
      if (name == "INBOX" && iequals(pat.substr(0, 5), "INBOX")) {  // INBOX in any case
        if (matches("INBOX" + pat.substr(5), name)) return true;
      } else if (matches(pat, name)) {
        return true;
      }
    }
    return false;
  };
  for (auto& [name, info] : names) info.matched = hit(name);
  // The selection criteria (RFC 5258 3.1): subscribed, special-use, or simply existing.
  auto selected = [&](const NameInfo& n) {
    if (by_subscription ? !n.subscribed : !n.box) return false;
    return !o.special_use_only || (n.box && special_use_attr(n.box->special_use));
  };
  std::vector<Names::const_iterator> order;
  if (auto inbox = names.find("INBOX"); inbox != names.end()) order.push_back(inbox);
  for (auto it = names.begin(); it != names.end(); ++it)
    if (it->first != "INBOX") order.push_back(it);
  for (auto it : order) {
    const auto& [name, info] = *it;
    if (!info.matched) continue;
    // RECURSIVEMATCH (and LSUB's '%'): a name that does not meet the criteria is listed for a
    // descendant that does, only when that descendant is not listed itself (RFC 5258 3.3, 3.5;
    // RFC 3501 6.3.9); one that meets them gets CHILDINFO for any such descendant (the table
    // of RFC 5258 3.5, its example 9 "eps2").
    bool meets = selected(info), below_meets = false, below_unlisted = false;
    if (o.recursive || o.lsub) {
      auto [from, to] = below(names, name);
      for (auto d = from; d != to && !below_unlisted; ++d) {
        if (!selected(d->second)) continue;
        below_meets = true;
        below_unlisted = !d->second.matched;
      }
    }
    if (!meets && !below_unlisted) continue;
    std::string childinfo;
    if (o.recursive && below_meets) {
      childinfo = o.subscribed_only ? "\"SUBSCRIBED\"" : "";
      if (o.special_use_only)
        childinfo += std::string(childinfo.empty() ? "" : " ") + "\"SPECIAL-USE\"";
      childinfo = " (\"CHILDINFO\" (" + childinfo + "))";
    }
    s.untagged(std::string(kind) + " (" + attributes(names, it, meets, o) + ") \"/\" " +
               s.wire_name(name) + childinfo);
    if (!o.status_items.empty() && info.box) {  // not for \NonExistent (RFC 5819)
      auto r = co_await status_response(s, *info.box, o.status_items);
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
