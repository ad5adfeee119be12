// The JMAP API request (RFC 8620 3.3) without I/O: size and nesting checked before parsing,
// the Request object validated into invocations, result references resolved (3.7), and the
// request-level errors (3.6.1) as problem details (RFC 7807).
#pragma once
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace govmail::webmail::jmap {

using Json = nlohmann::json;

inline constexpr std::size_t kMaxJsonDepth = 64;  // deeper input is refused before parsing

struct RequestLimits {
  std::size_t max_size_request = 10 << 20;
  std::size_t max_calls_in_request = 32;
};

struct Invocation {
  std::string name;
  Json arguments;  // an object
  std::string call_id;
};

struct ApiRequest {
  std::vector<std::string> using_capabilities;
  std::vector<Invocation> calls;
  std::optional<std::map<std::string, std::string>> created_ids;
};

// A request-level error: the whole request is refused with `status` and problem details.
struct RequestError {
  std::string type;  // full URN, e.g. "urn:ietf:params:jmap:error:notJSON"
  int status = 400;
  std::string detail;
  std::string limit;  // with type ...:limit: the name of the limit (RFC 8620 3.6.1)
  Json problem() const;
};

inline constexpr std::string_view kErrorPrefix = "urn:ietf:params:jmap:error:";

// True when the JSON text nests arrays/objects deeper than max_depth (strings are skipped).
bool json_too_deep(std::string_view text, std::size_t max_depth);

// Parses and validates a request body. `known_capabilities`: what "using" may name.
std::variant<ApiRequest, RequestError> parse_api_request(
    std::string_view body, const RequestLimits& limits,
    const std::set<std::string>& known_capabilities);

// RFC 6901 JSON pointer with the JMAP "*" extension (RFC 8620 3.7): "*" maps the rest of the
// pointer over an array, flattening array results. nullopt when the path does not resolve.
std::optional<Json> evaluate_pointer(const Json& value, std::string_view pointer);

// A method-level error found while preparing a call (type is the bare name, e.g.
// "invalidResultReference").
struct CallError {
  std::string type;
  std::string description;
};

// Replaces every "#name": ResultReference of `arguments` by "name": the referenced value, looked
// up in the responses so far ([name, arguments, callId] triples). An error for a reference that
// does not resolve, or an argument given both with and without '#'.
std::optional<CallError> resolve_result_references(Json& arguments,
                                                   const std::vector<Json>& responses);

}  // namespace govmail::webmail::jmap
