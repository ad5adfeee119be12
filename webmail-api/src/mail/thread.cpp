// Thread/get and Thread/changes (RFC 8621 3). A thread is the store's per-account thread_id
// (the id of the message that started it); its emailIds are oldest first.
#include <map>
#include <set>

#include "mail/changes.hpp"
#include "mail/common.hpp"
#include "mail/email.hpp"
#include "mail/register.hpp"
#include "store/database.hpp"
#include "store/mail_store.hpp"

namespace govmail::webmail::mail {
namespace {

awaitable<Json> thread_get(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  auto ids = ids_argument(args);
  if (!ids) throw MethodError{"requestTooLarge", "Thread/get needs ids"};
  if (ids->size() > max_objects_in_get(ctx)) throw MethodError{"requestTooLarge", "Too many ids"};
  const std::string state = co_await state_for_read(ctx);
  std::vector<std::int64_t> wanted;
  for (const auto& raw : *ids)
    if (auto id = parse_id('T', raw)) wanted.push_back(*id);
  auto rows = ok_or_throw(co_await ctx.db->mail().thread_emails(ctx.account_id, wanted));
  std::map<std::int64_t, Json> threads;
  for (const auto& r : rows) threads[r.thread_id].push_back(id_string('E', r.id));
  Json list = Json::array(), not_found = Json::array();
  for (const auto& raw : *ids) {
    auto id = parse_id('T', raw);
    auto it = id ? threads.find(*id) : threads.end();
    if (it == threads.end())
      not_found.push_back(raw);
    else
      list.push_back({{"id", raw}, {"emailIds", it->second}});
  }
  co_return Json{{"accountId", ctx.account_id_string},
                 {"state", state},
                 {"list", list},
                 {"notFound", not_found}};
}

std::int64_t message_key(const store::ChangeRecord& r) {
  using K = store::ChangeRecord::Kind;
  return (r.kind == K::message_added || r.kind == K::message_expunged) ? r.message_id : 0;
}

// Threads whose email list changed: those of added or expunged messages. An expunged message
// that started its thread names it (thread id = its id); one that did not, and is gone from the
// account, cannot name its thread any more (the change log keeps no thread): that thread is
// reported when another of its messages changes.
awaitable<Json> thread_changes(const Json& args, RequestContext& ctx) {
  auto w = co_await read_changes(args, ctx, message_key);
  std::set<store::MessageId> touched, added;
  for (const auto& r : w.records)
    if (message_key(r)) {
      touched.insert(r.message_id);
      if (r.kind == store::ChangeRecord::Kind::message_added) added.insert(r.message_id);
    }
  std::vector<store::MessageId> ids(touched.begin(), touched.end());
  auto of = ok_or_throw(co_await ctx.db->mail().threads_of(ctx.account_id, ids));
  std::set<std::int64_t> threads;
  for (const auto& r : of) threads.insert(r.thread_id);
  for (auto id : touched) threads.insert(id);  // a message that started a thread names it
  std::vector<std::int64_t> tv(threads.begin(), threads.end());
  auto alive_rows = ok_or_throw(co_await ctx.db->mail().thread_emails(ctx.account_id, tv));
  std::set<std::int64_t> alive;
  for (const auto& r : alive_rows) alive.insert(r.thread_id);
  std::vector<store::MessageId> added_v(added.begin(), added.end());
  auto before = ok_or_throw(co_await ctx.db->mail().added_before(ctx.account_id, w.since, added_v));
  std::set<store::MessageId> existed(before.begin(), before.end());
  Json c = Json::array(), u = Json::array(), d = Json::array();
  for (auto t : threads) {
    const bool is_new = added.count(t) && !existed.count(t);  // its first message is new
    if (alive.count(t))
      (is_new ? c : u).push_back(id_string('T', t));
    else if (!is_new && touched.count(t))
      d.push_back(id_string('T', t));
  }
  co_return changes_response(ctx, w, c, u, d);
}

}  // namespace

void register_thread_methods(jmap::MethodRegistry& r) {
  const std::string cap(jmap::kMailCapability);
  r.add("Thread/get", cap, guarded(thread_get));
  r.add("Thread/changes", cap, guarded(thread_changes));
}

}  // namespace govmail::webmail::mail
