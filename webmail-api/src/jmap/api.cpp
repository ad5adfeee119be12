#include "jmap/api.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/asio.hpp"

namespace govmail::webmail::jmap {

namespace {

Json error_response(const std::string& type, const std::string& description,
                    const std::string& call_id) {
  Json args{{"type", type}};
  if (!description.empty()) args["description"] = description;
  return Json::array({"error", std::move(args), call_id});
}

// A token never opens another account: every account argument must name the caller's own.
std::optional<CallError> check_accounts(const Json& args, const RequestContext& ctx) {
  for (const char* key : {"accountId", "fromAccountId"}) {
    auto it = args.find(key);
    if (it == args.end() || it->is_null()) continue;
    if (!it->is_string()) return CallError{"invalidArguments", std::string(key) + " is not an id"};
    if (*it != ctx.account_id_string)
      return CallError{"accountNotFound", std::string(key) + " is not an account of this user"};
  }
  return std::nullopt;
}

bool uses(const RequestContext& ctx, const std::string& capability) {
  return std::find(ctx.using_capabilities.begin(), ctx.using_capabilities.end(), capability) !=
         ctx.using_capabilities.end();
}

// Methods that change nothing (RFC 8620 5.1, 5.2, 5.5, 5.6; SearchSnippet/get, Core/echo).
bool reads_only(std::string_view method) {
  for (std::string_view suffix : {"/get", "/changes", "/query", "/queryChanges", "/echo"})
    if (method.ends_with(suffix)) return true;
  return false;
}

// One call: the response, or the responses it adds (implicit calls).
awaitable<void> run_call(Invocation& call, const MethodRegistry& registry, RequestContext& ctx,
                         std::vector<Json>& responses) {
  if (auto err = resolve_result_references(call.arguments, responses)) {
    responses.push_back(error_response(err->type, err->description, call.call_id));
    co_return;
  }
  const MethodRegistry::Entry* entry = registry.find(call.name);
  if (!entry || !uses(ctx, entry->capability)) {
    responses.push_back(error_response("unknownMethod", "", call.call_id));
    co_return;
  }
  if (auto err = check_accounts(call.arguments, ctx)) {
    responses.push_back(error_response(err->type, err->description, call.call_id));
    co_return;
  }
  ctx.extra_responses.clear();
  if (!reads_only(call.name)) ctx.read_state.reset();
  std::optional<Json> result;
  std::optional<MethodError> failed;
  try {
    result = co_await entry->handler(call.arguments, ctx);
  } catch (const MethodError& e) {
    failed = e;
  } catch (const std::exception& e) {
    spdlog::error("jmap: {} failed for account {}: {}", call.name, ctx.account_id, e.what());
    failed = MethodError{"serverFail", "internal error"};
  }
  if (failed) {
    responses.push_back(error_response(failed->type, failed->description, call.call_id));
    co_return;
  }
  responses.push_back(Json::array({call.name, std::move(*result), call.call_id}));
  for (auto& [name, args] : ctx.extra_responses)
    responses.push_back(Json::array({name, std::move(args), call.call_id}));
  ctx.extra_responses.clear();
}

}  // namespace

std::set<std::string> known_capabilities(const MethodRegistry& registry) {
  std::set<std::string> caps{std::string(kCoreCapability)};
  for (const auto& [cap, info] : registry.capabilities()) caps.insert(cap);
  return caps;
}

awaitable<Json> run_api_request(ApiRequest request, const MethodRegistry& registry,
                                RequestContext& ctx, std::string session_state) {
  ctx.using_capabilities = request.using_capabilities;
  ctx.registry = &registry;
  if (request.created_ids) ctx.created_ids = *request.created_ids;
  std::vector<Json> responses;
  for (Invocation& call : request.calls) co_await run_call(call, registry, ctx, responses);
  Json out{{"methodResponses", Json(std::move(responses))}, {"sessionState", session_state}};
  if (request.created_ids) out["createdIds"] = ctx.created_ids;
  co_return out;
}

}  // namespace govmail::webmail::jmap
