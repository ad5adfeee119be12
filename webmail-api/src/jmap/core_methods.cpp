// Core/echo (RFC 8620 4) and the helpers of the seam that every method may use.

#include "auth/credentials.hpp"
#include "core/asio.hpp"
#include "core/hex.hpp"
#include "jmap/method.hpp"
#include "store/database.hpp"
#include "store/jmap_store.hpp"

namespace govmail::webmail::jmap {

namespace {

awaitable<Json> echo(const Json& arguments, RequestContext&) {
  co_return arguments;
}

// "G" + 64 lower-case hex digits -> the 32 raw bytes.
std::optional<std::string> blob_sha256(std::string_view id) {
  if (id.size() != 65 || id[0] != 'G') return std::nullopt;
  std::string raw;
  for (std::size_t i = 1; i < id.size(); i += 2) {
    auto digit = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = digit(id[i]), lo = digit(id[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    raw += static_cast<char>(hi * 16 + lo);
  }
  return raw;
}

}  // namespace

void register_core_methods(MethodRegistry& registry) {
  registry.add("Core/echo", std::string(kCoreCapability), echo);
}

std::string account_id_string(store::AccountId id) {
  return "a" + std::to_string(id);
}

std::string blob_id_for_sha256(std::string_view raw_digest) {
  return "G" + core::to_hex(raw_digest);
}

std::optional<std::string> resolve_creation_id(const std::string& id, const RequestContext& ctx) {
  if (id.empty() || id[0] != '#') return id;
  auto it = ctx.created_ids.find(id.substr(1));
  if (it == ctx.created_ids.end()) return std::nullopt;
  return it->second;
}

awaitable<std::optional<BlobContent>> read_stored_blob(std::string blob_id, RequestContext& ctx) {
  auto raw = blob_sha256(blob_id);
  if (!raw) co_return std::nullopt;
  auto blob = co_await ctx.db->jmap().read_blob(ctx.account_id, std::move(*raw));
  if (blob) co_return BlobContent{std::move(blob->data), std::move(blob->type)};
  if (blob.error() != store::StoreError::not_found)
    throw MethodError{"serverFail", "blob store unavailable"};
  co_return std::nullopt;
}

awaitable<std::optional<BlobContent>> read_blob(std::string blob_id, RequestContext& ctx) {
  if (blob_sha256(blob_id)) {
    auto stored = co_await read_stored_blob(std::move(blob_id), ctx);
    co_return stored;
  }
  if (ctx.registry && ctx.registry->blob_resolver()) {
    auto found = co_await ctx.registry->blob_resolver()(blob_id, ctx);
    co_return found;
  }
  co_return std::nullopt;
}

}  // namespace govmail::webmail::jmap
