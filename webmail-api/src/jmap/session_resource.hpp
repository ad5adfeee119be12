// The JMAP session resource (RFC 8620 2): capabilities with the configured limits, the one
// account of the authenticated user, and the URLs of the API, blobs and push.
#pragma once
#include <string>
#include <string_view>

#include "jmap/method.hpp"

namespace govmail::webmail::jmap {

// `base_url`: "https://host:port" as the client reached us.
Json session_resource(const core::Config& cfg, const MethodRegistry& registry,
                      store::AccountId account, const std::string& username,
                      std::string_view base_url);

// The "state" of a session resource: changes when its content does.
std::string session_state(const Json& session_without_state);

}  // namespace govmail::webmail::jmap
