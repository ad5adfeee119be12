// The JMAP session resource (RFC 8620 2): capabilities with the configured limits, the one
// account of the authenticated user, and the URLs of the API, blobs and push.
#pragma once
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "jmap/method.hpp"

namespace govmail::webmail::jmap {

// `base_url`: "https://host:port" as the client reached us.
Json session_resource(const core::Config& cfg, const MethodRegistry& registry,
                      store::AccountId account, const std::string& username,
                      std::string_view base_url);

// The "state" of a session resource: changes when its content does.
std::string session_state(const Json& session_without_state);

// The session state of each (account, username, base URL) as session_resource gives it. Every API
// response carries it, and building the resource to hash it was ~5% of govmail's CPU on a webmail
// page; the configuration and the methods are fixed for the life of the service that owns this.
// Bounded: emptied when it reaches kMaxEntries.
class SessionStateCache {
 public:
  std::string state(const core::Config& cfg, const MethodRegistry& registry,
                    store::AccountId account, const std::string& username,
                    std::string_view base_url);

 private:
  static constexpr std::size_t kMaxEntries = 10000;
  std::mutex mutex_;
  std::unordered_map<std::string, std::string> by_key_;
};

}  // namespace govmail::webmail::jmap
