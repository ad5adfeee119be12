// Fuzz target for the JMAP request parser (RFC 8620 3.3): any body either parses into calls or
// gives a request-level error of RFC 8620 3.6.1, never crashes; result references and JSON
// pointers over what parsed never crash either; the URL helpers of the blob endpoints accept
// or refuse any text.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "jmap/request.hpp"
#include "jmap/url.hpp"

namespace {

using namespace govmail::webmail::jmap;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "jmap_request_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  RequestLimits limits{4096, 16};
  std::set<std::string> caps{"urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"};
  auto parsed = parse_api_request(body, limits, caps);
  if (auto* err = std::get_if<RequestError>(&parsed)) {
    require(err->type.starts_with(kErrorPrefix), "error type is a JMAP URN");
    require(err->status == 400, "request errors are 400");
    require(err->type.ends_with(":limit") == !err->limit.empty(), "limit errors name the limit");
    (void)err->problem().dump();
  } else {
    auto& req = std::get<ApiRequest>(parsed);
    require(req.calls.size() <= limits.max_calls_in_request, "call count bounded");
    std::vector<Json> responses;
    for (auto& call : req.calls) {
      require(call.arguments.is_object(), "arguments are an object");
      Json args = call.arguments;
      (void)resolve_result_references(args, responses);
      responses.push_back(Json::array({call.name, call.arguments, call.call_id}));
      for (auto it = call.arguments.begin(); it != call.arguments.end(); ++it)
        if (it->is_string()) (void)evaluate_pointer(call.arguments, it->get<std::string>());
    }
  }
  (void)query_param(body, "accept");
  (void)path_segments(body, "/jmap/download/");
  auto cd = content_disposition(body);
  require(cd.find('\r') == std::string::npos && cd.find('\n') == std::string::npos,
          "no header injection in Content-Disposition");
  return 0;
}
