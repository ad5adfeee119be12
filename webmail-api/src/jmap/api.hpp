// The JMAP API endpoint without HTTP: runs a parsed request's method calls in order against the
// registry (RFC 8620 3.3-3.7), resolving result references, checking "using" and accountId, and
// turning every failure of one call into its method-level error.
#pragma once
#include <set>
#include <string>

#include "core/awaitable_fwd.hpp"
#include "jmap/method.hpp"
#include "jmap/request.hpp"

namespace govmail::webmail::jmap {

// The Response object ({"methodResponses", "sessionState", "createdIds"?}).
awaitable<Json> run_api_request(ApiRequest request, const MethodRegistry& registry,
                                RequestContext& ctx, std::string session_state);

// Capabilities "using" may name: core and every capability a method is registered under.
std::set<std::string> known_capabilities(const MethodRegistry& registry);

}  // namespace govmail::webmail::jmap
