// VacationResponse/get and /set (RFC 8621 8): the singleton, stored by MailStore; the reply
// itself is sent on delivery by smtp/ (once per sender per period, never to lists or bounces).
#include "mail/common.hpp"
#include "mail/register.hpp"
#include "store/database.hpp"
#include "store/mail_store.hpp"

namespace govmail::webmail::mail {
namespace {

constexpr const char* kSingleton = "singleton";

Json opt(const std::optional<std::string>& s) {
  return s ? Json(*s) : Json();
}

Json vacation_json(const store::VacationResponse& v) {
  return Json{{"id", kSingleton},
              {"isEnabled", v.is_enabled},
              {"fromDate", v.from_date ? Json(utc_date(*v.from_date)) : Json()},
              {"toDate", v.to_date ? Json(utc_date(*v.to_date)) : Json()},
              {"subject", opt(v.subject)},
              {"textBody", opt(v.text_body)},
              {"htmlBody", opt(v.html_body)}};
}

awaitable<Json> vacation_get(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  auto ids = ids_argument(args);
  auto v = ok_or_throw(co_await ctx.db->mail().vacation(ctx.account_id));
  Json list = Json::array(), not_found = Json::array();
  if (!ids || std::find(ids->begin(), ids->end(), kSingleton) != ids->end())
    list.push_back(vacation_json(v));
  if (ids)
    for (const auto& i : *ids)
      if (i != kSingleton) not_found.push_back(i);
  co_return Json{{"accountId", ctx.account_id_string},
                 {"state", std::to_string(v.period)},
                 {"list", list},
                 {"notFound", not_found}};
}

// Applies a patch to `v`; the name of a bad property otherwise.
std::optional<std::string> apply_vacation_patch(store::VacationResponse& v, const Json& patch) {
  for (const auto& [k, val] : patch.items()) {
    if (k == "id") {
      if (val != kSingleton) return k;
    } else if (k == "isEnabled") {
      if (!val.is_boolean()) return k;
      v.is_enabled = val.get<bool>();
    } else if (k == "fromDate" || k == "toDate") {
      auto& field = k == "fromDate" ? v.from_date : v.to_date;
      if (val.is_null()) {
        field.reset();
      } else {
        auto t = val.is_string() ? parse_utc_date(val.get<std::string>()) : std::nullopt;
        if (!t) return k;
        field = *t;
      }
    } else if (k == "subject" || k == "textBody" || k == "htmlBody") {
      auto& field = k == "subject" ? v.subject : k == "textBody" ? v.text_body : v.html_body;
      if (val.is_null())
        field.reset();
      else if (val.is_string())
        field = val.get<std::string>();
      else
        return k;
    } else {
      return k;
    }
  }
  return std::nullopt;
}

awaitable<Json> vacation_set(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  auto v = ok_or_throw(co_await ctx.db->mail().vacation(ctx.account_id));
  const std::string old_state = std::to_string(v.period);
  if (auto s = args.find("ifInState"); s != args.end() && !s->is_null() && *s != old_state)
    throw MethodError{"stateMismatch", "ifInState does not match"};
  Json updated = Json::object(), not_updated = Json::object(), not_created = Json::object(),
       not_destroyed = Json::object();
  const Json create_arg = object_arg(args, "create");
  for (const auto& [k, val] : create_arg.items())
    not_created[k] = set_error("singleton", "VacationResponse is a singleton");
  for (const auto& k : args.value("destroy", Json::array()))
    not_destroyed[k.get<std::string>()] = set_error("singleton", "VacationResponse is a singleton");
  const Json update_arg = object_arg(args, "update");
  for (const auto& [id, patch] : update_arg.items()) {
    if (id != kSingleton) {
      not_updated[id] = set_error("notFound");
      continue;
    }
    if (!patch.is_object()) {
      not_updated[id] = set_error("invalidPatch");
      continue;
    }
    if (auto bad = apply_vacation_patch(v, patch)) {
      not_updated[id] = Json{{"type", "invalidProperties"}, {"properties", {*bad}}};
      continue;
    }
    ok_or_throw(co_await ctx.db->mail().set_vacation(ctx.account_id, v));
    updated[id] = Json();
  }
  auto now = ok_or_throw(co_await ctx.db->mail().vacation(ctx.account_id));
  co_return Json{{"accountId", ctx.account_id_string},
                 {"oldState", old_state},
                 {"newState", std::to_string(now.period)},
                 {"created", nullptr},
                 {"updated", updated.empty() ? Json() : updated},
                 {"destroyed", nullptr},
                 {"notCreated", not_created.empty() ? Json() : not_created},
                 {"notUpdated", not_updated.empty() ? Json() : not_updated},
                 {"notDestroyed", not_destroyed.empty() ? Json() : not_destroyed}};
}

}  // namespace

void register_vacation_methods(jmap::MethodRegistry& r) {
  const std::string cap(jmap::kVacationCapability);
  r.add("VacationResponse/get", cap, guarded(vacation_get));
  r.add("VacationResponse/set", cap, guarded(vacation_set));
}

}  // namespace govmail::webmail::mail
