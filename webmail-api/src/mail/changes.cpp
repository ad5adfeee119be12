#include "mail/changes.hpp"

#include <set>

#include "store/database.hpp"
#include "store/mail_store.hpp"
#include "store/mailbox_store.hpp"

namespace govmail::webmail::mail {
namespace {
// Change records read per /changes call at most; more answer hasMoreChanges.
constexpr std::size_t kMaxRecords = 20000;
}  // namespace

awaitable<ChangeWindow> read_changes(const Json& args, RequestContext& ctx,
                                     std::function<std::int64_t(const store::ChangeRecord&)> key) {
  check_account(args, ctx);
  auto since_it = args.find("sinceState");
  if (since_it == args.end()) throw MethodError{"invalidArguments", "sinceState is required"};
  std::size_t max_changes = SIZE_MAX;
  if (auto m = uint_arg(args, "maxChanges")) {
    if (*m == 0) throw MethodError{"invalidArguments", "maxChanges must be a positive integer"};
    max_changes = *m;
  }
  const auto since = parse_state(*since_it);
  const auto now = ok_or_throw(co_await ctx.db->mail().state(ctx.account_id));
  if (!since || *since > now)
    throw MethodError{"cannotCalculateChanges", "Unknown state: resynchronise"};
  ChangeWindow w;
  w.since = *since;
  auto read =
      co_await ctx.db->mailboxes().account_changes_since(ctx.account_id, *since, kMaxRecords);
  if (!read && read.error() == store::StoreError::conflict)
    throw MethodError{"cannotCalculateChanges",
                      "Changes this old are no longer kept: resynchronise"};
  auto records = ok_or_throw(std::move(read));
  const bool more_records = records.size() >= kMaxRecords;
  std::set<std::int64_t> ids;
  std::size_t i = 0;
  store::ModSeq last = *since;
  while (i < records.size()) {
    std::size_t j = i;
    std::set<std::int64_t> group = ids;
    while (j < records.size() && records[j].modseq == records[i].modseq) {
      if (auto k = key(records[j])) group.insert(k);
      ++j;
    }
    if (group.size() > max_changes && i > 0) {
      w.has_more = true;
      break;
    }
    ids = std::move(group);
    last = records[i].modseq;
    w.records.insert(w.records.end(), records.begin() + static_cast<std::ptrdiff_t>(i),
                     records.begin() + static_cast<std::ptrdiff_t>(j));
    i = j;
  }
  if (!w.has_more && more_records) w.has_more = true;
  w.new_state = state_string(w.has_more ? last : now);
  co_return w;
}

awaitable<Json> query_changes(const Json& args, RequestContext& ctx, char prefix,
                              std::function<std::int64_t(const store::ChangeRecord&)> key,
                              std::function<awaitable<std::vector<std::int64_t>>()> results) {
  auto since = args.find("sinceQueryState");
  if (since == args.end() || !since->is_string())
    throw MethodError{"invalidArguments", "sinceQueryState is required"};
  std::optional<std::size_t> max_changes;
  if (auto m = uint_arg(args, "maxChanges")) {
    if (*m == 0) throw MethodError{"invalidArguments", "maxChanges must be a positive integer"};
    max_changes = *m;
  }
  std::optional<std::int64_t> up_to;
  if (auto u = args.find("upToId"); u != args.end() && !u->is_null()) {
    if (!u->is_string()) throw MethodError{"invalidArguments", "upToId must be an id"};
    up_to = parse_id(prefix, u->get<std::string>());
  }
  const Json window_args = {{"accountId", ctx.account_id_string}, {"sinceState", *since}};
  auto w = co_await read_changes(window_args, ctx, key);
  if (w.has_more) throw MethodError{"cannotCalculateChanges", "Too many changes: query again"};
  std::set<std::int64_t> changed;
  for (const auto& r : w.records)
    if (auto k = key(r)) changed.insert(k);
  const auto ids = co_await results();
  Json added = Json::array();
  for (std::size_t i = 0; i < ids.size() && !changed.empty(); ++i) {
    if (changed.count(ids[i])) added.push_back({{"id", id_string(prefix, ids[i])}, {"index", i}});
    if (up_to && ids[i] == *up_to) break;
  }
  Json removed = Json::array();
  for (auto id : changed) removed.push_back(id_string(prefix, id));
  if (max_changes && removed.size() + added.size() > *max_changes)
    throw MethodError{"tooManyChanges", "More changes than maxChanges"};
  Json out{{"accountId", ctx.account_id_string},
           {"oldQueryState", since->get<std::string>()},
           {"newQueryState", w.new_state},
           {"removed", removed},
           {"added", added}};
  if (args.value("calculateTotal", false)) out["total"] = ids.size();
  co_return out;
}

std::int64_t email_change_key(const store::ChangeRecord& r) {
  using K = store::ChangeRecord::Kind;
  return (r.kind == K::message_added || r.kind == K::message_flags || r.kind == K::message_expunged)
             ? r.message_id
             : 0;
}

Json changes_response(const RequestContext& ctx, const ChangeWindow& w, const Json& created,
                      const Json& updated, const Json& destroyed) {
  return Json{{"accountId", ctx.account_id_string},
              {"oldState", state_string(w.since)},
              {"newState", w.new_state},
              {"hasMoreChanges", w.has_more},
              {"created", created},
              {"updated", updated},
              {"destroyed", destroyed}};
}

}  // namespace govmail::webmail::mail
