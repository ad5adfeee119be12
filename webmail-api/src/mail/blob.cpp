#include "mail/blob.hpp"

#include "mail/common.hpp"
#include "store/database.hpp"
#include "store/mail_store.hpp"
#include "store/mailbox_store.hpp"
#include "store/mime.hpp"

namespace govmail::webmail::mail {
namespace {

const Json* find_section(const Json& part, const std::string& section) {
  if (part.value("section", "") == section && !part.contains("parts")) return &part;
  if (auto p = part.find("parts"); p != part.end())
    for (const auto& c : *p)
      if (auto f = find_section(c, section)) return f;
  return nullptr;
}

}  // namespace

std::string message_blob_id(const std::string& sha256_hex) {
  return "G" + sha256_hex;
}

std::string part_blob_id(store::MessageId message, const std::string& section) {
  return "B" + std::to_string(message) + "_" + section;
}

awaitable<std::optional<std::string>> read_blob(RequestContext& ctx, std::string blob_id) {
  std::optional<jmap::BlobContent> b;
  if (ctx.registry)
    b = co_await jmap::read_blob(std::move(blob_id), ctx);
  else  // no registry (direct calls in tests): parts, then stored blobs
    b = co_await resolve_part_blob(blob_id, ctx);
  if (!b) co_return std::nullopt;
  co_return std::move(b->data);
}

awaitable<std::optional<jmap::BlobContent>> resolve_part_blob(const std::string& blob_id,
                                                              RequestContext& ctx) {
  const auto sep = blob_id.find('_');
  const auto message =
      sep == std::string::npos ? std::nullopt : parse_id('B', blob_id.substr(0, sep));
  if (!message) {
    auto stored = co_await jmap::read_stored_blob(blob_id, ctx);
    co_return stored;
  }
  std::vector<store::MessageId> ids{*message};
  auto records =
      ok_or_throw(co_await ctx.db->mail().emails(ctx.account_id, ids, store::MailStore::Meta::all));
  if (records.empty()) co_return std::nullopt;
  const Json bs = Json::parse(records.front().bodystructure_json);
  const Json* part = find_section(bs, blob_id.substr(sep + 1));
  if (!part) co_return std::nullopt;
  const auto b = part->value("body_offset", std::uint64_t{0});
  const auto e = part->value("end_offset", std::uint64_t{0});
  auto raw = co_await ctx.db->mailboxes().fetch_raw(ctx.account_id, *message, b, e > b ? e - b : 0);
  if (!raw) {
    if (raw.error() == store::StoreError::not_found) co_return std::nullopt;
    throw_store(raw.error());
  }
  jmap::BlobContent out;
  out.data = store::decode_transfer_encoding(*raw, part->value("encoding", "7BIT"));
  out.type = part->value("type", "application") + "/" + part->value("subtype", "octet-stream");
  co_return out;
}

}  // namespace govmail::webmail::mail
