#include "jmap/request.hpp"

#include <charconv>

namespace govmail::webmail::jmap {

namespace {

RequestError error(std::string_view type, std::string detail, std::string limit = {}) {
  return RequestError{std::string(kErrorPrefix) + std::string(type), 400, std::move(detail),
                      std::move(limit)};
}

bool is_string_array(const Json& v) {
  if (!v.is_array()) return false;
  for (const auto& e : v)
    if (!e.is_string()) return false;
  return true;
}

// "a~1b" -> "a/b", "m~0n" -> "m~n" (RFC 6901 4). nullopt for a bad escape.
std::optional<std::string> unescape_token(std::string_view token) {
  std::string out;
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] != '~') {
      out += token[i];
      continue;
    }
    if (i + 1 >= token.size()) return std::nullopt;
    char c = token[++i];
    if (c == '0')
      out += '~';
    else if (c == '1')
      out += '/';
    else
      return std::nullopt;
  }
  return out;
}

std::optional<Json> evaluate_tokens(const Json& value, const std::vector<std::string>& tokens,
                                    std::size_t at) {
  const Json* cur = &value;
  for (std::size_t i = at; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    if (cur->is_object()) {
      auto it = cur->find(t);
      if (it == cur->end()) return std::nullopt;
      cur = &*it;
    } else if (cur->is_array()) {
      if (t == "*") {
        Json out = Json::array();
        for (const auto& item : *cur) {
          auto r = evaluate_tokens(item, tokens, i + 1);
          if (!r) return std::nullopt;
          if (r->is_array()) {
            for (auto& e : *r) out.push_back(std::move(e));
          } else {
            out.push_back(std::move(*r));
          }
        }
        return out;
      }
      std::size_t index = 0;
      if (t.empty() || (t.size() > 1 && t[0] == '0')) return std::nullopt;
      auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), index);
      if (ec != std::errc() || p != t.data() + t.size() || index >= cur->size())
        return std::nullopt;
      cur = &(*cur)[index];
    } else {
      return std::nullopt;
    }
  }
  return *cur;
}

}  // namespace

Json RequestError::problem() const {
  Json j{{"type", type}, {"status", status}, {"detail", detail}};
  if (!limit.empty()) j["limit"] = limit;
  return j;
}

bool json_too_deep(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

std::variant<ApiRequest, RequestError> parse_api_request(
    std::string_view body, const RequestLimits& limits,
    const std::set<std::string>& known_capabilities) {
  if (body.size() > limits.max_size_request) {
    return error("limit", "request larger than maxSizeRequest", "maxSizeRequest");
  }
  if (json_too_deep(body, kMaxJsonDepth)) {
    return error("notJSON", "JSON nested deeper than " + std::to_string(kMaxJsonDepth));
  }
  Json doc = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return error("notJSON", "the request body is not valid JSON");
  if (!doc.is_object()) return error("notRequest", "the request is not a JSON object");

  auto using_it = doc.find("using");
  auto calls_it = doc.find("methodCalls");
  if (using_it == doc.end() || !is_string_array(*using_it))
    return error("notRequest", "\"using\" must be an array of strings");
  if (calls_it == doc.end() || !calls_it->is_array())
    return error("notRequest", "\"methodCalls\" must be an array");

  ApiRequest req;
  for (const auto& cap : *using_it) {
    const auto& name = cap.get_ref<const std::string&>();
    if (!known_capabilities.contains(name)) {
      return error("unknownCapability",
                   "the server does not support the capability \"" + name.substr(0, 200) + "\"");
    }
    req.using_capabilities.push_back(name);
  }
  if (calls_it->size() > limits.max_calls_in_request) {
    return error("limit", "more method calls than maxCallsInRequest", "maxCallsInRequest");
  }
  for (auto& call : *calls_it) {
    if (!call.is_array() || call.size() != 3 || !call[0].is_string() || !call[1].is_object() ||
        !call[2].is_string()) {
      return error("notRequest", "each method call must be [name, arguments, callId]");
    }
    req.calls.push_back(
        Invocation{call[0].get<std::string>(), std::move(call[1]), call[2].get<std::string>()});
  }
  if (auto ids = doc.find("createdIds"); ids != doc.end()) {
    if (!ids->is_object()) return error("notRequest", "\"createdIds\" must be an object");
    std::map<std::string, std::string> m;
    for (auto it = ids->begin(); it != ids->end(); ++it) {
      if (!it.value().is_string()) return error("notRequest", "\"createdIds\" values are ids");
      m[it.key()] = it.value().get<std::string>();
    }
    req.created_ids = std::move(m);
  }
  return req;
}

std::optional<Json> evaluate_pointer(const Json& value, std::string_view pointer) {
  // RFC 8620 3.7: a path is a JSON pointer; accept the empty pointer (the whole value) too.
  std::vector<std::string> tokens;
  if (!pointer.empty()) {
    if (pointer[0] != '/') return std::nullopt;
    std::size_t start = 1;
    for (;;) {
      std::size_t slash = pointer.find('/', start);
      auto raw = pointer.substr(start, slash == std::string_view::npos ? slash : slash - start);
      auto token = unescape_token(raw);
      if (!token) return std::nullopt;
      tokens.push_back(std::move(*token));
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
  }
  return evaluate_tokens(value, tokens, 0);
}

std::optional<CallError> resolve_result_references(Json& arguments,
                                                   const std::vector<Json>& responses) {
  std::vector<std::string> refs;
  for (auto it = arguments.begin(); it != arguments.end(); ++it)
    if (!it.key().empty() && it.key()[0] == '#') refs.push_back(it.key());
  for (const std::string& key : refs) {
    std::string plain = key.substr(1);
    if (arguments.contains(plain)) {
      return CallError{"invalidArguments", "both \"" + plain + "\" and \"" + key + "\" given"};
    }
    const Json& ref = arguments[key];
    if (!ref.is_object() || !ref.contains("resultOf") || !ref["resultOf"].is_string() ||
        !ref.contains("name") || !ref["name"].is_string() || !ref.contains("path") ||
        !ref["path"].is_string()) {
      return CallError{"invalidResultReference",
                       "\"" + key + "\" is not a ResultReference {resultOf, name, path}"};
    }
    const auto& result_of = ref["resultOf"].get_ref<const std::string&>();
    const auto& name = ref["name"].get_ref<const std::string&>();
    const Json* found = nullptr;
    for (const Json& r : responses) {
      if (r[2] == result_of) {
        found = &r;
        break;
      }
    }
    if (!found || (*found)[0] != name) {
      return CallError{"invalidResultReference",
                       "no earlier response \"" + name + "\" with callId \"" + result_of + "\""};
    }
    auto value = evaluate_pointer((*found)[1], ref["path"].get_ref<const std::string&>());
    if (!value) {
      return CallError{"invalidResultReference", "the path of \"" + key + "\" does not resolve"};
    }
    arguments.erase(key);
    arguments[plain] = std::move(*value);
  }
  return std::nullopt;
}

}  // namespace govmail::webmail::jmap
