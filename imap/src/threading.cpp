// RFC 5256 section 4, step by step. Containers live in a deque (stable addresses); a dummy is a
// container without a message. No recursion: a thread can be as deep as the mailbox is large
// (senders choose the References), and the io thread's stack must not be the limit.
#include "threading.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "sort_keys.hpp"

namespace govmail::imap {
namespace {

struct Container {
  const ThreadMessage* msg = nullptr;  // null: dummy
  Container* parent = nullptr;
  std::vector<Container*> children;
  bool dummy() const { return msg == nullptr; }
};

// The message a container sorts and groups by: its own, or a dummy's first child's.
const ThreadMessage* first_message(const Container* c) {
  while (c->dummy() && !c->children.empty()) c = c->children.front();
  return c->msg;
}

// Sent date, then mailbox order (RFC 5256 2.2).
bool earlier(const Container* a, const Container* b) {
  auto* x = first_message(a);
  auto* y = first_message(b);
  if (!x || !y) return x != nullptr;
  return std::pair(x->date, x->number) < std::pair(y->date, y->number);
}

void sort_siblings(std::vector<Container*>& v) {
  std::stable_sort(v.begin(), v.end(), earlier);
}

// Every container under `roots`, each after all of its descendants.
std::vector<Container*> children_first(const std::vector<Container*>& roots) {
  std::vector<Container*> out, todo(roots.begin(), roots.end());
  while (!todo.empty()) {
    auto* c = todo.back();
    todo.pop_back();
    out.push_back(c);
    todo.insert(todo.end(), c->children.begin(), c->children.end());
  }
  std::reverse(out.begin(), out.end());
  return out;
}

// Grandchildren before children, so that a dummy's first child is known when it is sorted.
void sort_tree(std::vector<Container*>& roots) {
  for (auto* c : children_first(roots)) sort_siblings(c->children);
  sort_siblings(roots);
}

// "3 6 (4 23)(44 7 96)" (RFC 5256 4): a single child follows after a space, several children
// are each parenthesised.
void append_chain(std::string& out, const Container* top) {
  std::vector<std::variant<const Container*, const char*>> todo{top};
  while (!todo.empty()) {
    auto next = todo.back();
    todo.pop_back();
    if (auto* text = std::get_if<const char*>(&next)) {
      out += *text;
      continue;
    }
    const Container* n = std::get<const Container*>(next);
    out += std::to_string(n->msg->number);
    if (n->children.empty()) continue;
    out += ' ';
    if (n->children.size() == 1) {
      todo.push_back(n->children.front());
      continue;
    }
    for (auto it = n->children.rbegin(); it != n->children.rend(); ++it) {
      todo.push_back(")");
      todo.push_back(*it);
      todo.push_back("(");
    }
  }
}

std::string render(const std::vector<Container*>& roots) {
  std::string out;
  for (const auto* r : roots) {
    out += "(";
    if (!r->dummy()) {
      append_chain(out, r);
    } else {
      for (const auto* c : r->children) {
        out += "(";
        append_chain(out, c);
        out += ")";
      }
    }
    out += ")";
  }
  return out;
}

class ReferencesThreader {
 public:
  std::string run(const std::vector<ThreadMessage>& messages) {
    for (const auto& m : messages) link(m);  // step 1
    std::vector<Container*> roots;           // step 2
    for (auto& c : containers_)
      if (!c.parent) roots.push_back(&c);
    for (auto* c : children_first(roots)) c->children = prune(c->children, false);  // step 3
    roots = prune(roots, true);
    for (auto* r : roots) sort_siblings(r->children);
    sort_siblings(roots);  // step 4
    roots = group_by_subject(roots);
    sort_tree(roots);  // step 6
    return render(roots);
  }

 private:
  Container& make() { return containers_.emplace_back(); }

  Container& by_id(const std::string& id) {
    auto [it, added] = ids_.try_emplace(id, nullptr);
    if (added) it->second = &make();
    return *it->second;
  }

  // True when making p the parent of c would make a loop: p is c or one of its descendants.
  static bool loops(const Container* p, const Container* c) {
    if (c->children.empty()) return p == c;  // the common case, in constant time
    for (; p; p = p->parent)
      if (p == c) return true;
    return false;
  }

  static void unlink(Container& c) {
    if (!c.parent) return;
    auto& v = c.parent->children;
    v.erase(std::find(v.begin(), v.end(), &c));
    c.parent = nullptr;
  }

  static void adopt(Container& p, Container& c) {
    c.parent = &p;
    p.children.push_back(&c);
  }

  void link(const ThreadMessage& m) {
    // A missing or duplicate Message-ID gets a unique one: a container outside the id table.
    Container* self = nullptr;
    if (!m.message_id.empty()) {
      auto& c = by_id(m.message_id);
      if (!c.msg) self = &c;
    }
    if (!self) self = &make();
    self->msg = &m;
    // 1.A: each reference the parent of the next, keeping links already made, never a loop.
    Container* prev = nullptr;
    for (const auto& id : m.references) {
      auto& c = by_id(id);
      if (prev && !c.parent && !loops(prev, &c)) adopt(*prev, c);
      prev = &c;
    }
    // 1.B: the last reference is the parent (none without references). A parent that 1.A gave
    // the message is broken first, and stays broken when the new link would make a loop: the
    // message then heads a thread of its own (RFC 5256 4, step 1.B).
    if (prev && prev == self->parent) return;
    unlink(*self);
    if (prev && !loops(prev, self)) adopt(*prev, *self);
  }

  // Step 3 on one level, whose children are pruned already: dummies without children go; a
  // dummy's children take its place, except that more than one child never replaces a dummy at
  // the top level.
  static std::vector<Container*> prune(const std::vector<Container*>& level, bool top) {
    std::vector<Container*> out;
    for (auto* c : level) {
      if (!c->dummy() || (top && c->children.size() > 1)) {
        out.push_back(c);
        continue;
      }
      for (auto* k : c->children) {
        k->parent = c->parent;
        out.push_back(k);
      }
      c->children.clear();
    }
    return out;
  }

  static BaseSubject subject_of(const Container* c) {
    auto* m = first_message(c);
    return m ? extract_base_subject(m->subject) : BaseSubject{};
  }

  // Step 5: threads whose roots have the same base subject are gathered.
  std::vector<Container*> group_by_subject(std::vector<Container*> roots) {
    std::map<std::string, Container*> table;
    for (auto* c : roots) {  // 5.B
      auto subj = subject_of(c);
      if (subj.text.empty()) continue;
      auto [it, added] = table.try_emplace(subj.text, c);
      if (added || it->second->dummy()) continue;
      if (c->dummy() || (subject_of(it->second).reply && !subj.reply)) it->second = c;
    }
    std::vector<Container*> snapshot = roots;
    std::unordered_set<Container*> gone;
    for (auto* c : snapshot) {                   // 5.C
      if (c->parent || gone.count(c)) continue;  // already merged into another thread
      auto subj = subject_of(c);
      if (subj.text.empty()) continue;
      Container*& t = table[subj.text];
      if (t == c) continue;
      // After 5.B a dummy holds the table entry of its subject, so c is a dummy only if t is.
      if (t->dummy() && c->dummy()) {
        for (auto* k : c->children) adopt(*t, *k);
        c->children.clear();
      } else if (t->dummy()) {
        adopt(*t, *c);
      } else if (subj.reply && !subject_of(t).reply) {
        adopt(*t, *c);
      } else {
        auto& d = make();
        std::replace(roots.begin(), roots.end(), t, &d);
        adopt(d, *t);
        adopt(d, *c);
        t = &d;
      }
      gone.insert(c);
    }
    std::erase_if(roots, [&](Container* c) { return gone.count(c) != 0; });
    return roots;
  }

  std::deque<Container> containers_;
  std::unordered_map<std::string, Container*> ids_;
};

}  // namespace

std::string thread_references(const std::vector<ThreadMessage>& messages) {
  return ReferencesThreader().run(messages);
}

std::string thread_orderedsubject(const std::vector<ThreadMessage>& messages) {
  // Sorted by base subject then sent date; each subject one thread under its first message;
  // threads in the order of their first message's sent date.
  std::deque<Container> nodes;
  std::map<std::string, std::vector<Container*>> groups;
  for (const auto& m : messages) {
    auto& c = nodes.emplace_back();
    c.msg = &m;
    groups[extract_base_subject(m.subject).text].push_back(&c);
  }
  std::vector<Container*> roots;
  for (auto& [subject, members] : groups) {
    sort_siblings(members);
    for (std::size_t i = 1; i < members.size(); ++i) members[0]->children.push_back(members[i]);
    roots.push_back(members[0]);
  }
  sort_siblings(roots);
  return render(roots);
}

std::vector<std::string> message_ids(std::string_view v) {
  // Normalised (RFC 5256 4): <"a.b"@x> and <a.b@x> are one id, so quotes and the backslash of a
  // quoted-pair go, and folding white space outside quotes.
  std::vector<std::string> out;
  for (std::size_t i = v.find('<'); i != std::string_view::npos; i = v.find('<', i)) {
    std::string id;
    bool quoted = false, closed = false;
    for (++i; i < v.size(); ++i) {
      char c = v[i];
      if (quoted && c == '\\' && i + 1 < v.size()) {
        id += v[++i];
      } else if (c == '"') {
        quoted = !quoted;
      } else if (!quoted && c == '>') {
        closed = true;
        ++i;
        break;
      } else if (quoted || (c != ' ' && c != '\t' && c != '\r' && c != '\n')) {
        id += c;
      }
    }
    if (!closed) break;
    if (!id.empty()) out.push_back(std::move(id));
  }
  return out;
}

}  // namespace govmail::imap
