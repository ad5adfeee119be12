// THREAD and UID THREAD (RFC 5256): ORDEREDSUBJECT, and REFERENCES built from the store's
// per-account threads (joined at delivery by In-Reply-To/References) with each message under
// the one its In-Reply-To names.
#include <map>

#include "render.hpp"
#include "session_impl.hpp"
#include "sort_keys.hpp"

namespace govmail::imap {
namespace {

struct Node {
  std::uint32_t number = 0;  // sequence number or UID; 0 for a dummy root
  std::int64_t date = 0;
  std::vector<Node*> children;
};

std::string chain(const Node& n) {
  std::string s = std::to_string(n.number);
  if (n.children.size() == 1) return s + " " + chain(*n.children[0]);
  if (!n.children.empty()) s += ' ';  // "3 6 (4 23)(44 7 96)" (RFC 5256 4)
  for (const auto* c : n.children) s += "(" + chain(*c) + ")";
  return s;
}

std::string render(const Node& root) {
  if (root.number) return "(" + chain(root) + ")";
  std::string s = "(";
  for (const auto* c : root.children) s += "(" + chain(*c) + ")";
  return s + ")";
}

std::string msg_id(const nlohmann::json& env, const char* key) {
  auto v = env.value(key, nlohmann::json::object());
  return v.is_object() && v.value("raw", nlohmann::json()).is_string() ? v["raw"].get<std::string>()
                                                                       : std::string();
}

void by_date(std::vector<Node*>& v) {
  std::stable_sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->date < b->date; });
}

}  // namespace

GOVMAIL_IMAP_HANDLER(cmd_thread) {
  if (cmd.args.size() < 3) co_return bad("THREAD needs an algorithm, a charset and search keys");
  auto algorithm = upper(cmd.args[0].value);
  if (algorithm != "ORDEREDSUBJECT" && algorithm != "REFERENCES")
    co_return bad("Unknown threading algorithm");
  if (!supported_charset(upper(cmd.args[1].value)))
    co_return no("[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
  auto prog = parse_search(cmd.args, 2);
  if (!prog) co_return bad(prog.error());
  std::vector<SearchHit> hits;
  auto r = co_await run_search(s, prog->key, true, hits);
  if (r.status != "OK") co_return r;

  std::vector<Node> nodes(hits.size());
  std::vector<nlohmann::json> envs;
  for (std::size_t i = 0; i < hits.size(); ++i) {
    envs.push_back(parse_object(hits[i].meta.envelope_json));
    nodes[i].number = cmd.uid ? hits[i].meta.entry.uid : hits[i].seq;
    nodes[i].date = sent_date(envs[i], hits[i].meta.entry);
  }
  std::map<std::string, std::vector<Node*>> groups;  // by base subject or thread id
  for (std::size_t i = 0; i < hits.size(); ++i) {
    auto key = algorithm == "ORDEREDSUBJECT" ? base_subject(envs[i])
                                             : std::to_string(hits[i].meta.entry.thread_id);
    groups[key].push_back(&nodes[i]);
  }
  std::vector<Node> dummies(groups.size());
  std::vector<Node*> roots;
  std::size_t d = 0;
  for (auto& [key, members] : groups) {
    by_date(members);
    std::vector<Node*> tops;
    if (algorithm == "ORDEREDSUBJECT") {
      tops.push_back(members[0]);
      for (std::size_t i = 1; i < members.size(); ++i) members[0]->children.push_back(members[i]);
    } else {
      std::map<std::string, Node*> by_id;
      for (auto* n : members) by_id[msg_id(envs[n - nodes.data()], "message_id")] = n;
      for (auto* n : members) {
        auto parent = by_id.find(msg_id(envs[n - nodes.data()], "in_reply_to"));
        // Only under an earlier message: a loop of In-Reply-To headers cannot hide messages.
        auto earlier = [&](Node* p) { return std::pair(p->date, p) < std::pair(n->date, n); };
        if (parent != by_id.end() && !parent->first.empty() && earlier(parent->second))
          parent->second->children.push_back(n);
        else
          tops.push_back(n);
      }
    }
    if (tops.size() == 1) {
      roots.push_back(tops[0]);
      continue;
    }
    Node& dummy = dummies[d++];
    dummy.children = tops;
    dummy.date = tops[0]->date;
    roots.push_back(&dummy);
  }
  by_date(roots);
  std::string out = "THREAD ";
  for (const auto* root : roots) out += render(*root);
  s.untagged(out);
  co_return ok("THREAD completed");
}

}  // namespace govmail::imap
