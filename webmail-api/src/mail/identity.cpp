// Identity/get, /changes, /set (RFC 8621 6): one identity per account, its own address and
// display name from the directory. Addresses and names are managed by administrators
// (admin/ provisioning), so Identity/set refuses changes with "forbidden".
#include "mail/common.hpp"
#include "mail/register.hpp"
#include "store/database.hpp"
#include "store/directory.hpp"

namespace govmail::webmail::mail {
namespace {

constexpr const char* kIdentityState = "1";

awaitable<Json> identity_get(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  auto ids = ids_argument(args);
  auto account = ok_or_throw(co_await ctx.db->directory().get_account(ctx.account_id));
  const std::string id = id_string('I', ctx.account_id);
  Json identity{{"id", id},
                {"name", account.display_name},
                {"email", account.address},
                {"replyTo", nullptr},
                {"bcc", nullptr},
                {"textSignature", ""},
                {"htmlSignature", ""},
                {"mayDelete", false}};
  Json list = Json::array(), not_found = Json::array();
  if (!ids || std::find(ids->begin(), ids->end(), id) != ids->end()) list.push_back(identity);
  if (ids)
    for (const auto& i : *ids)
      if (i != id) not_found.push_back(i);
  co_return Json{{"accountId", ctx.account_id_string},
                 {"state", kIdentityState},
                 {"list", list},
                 {"notFound", not_found}};
}

awaitable<Json> identity_changes(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  if (args.value("sinceState", Json()) != kIdentityState)
    throw MethodError{"cannotCalculateChanges", "Unknown state"};
  co_return Json{{"accountId", ctx.account_id_string}, {"oldState", kIdentityState},
                 {"newState", kIdentityState},         {"hasMoreChanges", false},
                 {"created", Json::array()},           {"updated", Json::array()},
                 {"destroyed", Json::array()}};
}

awaitable<Json> identity_set(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  Json not_created = Json::object(), not_updated = Json::object(), not_destroyed = Json::object();
  const Json forbidden = set_error("forbidden", "Identities are managed by the administrators");
  const Json create_arg = object_arg(args, "create");
  for (const auto& [k, v] : create_arg.items()) not_created[k] = forbidden;
  const Json update_arg = object_arg(args, "update");
  for (const auto& [k, v] : update_arg.items()) not_updated[k] = forbidden;
  for (const auto& k : args.value("destroy", Json::array())) not_destroyed[k.get<std::string>()] = forbidden;
  co_return Json{{"accountId", ctx.account_id_string},
                 {"oldState", kIdentityState},
                 {"newState", kIdentityState},
                 {"created", nullptr},
                 {"updated", nullptr},
                 {"destroyed", nullptr},
                 {"notCreated", not_created.empty() ? Json() : not_created},
                 {"notUpdated", not_updated.empty() ? Json() : not_updated},
                 {"notDestroyed", not_destroyed.empty() ? Json() : not_destroyed}};
}

}  // namespace

void register_identity_methods(jmap::MethodRegistry& r) {
  const std::string cap(jmap::kSubmissionCapability);
  r.add("Identity/get", cap, guarded(identity_get));
  r.add("Identity/changes", cap, guarded(identity_changes));
  r.add("Identity/set", cap, guarded(identity_set));
}

}  // namespace govmail::webmail::mail
