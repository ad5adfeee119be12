#include "jmap/session_resource.hpp"

#include "auth/credentials.hpp"
#include "core/config.hpp"
#include "core/hex.hpp"

namespace govmail::webmail::jmap {

namespace {

Json core_capability(const core::JmapConfig& j) {
  return Json{{"maxSizeUpload", j.max_size_upload},
              {"maxConcurrentUpload", j.max_concurrent_upload},
              {"maxSizeRequest", j.max_size_request},
              {"maxConcurrentRequests", j.max_concurrent_requests},
              {"maxCallsInRequest", j.max_calls_in_request},
              {"maxObjectsInGet", j.max_objects_in_get},
              {"maxObjectsInSet", j.max_objects_in_set},
              {"collationAlgorithms",
               Json::array({"i;ascii-numeric", "i;ascii-casemap", "i;unicode-casemap"})}};
}

}  // namespace

std::string session_state(const Json& session) {
  return core::to_hex(auth::sha256(session.dump())).substr(0, 16);
}

Json session_resource(const core::Config& cfg, const MethodRegistry& registry,
                      store::AccountId account, const std::string& username,
                      std::string_view base_url) {
  const std::string id = account_id_string(account);
  const std::string base(base_url);
  Json capabilities = Json::object();
  Json account_capabilities = Json::object();
  Json primary = Json::object();
  for (const auto& [name, info] : registry.capabilities()) {
    capabilities[name] = info.session;
    if (name == kCoreCapability) continue;
    account_capabilities[name] = info.account;
    primary[name] = id;
  }
  capabilities[std::string(kCoreCapability)] = core_capability(cfg.jmap);
  Json s{{"capabilities", std::move(capabilities)},
         {"accounts",
          {{id,
            {{"name", username},
             {"isPersonal", true},
             {"isReadOnly", false},
             {"accountCapabilities", std::move(account_capabilities)}}}}},
         {"primaryAccounts", std::move(primary)},
         {"username", username},
         {"apiUrl", base + "/jmap/api"},
         {"downloadUrl", base + "/jmap/download/{accountId}/{blobId}/{name}?accept={type}"},
         {"uploadUrl", base + "/jmap/upload/{accountId}/"},
         {"eventSourceUrl",
          base + "/jmap/eventsource?types={types}&closeafter={closeafter}&ping={ping}"}};
  s["state"] = session_state(s);
  return s;
}

std::string SessionStateCache::state(const core::Config& cfg, const MethodRegistry& registry,
                                     store::AccountId account, const std::string& username,
                                     std::string_view base_url) {
  std::string key = std::to_string(account);
  key.append(1, '\0').append(username).append(1, '\0').append(base_url);
  {
    std::lock_guard lock(mutex_);
    if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
  }
  std::string state =
      session_resource(cfg, registry, account, username, base_url)["state"].get<std::string>();
  std::lock_guard lock(mutex_);
  if (by_key_.size() >= kMaxEntries) by_key_.clear();
  by_key_.emplace(std::move(key), state);
  return state;
}

}  // namespace govmail::webmail::jmap
