// Fuzz target for MIME at ingest: parse_message must never crash, never throw, and always return
// JSON whose part offsets are nested inside the input.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "store/mime.hpp"

namespace {

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "mime_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

void check_part(const nlohmann::json& part, std::size_t lo, std::size_t hi) {
  const auto h = part.at("header_offset").get<std::size_t>();
  const auto b = part.at("body_offset").get<std::size_t>();
  const auto e = part.at("end_offset").get<std::size_t>();
  require(lo <= h && h <= b && b <= e && e <= hi, "offsets nested and ordered");
  if (part.contains("parts")) {
    require(!part["parts"].empty(), "multipart has parts");
    std::size_t prev = b;
    for (const auto& child : part["parts"]) {
      check_part(child, prev, e);
      prev = child["end_offset"].get<std::size_t>();
    }
  }
  if (part.contains("message")) check_part(part["message"]["body"], b, e);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  govmail::store::MimeLimits limits;
  limits.max_depth = 30;  // keep the recursive JSON check shallow and the run fast
  limits.max_parts = 2000;
  const govmail::store::ParsedMessage m = govmail::store::parse_message(raw, limits);
  try {
    const auto body = nlohmann::json::parse(m.bodystructure_json);
    check_part(body, 0, size);
    require(body["end_offset"].get<std::size_t>() == size, "root covers the input");
    const auto env = nlohmann::json::parse(m.envelope_json);
    require(env.contains("subject") && env.contains("from"), "envelope fields");
  } catch (const nlohmann::json::exception&) {
    require(false, "valid JSON with the documented fields");
  }
  require(m.search_text.size() <= limits.max_search_text, "search text bounded");
  require(m.search_text.find('\0') == std::string::npos, "no NUL in search text");
  return 0;
}
