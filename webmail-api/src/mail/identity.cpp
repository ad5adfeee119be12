// Identity/get, /changes, /set (RFC 8621 6). The account's own identity ("I" + account id) has
// its address from the directory (admin/ provisioning): the user edits its name, replyTo, bcc
// and signatures (MailStore::set_identity) but cannot destroy it. The user may add identities
// ("IX" + id) for other addresses it may send as (Directory::may_send_as: aliases, groups that
// grant send-as; others get forbiddenFrom), edit and destroy them (MailStore::add_identity...).
// One state per account moves with every change; Identity/changes reads the stored states.
#include <charconv>
#include <map>

#include "core/ascii.hpp"
#include "mail/common.hpp"
#include "mail/email.hpp"
#include "mail/register.hpp"
#include "store/database.hpp"
#include "store/directory.hpp"
#include "store/mail_store.hpp"

namespace govmail::webmail::mail {
namespace {

bool parse_int(const std::string& s, std::int64_t& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

Json parsed_or_null(const std::optional<std::string>& json_text) {
  return json_text ? Json::parse(*json_text) : Json();
}

Json identity_json(const std::string& id, const std::string& email, const std::string& name,
                   const store::IdentitySettings& s, bool may_delete) {
  return Json{{"id", id},
              {"name", name},
              {"email", email},
              {"replyTo", parsed_or_null(s.reply_to_json)},
              {"bcc", parsed_or_null(s.bcc_json)},
              {"textSignature", s.text_signature},
              {"htmlSignature", s.html_signature},
              {"mayDelete", may_delete}};
}

// The id of an added identity ("IX42" -> 42); nullopt for any other string.
std::optional<std::int64_t> parse_extra_id(const std::string& s) {
  std::int64_t n = 0;
  if (s.rfind("IX", 0) != 0 || !parse_int(s.substr(2), n) || n <= 0) return std::nullopt;
  return n;
}

// Every identity of the account, as JMAP shows it, and the state they are at.
struct Identities {
  std::string own_id;
  store::Account account;
  store::IdentitySettings own;
  std::vector<store::ExtraIdentity> extra;  // tombstones included

  Json own_json() const {
    return identity_json(own_id, account.address, own.name.value_or(account.display_name), own,
                         false);
  }
  static Json extra_json(const store::ExtraIdentity& x) {
    return identity_json(extra_identity_id(x.id), x.email, x.settings.name.value_or(""), x.settings,
                         true);
  }
  const store::ExtraIdentity* live(std::int64_t id) const {
    for (const auto& x : extra)
      if (x.id == id && !x.destroyed_state) return &x;
    return nullptr;
  }
};

awaitable<Identities> load_identities(RequestContext& ctx) {
  Identities out;
  out.own_id = id_string('I', ctx.account_id);
  out.account = ok_or_throw(co_await ctx.db->directory().get_account(ctx.account_id));
  out.own = ok_or_throw(co_await ctx.db->mail().identity(ctx.account_id));
  out.extra = ok_or_throw(co_await ctx.db->mail().extra_identities(ctx.account_id));
  co_return out;
}

awaitable<Json> identity_get(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  auto ids = ids_argument(args);
  const Identities all = co_await load_identities(ctx);
  std::map<std::string, Json> by_id{{all.own_id, all.own_json()}};
  for (const auto& x : all.extra)
    if (!x.destroyed_state) by_id[extra_identity_id(x.id)] = Identities::extra_json(x);
  Json list = Json::array(), not_found = Json::array();
  if (!ids) {
    list.push_back(by_id[all.own_id]);
    for (const auto& x : all.extra)
      if (!x.destroyed_state) list.push_back(by_id[extra_identity_id(x.id)]);
  } else {
    for (const auto& i : *ids) {
      auto it = by_id.find(i);
      if (it == by_id.end())
        not_found.push_back(i);
      else
        list.push_back(it->second);
    }
  }
  co_return Json{{"accountId", ctx.account_id_string},
                 {"state", std::to_string(all.own.state)},
                 {"list", list},
                 {"notFound", not_found}};
}

// Changes since `old` from the stored states: created (and not destroyed since), updated (own
// or added before `old`), destroyed (added before `old`). Everything fits one response.
awaitable<Json> identity_changes(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  const Identities all = co_await load_identities(ctx);
  const std::string now = std::to_string(all.own.state);
  const Json since = args.value("sinceState", Json());
  std::int64_t old = 0;
  if (!since.is_string() || !parse_int(since.get<std::string>(), old) || old < 1 ||
      old > all.own.state)
    throw MethodError{"cannotCalculateChanges", "Unknown state"};
  Json created = Json::array(), updated = Json::array(), destroyed = Json::array();
  if (all.own.own_state > old) updated.push_back(all.own_id);
  for (const auto& x : all.extra) {
    const bool existed = x.created_state <= old;
    if (x.destroyed_state) {
      if (existed && *x.destroyed_state > old) destroyed.push_back(extra_identity_id(x.id));
    } else if (!existed) {
      created.push_back(extra_identity_id(x.id));
    } else if (x.updated_state > old) {
      updated.push_back(extra_identity_id(x.id));
    }
  }
  co_return Json{{"accountId", ctx.account_id_string},
                 {"oldState", since},
                 {"newState", now},
                 {"hasMoreChanges", false},
                 {"created", created},
                 {"updated", updated},
                 {"destroyed", destroyed}};
}

bool is_address_list(const Json& v) {
  if (v.is_null()) return true;
  if (!v.is_array()) return false;
  for (const auto& a : v)
    if (!a.is_object() || !a.contains("email") || !a["email"].is_string() ||
        (a.contains("name") && !a["name"].is_null() && !a["name"].is_string()))
      return false;
  return true;
}

// Applies a patch (or a creation's properties) to `s`; the name of a bad property otherwise.
// Properties not editable here (id, email, mayDelete) may be repeated, not changed.
std::optional<std::string> apply_identity_patch(store::IdentitySettings& s, const Json& patch,
                                                const Json& current) {
  for (const auto& [k, val] : patch.items()) {
    if (k == "name") {
      if (!val.is_string()) return k;
      s.name = val.get<std::string>();
    } else if (k == "replyTo" || k == "bcc") {
      if (!is_address_list(val)) return k;
      auto& field = k == "replyTo" ? s.reply_to_json : s.bcc_json;
      field = val.is_null() ? std::nullopt : std::optional<std::string>(val.dump());
    } else if (k == "textSignature" || k == "htmlSignature") {
      if (!val.is_string()) return k;
      (k == "textSignature" ? s.text_signature : s.html_signature) = val.get<std::string>();
    } else if (!current.contains(k) || current[k] != val) {
      return k;
    }
  }
  return std::nullopt;
}

struct IdentitySetResult {
  Json created = Json::object(), not_created = Json::object();
  Json updated = Json::object(), not_updated = Json::object();
  Json destroyed = Json::array(), not_destroyed = Json::object();
};

Json invalid(const std::string& property) {
  return Json{{"type", "invalidProperties"}, {"properties", {property}}};
}

awaitable<void> create_identities(const Json& create_arg, RequestContext& ctx,
                                  IdentitySetResult& out) {
  for (const auto& [k, props] : create_arg.items()) {
    if (!props.is_object() || !props.contains("email") || !props["email"].is_string()) {
      out.not_created[k] = invalid("email");
      continue;
    }
    const std::string email = core::ascii_lower(props["email"].get<std::string>());
    if (props.contains("id") || props.contains("mayDelete")) {
      out.not_created[k] = invalid(props.contains("id") ? "id" : "mayDelete");
      continue;
    }
    store::IdentitySettings s;
    Json shape = props;  // the creation itself is the "current" value of email
    if (auto bad = apply_identity_patch(s, props, shape)) {
      out.not_created[k] = invalid(*bad);
      continue;
    }
    if (email.find('@') == std::string::npos ||
        !ok_or_throw(co_await ctx.db->directory().may_send_as(ctx.account_id, email))) {
      out.not_created[k] =
          set_error("forbiddenFrom", "Not allowed to send as " + email.substr(0, 200));
      continue;
    }
    const auto id = ok_or_throw(co_await ctx.db->mail().add_identity(ctx.account_id, email, s));
    ctx.created_ids[k] = extra_identity_id(id);
    out.created[k] = {
        {"id", extra_identity_id(id)},       {"mayDelete", true},
        {"name", s.name.value_or("")},       {"replyTo", parsed_or_null(s.reply_to_json)},
        {"bcc", parsed_or_null(s.bcc_json)}, {"textSignature", s.text_signature},
        {"htmlSignature", s.html_signature}};
  }
}

awaitable<void> update_identities(const Json& update_arg, RequestContext& ctx,
                                  IdentitySetResult& out) {
  for (const auto& [key, patch] : update_arg.items()) {
    const std::string k = resolve_creation(ctx, key);
    if (!patch.is_object()) {
      out.not_updated[key] = set_error("invalidPatch");
      continue;
    }
    const Identities all = co_await load_identities(ctx);
    const auto xid = parse_extra_id(k);
    const store::ExtraIdentity* x = xid ? all.live(*xid) : nullptr;
    if (k != all.own_id && !x) {
      out.not_updated[key] = set_error("notFound");
      continue;
    }
    store::IdentitySettings s = x ? x->settings : all.own;
    const Json current = x ? Identities::extra_json(*x) : all.own_json();
    if (auto bad = apply_identity_patch(s, patch, current)) {
      out.not_updated[key] = invalid(*bad);
      continue;
    }
    if (x)
      ok_or_throw(co_await ctx.db->mail().update_identity(ctx.account_id, x->id, s));
    else
      ok_or_throw(co_await ctx.db->mail().set_identity(ctx.account_id, s));
    out.updated[key] = Json();
  }
}

awaitable<void> destroy_identities(const Json& destroy_arg, RequestContext& ctx,
                                   IdentitySetResult& out) {
  if (!destroy_arg.is_array()) throw MethodError{"invalidArguments", "destroy must be an array"};
  for (const auto& v : destroy_arg) {
    if (!v.is_string()) throw MethodError{"invalidArguments", "destroy must list ids"};
    const std::string key = v.get<std::string>();
    const std::string k = resolve_creation(ctx, key);
    if (k == id_string('I', ctx.account_id)) {
      out.not_destroyed[key] = set_error("forbidden", "The account's own identity is kept");
      continue;
    }
    const auto xid = parse_extra_id(k);
    if (!xid) {
      out.not_destroyed[key] = set_error("notFound");
      continue;
    }
    auto done = co_await ctx.db->mail().destroy_identity(ctx.account_id, *xid);
    if (!done && done.error() == store::StoreError::not_found) {
      out.not_destroyed[key] = set_error("notFound");
      continue;
    }
    ok_or_throw(std::move(done));
    out.destroyed.push_back(key);
  }
}

Json null_if_empty(const Json& j) {
  return j.empty() ? Json() : j;
}

awaitable<Json> identity_set(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  auto before = ok_or_throw(co_await ctx.db->mail().identity(ctx.account_id));
  const std::string old_state = std::to_string(before.state);
  if (auto s = args.find("ifInState"); s != args.end() && !s->is_null() && *s != old_state)
    throw MethodError{"stateMismatch", "ifInState does not match"};
  const Json create_arg = object_arg(args, "create"), update_arg = object_arg(args, "update");
  Json destroy_arg = args.value("destroy", Json::array());
  if (destroy_arg.is_null()) destroy_arg = Json::array();
  if (create_arg.size() + update_arg.size() + (destroy_arg.is_array() ? destroy_arg.size() : 0) >
      max_objects_in_set(ctx))
    throw MethodError{"requestTooLarge", "Too many identities in one call"};
  IdentitySetResult res;
  co_await create_identities(create_arg, ctx, res);
  co_await update_identities(update_arg, ctx, res);
  co_await destroy_identities(destroy_arg, ctx, res);
  auto after = ok_or_throw(co_await ctx.db->mail().identity(ctx.account_id));
  co_return Json{{"accountId", ctx.account_id_string},
                 {"oldState", old_state},
                 {"newState", std::to_string(after.state)},
                 {"created", null_if_empty(res.created)},
                 {"updated", null_if_empty(res.updated)},
                 {"destroyed", null_if_empty(res.destroyed)},
                 {"notCreated", null_if_empty(res.not_created)},
                 {"notUpdated", null_if_empty(res.not_updated)},
                 {"notDestroyed", null_if_empty(res.not_destroyed)}};
}

}  // namespace

void register_identity_methods(jmap::MethodRegistry& r) {
  const std::string cap(jmap::kSubmissionCapability);
  r.add("Identity/get", cap, guarded(identity_get));
  r.add("Identity/changes", cap, guarded(identity_changes));
  r.add("Identity/set", cap, guarded(identity_set));
}

}  // namespace govmail::webmail::mail
