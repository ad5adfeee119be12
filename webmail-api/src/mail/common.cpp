#include "mail/common.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

#include <spdlog/spdlog.h>

#include "core/ascii.hpp"
#include "core/config.hpp"
#include "mail/email.hpp"
#include "store/database.hpp"
#include "store/mail_store.hpp"

namespace govmail::webmail::mail {

std::string id_string(char type, std::int64_t id) {
  return std::string(1, type) + std::to_string(id);
}

std::optional<std::int64_t> parse_id(char type, std::string_view s) {
  if (s.size() < 2 || s.size() > 20 || s[0] != type) return std::nullopt;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

void throw_store(store::StoreError e) {
  using store::StoreError;
  switch (e) {
    case StoreError::over_quota:
      throw MethodError{"overQuota", "The account is over its quota"};
    case StoreError::too_big:
      throw MethodError{"tooLarge", "Too large"};
    case StoreError::invalid:
      throw MethodError{"invalidArguments", "Invalid argument"};
    case StoreError::not_found:
      throw MethodError{"notFound", "Not found"};
    default:
      spdlog::warn("jmap mail: store error {}", store::to_string(e));
      throw MethodError{"serverFail", "Temporary server problem, try again"};
  }
}

void check_account(const Json& args, const RequestContext& ctx) {
  if (!args.is_object()) throw MethodError{"invalidArguments", "arguments must be an object"};
  auto it = args.find("accountId");
  if (it == args.end() || !it->is_string())
    throw MethodError{"invalidArguments", "accountId is required"};
  if (it->get<std::string>() != ctx.account_id_string)
    throw MethodError{"accountNotFound", "No such account"};
}

std::size_t max_objects_in_get(const RequestContext& ctx) {
  return ctx.cfg ? ctx.cfg->jmap.max_objects_in_get : core::JmapConfig{}.max_objects_in_get;
}

std::size_t max_objects_in_set(const RequestContext& ctx) {
  return ctx.cfg ? ctx.cfg->jmap.max_objects_in_set : core::JmapConfig{}.max_objects_in_set;
}

std::string state_string(store::ModSeq m) {
  return std::to_string(m);
}

awaitable<std::string> current_state(RequestContext& ctx) {
  auto s = co_await ctx.db->mail().state(ctx.account_id);
  co_return state_string(ok_or_throw(std::move(s)));
}

awaitable<std::string> state_for_read(RequestContext& ctx) {
  if (!ctx.read_state) ctx.read_state = co_await current_state(ctx);
  co_return *ctx.read_state;
}

std::optional<store::ModSeq> parse_state(const Json& v) {
  if (!v.is_string()) return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  store::ModSeq m = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), m);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return m;
}

namespace {
constexpr std::pair<const char*, std::uint16_t> kSystemKeywords[] = {
    {"$seen", store::kSeen},       {"$answered", store::kAnswered}, {"$flagged", store::kFlagged},
    {"$deleted", store::kDeleted}, {"$draft", store::kDraft},
};
}  // namespace

Json keywords_json(const store::Flags& f) {
  Json out = Json::object();
  for (auto [name, bit] : kSystemKeywords)
    if (f.system & bit) out[name] = true;
  for (const auto& k : f.keywords) out[core::ascii_lower(k)] = true;
  return out;
}

bool valid_keyword(std::string_view k) {
  // RFC 8621 4.1.1: 1-255 chars of %x21-%x7e except ( ) { ] % * " \ (IMAP atom rules).
  if (k.empty() || k.size() > 255) return false;
  for (char c : k) {
    if (c < 0x21 || c > 0x7e) return false;
    if (std::string_view("(){]%*\"\\").find(c) != std::string_view::npos) return false;
  }
  return true;
}

store::Flags keyword_flag(const std::string& k) {
  store::Flags f;
  const std::string l = core::ascii_lower(k);
  for (auto [name, bit] : kSystemKeywords)
    if (l == name) {
      f.system = bit;
      return f;
    }
  f.keywords.push_back(l);
  return f;
}

std::optional<store::Flags> keywords_to_flags(const Json& keywords) {
  if (!keywords.is_object()) return std::nullopt;
  store::Flags f;
  for (const auto& [k, v] : keywords.items()) {
    if (!v.is_boolean() || !v.get<bool>() || !valid_keyword(k)) return std::nullopt;
    auto one = keyword_flag(k);
    f.system |= one.system;
    f.keywords.insert(f.keywords.end(), one.keywords.begin(), one.keywords.end());
  }
  std::sort(f.keywords.begin(), f.keywords.end());
  f.keywords.erase(std::unique(f.keywords.begin(), f.keywords.end()), f.keywords.end());
  return f;
}

std::optional<std::vector<std::string>> ids_argument(const Json& args) {
  auto it = args.find("ids");
  if (it == args.end() || it->is_null()) return std::nullopt;
  if (!it->is_array()) throw MethodError{"invalidArguments", "ids must be an array or null"};
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) throw MethodError{"invalidArguments", "ids must be strings"};
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::vector<std::string> properties_argument(const Json& args,
                                             const std::vector<std::string>& known,
                                             const std::vector<std::string>& defaults) {
  auto it = args.find("properties");
  if (it == args.end() || it->is_null()) return defaults;
  if (!it->is_array()) throw MethodError{"invalidArguments", "properties must be an array"};
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) throw MethodError{"invalidArguments", "properties must be strings"};
    auto p = v.get<std::string>();
    if (std::find(known.begin(), known.end(), p) == known.end() && p.rfind("header:", 0) != 0)
      throw MethodError{"invalidArguments", "Unknown property: " + p.substr(0, 100)};
    out.push_back(std::move(p));
  }
  return out;
}

std::string resolve_creation(const RequestContext& ctx, const std::string& id) {
  if (id.empty() || id[0] != '#') return id;
  auto it = ctx.created_ids.find(id.substr(1));
  return it == ctx.created_ids.end() ? id : it->second;
}

std::string utc_date(store::UnixTime t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<store::UnixTime> parse_utc_date(const std::string& s) {
  // RFC 3339 with "Z" (UTCDate) or an offset (Date).
  std::tm tm{};
  int y, mo, d, h, mi, sec;
  char rest[16] = {};
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%15s", &y, &mo, &d, &h, &mi, &sec, rest) < 6)
    return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  store::UnixTime t = timegm(&tm);
  std::string r = rest;
  if (!r.empty() && r[0] == '.')
    r = r.substr(r.find_first_not_of("0123456789", 1) == std::string::npos
                     ? r.size()
                     : r.find_first_not_of("0123456789", 1));
  if (r == "Z" || r == "z") return t;
  int oh = 0, om = 0;
  if (r.size() == 6 && (r[0] == '+' || r[0] == '-') &&
      std::sscanf(r.c_str() + 1, "%2d:%2d", &oh, &om) == 2) {
    const int off = (oh * 60 + om) * 60;
    return r[0] == '+' ? t - off : t + off;
  }
  return std::nullopt;
}

Json object_arg(const Json& args, const char* name) {
  auto it = args.find(name);
  if (it == args.end() || it->is_null()) return Json::object();
  if (!it->is_object())
    throw MethodError{"invalidArguments", std::string(name) + " must be an object"};
  return *it;
}

std::optional<std::uint64_t> uint_arg(const Json& args, const char* name) {
  auto it = args.find(name);
  if (it == args.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer() || it->get<std::int64_t>() < 0)
    throw MethodError{"invalidArguments", std::string(name) + " must be a non-negative integer"};
  return it->get<std::uint64_t>();
}

Json set_error(std::string_view type, std::string_view description) {
  Json e{{"type", type}};
  if (!description.empty()) e["description"] = description;
  return e;
}

std::string extra_identity_id(std::int64_t id) {
  return "IX" + std::to_string(id);
}

}  // namespace govmail::webmail::mail
