// Mailbox/get, /changes, /query, /queryChanges, /set (RFC 8621 2) over the IMAP mailboxes:
// names are the last component of the '/' path, roles come from SPECIAL-USE.
#include <algorithm>
#include <map>
#include <set>

#include "mail/changes.hpp"
#include "mail/common.hpp"
#include "mail/register.hpp"
#include "store/database.hpp"
#include "store/mail_store.hpp"
#include "store/mailbox_store.hpp"

namespace govmail::webmail::mail {
namespace {

const std::vector<std::string> kProperties = {
    "id",           "name",         "parentId",      "role",     "sortOrder",   "totalEmails",
    "unreadEmails", "totalThreads", "unreadThreads", "myRights", "isSubscribed"};

const char* role_of(const store::Mailbox& m) {
  if (m.name == "INBOX") return "inbox";
  switch (m.special_use) {
    case store::SpecialUse::sent:
      return "sent";
    case store::SpecialUse::drafts:
      return "drafts";
    case store::SpecialUse::trash:
      return "trash";
    case store::SpecialUse::junk:
      return "junk";
    case store::SpecialUse::archive:
      return "archive";
    case store::SpecialUse::none:
      break;
  }
  return nullptr;
}

std::optional<store::SpecialUse> use_of_role(const std::string& r) {
  static const std::map<std::string, store::SpecialUse> k = {
      {"sent", store::SpecialUse::sent},
      {"drafts", store::SpecialUse::drafts},
      {"trash", store::SpecialUse::trash},
      {"junk", store::SpecialUse::junk},
      {"archive", store::SpecialUse::archive}};
  auto it = k.find(r);
  if (it == k.end()) return std::nullopt;
  return it->second;
}

std::string leaf_name(const std::string& path) {
  auto p = path.rfind('/');
  return p == std::string::npos ? path : path.substr(p + 1);
}

struct MailboxView {
  std::vector<store::Mailbox> boxes;
  std::set<std::string> subscribed;
  std::map<store::MailboxId, store::ThreadCounts> threads;
  std::string state;
};

awaitable<MailboxView> load(RequestContext& ctx) {
  MailboxView v;
  v.state = co_await current_state(ctx);
  v.boxes = ok_or_throw(co_await ctx.db->mailboxes().list_mailboxes(ctx.account_id));
  for (auto& s : ok_or_throw(co_await ctx.db->mailboxes().list_subscriptions(ctx.account_id)))
    v.subscribed.insert(std::move(s));
  for (const auto& t : ok_or_throw(co_await ctx.db->mail().thread_counts(ctx.account_id)))
    v.threads[t.mailbox_id] = t;
  co_return v;
}

Json mailbox_json(const MailboxView& v, const store::Mailbox& m,
                  const std::vector<std::string>& props) {
  const bool inbox = m.name == "INBOX";
  auto t = v.threads.find(m.id);
  Json all{{"id", id_string('M', m.id)},
           {"name", leaf_name(m.name)},
           {"parentId", m.parent_id ? Json(id_string('M', *m.parent_id)) : Json()},
           {"role", role_of(m) ? Json(role_of(m)) : Json()},
           {"sortOrder", inbox ? 0 : 10},
           {"totalEmails", m.messages},
           {"unreadEmails", m.unseen},
           {"totalThreads", t == v.threads.end() ? 0u : t->second.total_threads},
           {"unreadThreads", t == v.threads.end() ? 0u : t->second.unread_threads},
           {"myRights",
            {{"mayReadItems", true},
             {"mayAddItems", true},
             {"mayRemoveItems", true},
             {"maySetSeen", true},
             {"maySetKeywords", true},
             {"mayCreateChild", true},
             {"mayRename", !inbox},
             {"mayDelete", !inbox},
             {"maySubmit", true}}},
           {"isSubscribed", v.subscribed.count(m.name) > 0}};
  Json out = Json::object();
  out["id"] = all["id"];
  for (const auto& p : props) out[p] = all[p];
  return out;
}

awaitable<Json> mailbox_get(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  auto props = properties_argument(args, kProperties, kProperties);
  auto ids = ids_argument(args);
  auto v = co_await load(ctx);
  Json list = Json::array(), not_found = Json::array();
  if (!ids) {
    for (const auto& m : v.boxes) list.push_back(mailbox_json(v, m, props));
  } else {
    for (const auto& raw : *ids) {
      const auto id = parse_id('M', resolve_creation(ctx, raw));
      auto it = std::find_if(v.boxes.begin(), v.boxes.end(),
                             [&](const store::Mailbox& m) { return id && m.id == *id; });
      if (it == v.boxes.end())
        not_found.push_back(raw);
      else
        list.push_back(mailbox_json(v, *it, props));
    }
  }
  co_return Json{{"accountId", ctx.account_id_string},
                 {"state", v.state},
                 {"list", list},
                 {"notFound", not_found}};
}

std::int64_t mailbox_key(const store::ChangeRecord& r) {
  return r.mailbox_id;
}

awaitable<Json> mailbox_changes(const Json& args, RequestContext& ctx) {
  auto w = co_await read_changes(args, ctx, mailbox_key);
  auto boxes = ok_or_throw(co_await ctx.db->mailboxes().list_mailboxes(ctx.account_id));
  std::set<store::MailboxId> exists;
  for (const auto& m : boxes) exists.insert(m.id);
  std::set<store::MailboxId> created, updated, destroyed;
  bool only_counts = true;
  for (const auto& r : w.records) {
    using K = store::ChangeRecord::Kind;
    if (r.kind == K::mailbox_created) {
      created.insert(r.mailbox_id);
    } else if (r.kind == K::mailbox_deleted) {
      destroyed.insert(r.mailbox_id);
    } else {
      if (r.kind == K::mailbox_renamed) only_counts = false;
      updated.insert(r.mailbox_id);
    }
  }
  Json c = Json::array(), u = Json::array(), d = Json::array();
  for (auto id : created)
    if (exists.count(id)) c.push_back(id_string('M', id));
  for (auto id : updated)
    if (exists.count(id) && !created.count(id)) u.push_back(id_string('M', id));
  for (auto id : destroyed)
    if (!exists.count(id) && !created.count(id)) d.push_back(id_string('M', id));
  Json out = changes_response(ctx, w, c, u, d);
  out["updatedProperties"] = only_counts && !u.empty() ? Json{"totalEmails", "unreadEmails",
                                                              "totalThreads", "unreadThreads"}
                                                       : Json();
  co_return out;
}

// --- query

bool matches(const MailboxView& v, const store::Mailbox& m, const Json& f) {
  if (f.contains("operator")) {
    const auto op = f.value("operator", "");
    const auto& conds = f.at("conditions");
    if (op == "AND")
      return std::all_of(conds.begin(), conds.end(),
                         [&](const Json& c) { return matches(v, m, c); });
    if (op == "OR")
      return std::any_of(conds.begin(), conds.end(),
                         [&](const Json& c) { return matches(v, m, c); });
    return std::none_of(conds.begin(), conds.end(),
                        [&](const Json& c) { return matches(v, m, c); });
  }
  for (const auto& [k, val] : f.items()) {
    if (k == "parentId") {
      const auto want =
          val.is_null() ? std::optional<std::int64_t>() : parse_id('M', val.get<std::string>());
      if (val.is_null() ? m.parent_id.has_value() : m.parent_id != want) return false;
    } else if (k == "name") {
      if (leaf_name(m.name).find(val.get<std::string>()) == std::string::npos) return false;
    } else if (k == "role") {
      const char* r = role_of(m);
      if (val.is_null() ? r != nullptr : (r == nullptr || val.get<std::string>() != r))
        return false;
    } else if (k == "hasAnyRole") {
      if ((role_of(m) != nullptr) != val.get<bool>()) return false;
    } else if (k == "isSubscribed") {
      if ((v.subscribed.count(m.name) > 0) != val.get<bool>()) return false;
    }
  }
  return true;
}

void check_filter(const Json& f) {
  static const std::set<std::string> kKnown = {"parentId", "name", "role", "hasAnyRole",
                                               "isSubscribed"};
  if (!f.is_object()) throw MethodError{"invalidArguments", "filter must be an object"};
  if (f.contains("operator")) {
    const auto op = f.at("operator");
    if (!op.is_string() || (op != "AND" && op != "OR" && op != "NOT") ||
        !f.contains("conditions") || !f.at("conditions").is_array())
      throw MethodError{"unsupportedFilter", "Bad filter operator"};
    for (const auto& c : f.at("conditions")) check_filter(c);
    return;
  }
  for (const auto& [k, val] : f.items()) {
    if (!kKnown.count(k))
      throw MethodError{"unsupportedFilter", "Unknown filter: " + k.substr(0, 60)};
    const bool ok = (k == "hasAnyRole" || k == "isSubscribed") ? val.is_boolean()
                    : (k == "name")                            ? val.is_string()
                                                               : (val.is_string() || val.is_null());
    if (!ok) throw MethodError{"invalidArguments", "Bad value for filter " + k};
  }
}

std::vector<std::string> query_ids(const Json& args, const MailboxView& v) {
  const Json filter = args.value("filter", Json());
  if (!filter.is_null()) check_filter(filter);
  std::vector<const store::Mailbox*> hits;
  for (const auto& m : v.boxes)
    if (filter.is_null() || matches(v, m, filter)) hits.push_back(&m);
  const Json sort = args.value("sort", Json());
  if (!sort.is_null()) {
    if (!sort.is_array()) throw MethodError{"invalidArguments", "sort must be an array"};
    std::vector<std::pair<std::string, bool>> keys;
    for (const auto& s : sort) {
      const auto p = s.value("property", "");
      if (p != "name" && p != "sortOrder")
        throw MethodError{"unsupportedSort", "Sort by " + p.substr(0, 60) + " is not supported"};
      keys.emplace_back(p, s.value("isAscending", true));
    }
    std::stable_sort(hits.begin(), hits.end(), [&](auto* a, auto* b) {
      for (const auto& [p, asc] : keys) {
        auto ka = p == "name" ? leaf_name(a->name) : std::string(a->name == "INBOX" ? "0" : "1");
        auto kb = p == "name" ? leaf_name(b->name) : std::string(b->name == "INBOX" ? "0" : "1");
        if (ka != kb) return asc ? ka < kb : ka > kb;
      }
      return false;
    });
  }
  std::vector<std::string> ids;
  for (auto* m : hits) ids.push_back(id_string('M', m->id));
  return ids;
}

// Mailboxes enter and leave a query's results, or move in it, only when created, renamed (also
// moved to another parent, role changed) or deleted; subscriptions are not in the change log.
std::int64_t mailbox_structure_key(const store::ChangeRecord& r) {
  using K = store::ChangeRecord::Kind;
  return (r.kind == K::mailbox_created || r.kind == K::mailbox_renamed ||
          r.kind == K::mailbox_deleted)
             ? r.mailbox_id
             : 0;
}

bool mailbox_changes_calculable(const Json& f) {
  if (f.is_null()) return true;
  if (f.contains("conditions"))
    return std::all_of(f["conditions"].begin(), f["conditions"].end(), mailbox_changes_calculable);
  return !f.contains("isSubscribed");
}

awaitable<Json> mailbox_query(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  auto v = co_await load(ctx);
  auto ids = query_ids(args, v);
  std::int64_t position = args.value("position", 0);
  if (position < 0)
    position = std::max<std::int64_t>(0, static_cast<std::int64_t>(ids.size()) + position);
  std::size_t limit = ids.size();
  if (auto l = uint_arg(args, "limit")) limit = *l;
  Json page = Json::array();
  for (std::size_t i = static_cast<std::size_t>(position); i < ids.size() && page.size() < limit;
       ++i)
    page.push_back(ids[i]);
  Json out{{"accountId", ctx.account_id_string},
           {"queryState", v.state},
           {"canCalculateChanges", mailbox_changes_calculable(args.value("filter", Json()))},
           {"position", position},
           {"ids", page}};
  if (args.value("calculateTotal", false)) out["total"] = ids.size();
  co_return out;
}

awaitable<Json> mailbox_query_changes(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  const Json filter = args.value("filter", Json());
  if (!filter.is_null()) check_filter(filter);
  if (!mailbox_changes_calculable(filter))
    throw MethodError{"cannotCalculateChanges", "Subscriptions are not tracked: query again"};
  co_return co_await query_changes(args, ctx, 'M', mailbox_structure_key,
                                   [&]() -> awaitable<std::vector<std::int64_t>> {
                                     auto v = co_await load(ctx);
                                     std::vector<std::int64_t> ids;
                                     for (const auto& id : query_ids(args, v))
                                       ids.push_back(*parse_id('M', id));
                                     co_return ids;
                                   });
}

// --- set

std::string parent_path(const MailboxView& v, const Json& parent, const RequestContext& ctx) {
  if (parent.is_null()) return "";
  if (!parent.is_string()) throw std::invalid_argument("parentId");
  auto id = parse_id('M', resolve_creation(ctx, parent.get<std::string>()));
  for (const auto& m : v.boxes)
    if (id && m.id == *id) return m.name + "/";
  throw std::invalid_argument("parentId");
}

awaitable<Json> mailbox_set(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  auto& store = ctx.db->mailboxes();
  auto v = co_await load(ctx);
  const std::string old_state = v.state;
  if (auto s = args.find("ifInState"); s != args.end() && !s->is_null() && *s != old_state)
    throw MethodError{"stateMismatch", "ifInState does not match"};
  Json created = Json::object(), not_created = Json::object(), updated = Json::object(),
       not_updated = Json::object(), destroyed = Json::array(), not_destroyed = Json::object();

  const Json create_arg = object_arg(args, "create");
  for (const auto& [cid, obj] : create_arg.items()) {
    try {
      if (!obj.is_object() || !obj.contains("name") || !obj["name"].is_string() ||
          obj["name"].get<std::string>().empty() ||
          obj["name"].get<std::string>().find('/') != std::string::npos)
        throw std::invalid_argument("name");
      const std::string path =
          parent_path(v, obj.value("parentId", Json()), ctx) + obj["name"].get<std::string>();
      auto use = store::SpecialUse::none;
      if (auto r = obj.find("role"); r != obj.end() && !r->is_null()) {
        auto u = r->is_string() ? use_of_role(r->get<std::string>()) : std::nullopt;
        if (!u) throw std::invalid_argument("role");
        use = *u;
      }
      auto made = co_await store.create_mailbox(ctx.account_id, path, use);
      if (!made) {
        not_created[cid] = made.error() == store::StoreError::exists
                               ? set_error("invalidProperties", "A mailbox with that name exists")
                               : set_error("invalidProperties", "Invalid name");
        continue;
      }
      if (obj.contains("isSubscribed") && obj["isSubscribed"].is_boolean())
        ok_or_throw(
            co_await store.set_subscribed(ctx.account_id, path, obj["isSubscribed"].get<bool>()));
      v.boxes.push_back(*made);
      ctx.created_ids[cid] = id_string('M', made->id);
      created[cid] = {{"id", id_string('M', made->id)},
                      {"totalEmails", 0},
                      {"unreadEmails", 0},
                      {"totalThreads", 0},
                      {"unreadThreads", 0}};
    } catch (const std::invalid_argument& e) {
      not_created[cid] = Json{{"type", "invalidProperties"}, {"properties", {e.what()}}};
    }
  }

  const Json update_arg = object_arg(args, "update");
  for (const auto& [raw, patch] : update_arg.items()) {
    const auto id = parse_id('M', resolve_creation(ctx, raw));
    auto it = std::find_if(v.boxes.begin(), v.boxes.end(),
                           [&](const store::Mailbox& m) { return id && m.id == *id; });
    if (it == v.boxes.end()) {
      not_updated[raw] = set_error("notFound");
      continue;
    }
    try {
      if (!patch.is_object()) throw std::invalid_argument("patch");
      std::string path = it->name;
      if (patch.contains("name") || patch.contains("parentId")) {
        const auto name = patch.value("name", leaf_name(it->name));
        if (name.empty() || name.find('/') != std::string::npos)
          throw std::invalid_argument("name");
        const Json parent = patch.contains("parentId")
                                ? patch["parentId"]
                                : (it->parent_id ? Json(id_string('M', *it->parent_id)) : Json());
        path = parent_path(v, parent, ctx) + name;
      }
      if (patch.contains("role")) throw std::invalid_argument("role");
      if (path != it->name) {
        if (it->name == "INBOX") {
          not_updated[raw] = set_error("forbidden", "The inbox cannot be renamed");
          continue;
        }
        auto r = co_await store.rename_mailbox(ctx.account_id, it->id, path);
        if (!r) {
          not_updated[raw] = set_error("invalidProperties", "Cannot rename there");
          continue;
        }
        it->name = path;
      }
      if (auto s = patch.find("isSubscribed"); s != patch.end()) {
        if (!s->is_boolean()) throw std::invalid_argument("isSubscribed");
        ok_or_throw(co_await store.set_subscribed(ctx.account_id, path, s->get<bool>()));
      }
      updated[raw] = Json();
    } catch (const std::invalid_argument& e) {
      not_updated[raw] = Json{{"type", "invalidProperties"}, {"properties", {e.what()}}};
    }
  }

  const bool remove_emails = args.value("onDestroyRemoveEmails", false);
  for (const auto& rawj : args.value("destroy", Json::array())) {
    const auto raw = rawj.get<std::string>();
    const auto id = parse_id('M', resolve_creation(ctx, raw));
    auto it = std::find_if(v.boxes.begin(), v.boxes.end(),
                           [&](const store::Mailbox& m) { return id && m.id == *id; });
    if (it == v.boxes.end()) {
      not_destroyed[raw] = set_error("notFound");
      continue;
    }
    const bool has_child = std::any_of(v.boxes.begin(), v.boxes.end(), [&](auto& m) {
      return m.parent_id && *m.parent_id == it->id;
    });
    if (has_child) {
      not_destroyed[raw] = set_error("mailboxHasChild");
      continue;
    }
    auto fresh = ok_or_throw(co_await store.get_mailbox(ctx.account_id, it->id));
    if (fresh.messages > 0 && !remove_emails) {
      not_destroyed[raw] = set_error("mailboxHasEmail");
      continue;
    }
    if (it->name == "INBOX") {
      not_destroyed[raw] = set_error("forbidden", "The inbox cannot be destroyed");
      continue;
    }
    auto r = co_await store.delete_mailbox(ctx.account_id, it->id);
    if (!r) {
      not_destroyed[raw] = set_error("forbidden");
      continue;
    }
    v.boxes.erase(it);
    destroyed.push_back(raw);
  }
  const std::string new_state = co_await current_state(ctx);
  co_return Json{{"accountId", ctx.account_id_string},
                 {"oldState", old_state},
                 {"newState", new_state},
                 {"created", created.empty() ? Json() : created},
                 {"updated", updated.empty() ? Json() : updated},
                 {"destroyed", destroyed.empty() ? Json() : destroyed},
                 {"notCreated", not_created.empty() ? Json() : not_created},
                 {"notUpdated", not_updated.empty() ? Json() : not_updated},
                 {"notDestroyed", not_destroyed.empty() ? Json() : not_destroyed}};
}

}  // namespace

void register_mailbox_methods(jmap::MethodRegistry& r) {
  const std::string cap(jmap::kMailCapability);
  r.add("Mailbox/get", cap, guarded(mailbox_get));
  r.add("Mailbox/changes", cap, guarded(mailbox_changes));
  r.add("Mailbox/query", cap, guarded(mailbox_query));
  r.add("Mailbox/queryChanges", cap, guarded(mailbox_query_changes));
  r.add("Mailbox/set", cap, guarded(mailbox_set));
}

}  // namespace govmail::webmail::mail
