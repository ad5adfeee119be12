// THREAD and UID THREAD (RFC 5256): ORDEREDSUBJECT and REFERENCES (imap/src/threading.cpp) over
// the messages the search keys select. REFERENCES reads each message's header for its
// References field (not kept in the cached envelope).
#include "render.hpp"
#include "session_impl.hpp"
#include "sort_keys.hpp"
#include "threading.hpp"

namespace govmail::imap {
namespace {

std::string raw_id(const nlohmann::json& env, const char* key) {
  auto v = env.value(key, nlohmann::json::object());
  return v.is_object() && v.value("raw", nlohmann::json()).is_string() ? v["raw"].get<std::string>()
                                                                       : std::string();
}

std::string first_id(const std::string& header_value) {
  auto ids = message_ids(header_value);
  return ids.empty() ? std::string() : ids.front();
}

// References ids, else the first In-Reply-To id (RFC 5256 4, REFERENCES step 1).
awaitable<std::vector<std::string>> references_of(Session::Impl& s, const store::MessageMeta& m,
                                                  const nlohmann::json& env) {
  auto body = parse_object(m.bodystructure_json).value("body_offset", std::uint64_t{0});
  auto header = co_await s.store().fetch_raw(s.account, m.entry.message_id, 0, body);
  std::vector<std::string> refs;
  if (header) refs = message_ids(filter_header(*header, {"REFERENCES"}, false));
  // The last ones: the parent is the last reference (the store keeps 1,000 as well).
  constexpr std::size_t kMaxReferences = 1000;
  if (refs.size() > kMaxReferences) refs.erase(refs.begin(), refs.end() - kMaxReferences);
  if (refs.empty())
    if (auto id = first_id(raw_id(env, "in_reply_to")); !id.empty()) refs.push_back(id);
  co_return refs;
}

}  // namespace

GOVMAIL_IMAP_HANDLER(cmd_thread) {
  if (cmd.args.size() < 3) co_return bad("THREAD needs an algorithm, a charset and search keys");
  auto algorithm = upper(cmd.args[0].value);
  if (algorithm != "ORDEREDSUBJECT" && algorithm != "REFERENCES")
    co_return bad("Unknown threading algorithm");
  std::vector<SearchHit> hits;
  auto r = co_await run_charset_search(s, cmd, hits);
  if (r.status != "OK") co_return r;

  std::vector<ThreadMessage> msgs(hits.size());
  for (std::size_t i = 0; i < hits.size(); ++i) {
    const auto& m = hits[i].meta;
    auto env = parse_object(m.envelope_json);
    msgs[i].number = cmd.uid ? m.entry.uid : hits[i].seq;
    msgs[i].date = sent_date(env, m.entry);
    msgs[i].subject = decoded_subject(env);
    if (algorithm == "REFERENCES") {
      msgs[i].message_id = first_id(raw_id(env, "message_id"));
      msgs[i].references = co_await references_of(s, m, env);
    }
  }
  auto threads = algorithm == "REFERENCES" ? thread_references(msgs) : thread_orderedsubject(msgs);
  s.untagged(threads.empty() ? "THREAD" : "THREAD " + threads);
  co_return ok("THREAD completed");
}

}  // namespace govmail::imap
