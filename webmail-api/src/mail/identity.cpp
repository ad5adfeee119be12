// Identity/get, /changes, /set (RFC 8621 6): one identity per account, its address from the
// directory (admin/ provisioning). The user edits its name, replyTo, bcc and signatures
// (MailStore::set_identity); creating identities for other addresses and destroying the
// account's own one are refused with "forbidden".
#include <charconv>

#include "mail/common.hpp"
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

Json identity_json(const std::string& id, const store::Account& account,
                   const store::IdentitySettings& s) {
  return Json{{"id", id},
              {"name", s.name ? *s.name : account.display_name},
              {"email", account.address},
              {"replyTo", parsed_or_null(s.reply_to_json)},
              {"bcc", parsed_or_null(s.bcc_json)},
              {"textSignature", s.text_signature},
              {"htmlSignature", s.html_signature},
              {"mayDelete", false}};
}

awaitable<Json> identity_get(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  auto ids = ids_argument(args);
  auto account = ok_or_throw(co_await ctx.db->directory().get_account(ctx.account_id));
  auto settings = ok_or_throw(co_await ctx.db->mail().identity(ctx.account_id));
  const std::string id = id_string('I', ctx.account_id);
  Json list = Json::array(), not_found = Json::array();
  if (!ids || std::find(ids->begin(), ids->end(), id) != ids->end())
    list.push_back(identity_json(id, account, settings));
  if (ids)
    for (const auto& i : *ids)
      if (i != id) not_found.push_back(i);
  co_return Json{{"accountId", ctx.account_id_string},
                 {"state", std::to_string(settings.state)},
                 {"list", list},
                 {"notFound", not_found}};
}

// The state is a counter of the one identity's edits: any older state means "it was updated".
awaitable<Json> identity_changes(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  auto settings = ok_or_throw(co_await ctx.db->mail().identity(ctx.account_id));
  const std::string now = std::to_string(settings.state);
  const Json since = args.value("sinceState", Json());
  std::int64_t old = 0;
  if (!since.is_string() || !parse_int(since.get<std::string>(), old) || old < 1 ||
      old > settings.state)
    throw MethodError{"cannotCalculateChanges", "Unknown state"};
  Json updated = Json::array();
  if (old < settings.state) updated.push_back(id_string('I', ctx.account_id));
  co_return Json{{"accountId", ctx.account_id_string},
                 {"oldState", since},
                 {"newState", now},
                 {"hasMoreChanges", false},
                 {"created", Json::array()},
                 {"updated", updated},
                 {"destroyed", Json::array()}};
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

// Applies a patch to `s`; the name of a bad property otherwise. The address and mayDelete
// are the directory's: a patch may repeat them but not change them.
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
  Json updated = Json::object(), not_updated = Json::object();
};

awaitable<IdentitySetResult> update_identities(const Json& update_arg, RequestContext& ctx) {
  IdentitySetResult out;
  const std::string id = id_string('I', ctx.account_id);
  for (const auto& [k, patch] : update_arg.items()) {
    if (k != id) {
      out.not_updated[k] = set_error("notFound");
      continue;
    }
    if (!patch.is_object()) {
      out.not_updated[k] = set_error("invalidPatch");
      continue;
    }
    auto account = ok_or_throw(co_await ctx.db->directory().get_account(ctx.account_id));
    auto s = ok_or_throw(co_await ctx.db->mail().identity(ctx.account_id));
    if (auto bad = apply_identity_patch(s, patch, identity_json(id, account, s))) {
      out.not_updated[k] = Json{{"type", "invalidProperties"}, {"properties", {*bad}}};
      continue;
    }
    ok_or_throw(co_await ctx.db->mail().set_identity(ctx.account_id, s));
    out.updated[k] = Json();
  }
  co_return out;
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
  Json not_created = Json::object(), not_destroyed = Json::object();
  const Json forbidden = set_error("forbidden", "Identities are managed by the administrators");
  const Json create_arg = object_arg(args, "create");
  for (const auto& [k, v] : create_arg.items()) not_created[k] = forbidden;
  for (const auto& k : args.value("destroy", Json::array()))
    not_destroyed[k.get<std::string>()] = forbidden;
  auto res = co_await update_identities(object_arg(args, "update"), ctx);
  auto after = ok_or_throw(co_await ctx.db->mail().identity(ctx.account_id));
  co_return Json{
      {"accountId", ctx.account_id_string},          {"oldState", old_state},
      {"newState", std::to_string(after.state)},     {"created", nullptr},
      {"updated", null_if_empty(res.updated)},       {"destroyed", nullptr},
      {"notCreated", null_if_empty(not_created)},    {"notUpdated", null_if_empty(res.not_updated)},
      {"notDestroyed", null_if_empty(not_destroyed)}};
}

}  // namespace

void register_identity_methods(jmap::MethodRegistry& r) {
  const std::string cap(jmap::kSubmissionCapability);
  r.add("Identity/get", cap, guarded(identity_get));
  r.add("Identity/changes", cap, guarded(identity_changes));
  r.add("Identity/set", cap, guarded(identity_set));
}

}  // namespace govmail::webmail::mail
