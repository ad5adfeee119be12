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

awaitable<std::optional<std::string>> read_blob(RequestContext& ctx, std::string blob_id) {
  if (blob_id.size() < 2 || blob_id[0] != 'B') {
    // TODO(jmap-core): uploads (RFC 8620 6.1) are read through jmap core's upload store.
    co_return std::nullopt;
  }
  const auto sep = blob_id.find('_');
  const auto message = parse_id('B', blob_id.substr(0, sep));
  if (!message) co_return std::nullopt;
  auto raw = co_await ctx.db->mailboxes().fetch_raw(ctx.account_id, *message, 0, std::nullopt);
  if (!raw) {
    if (raw.error() == store::StoreError::not_found) co_return std::nullopt;
    throw_store(raw.error());
  }
  if (sep == std::string::npos) co_return std::move(*raw);
  std::vector<store::MessageId> ids{*message};
  auto records = ok_or_throw(co_await ctx.db->mail().emails(ctx.account_id, ids, true));
  if (records.empty()) co_return std::nullopt;
  const Json bs = Json::parse(records.front().bodystructure_json);
  const Json* part = find_section(bs, blob_id.substr(sep + 1));
  if (!part) co_return std::nullopt;
  const auto b = part->value("body_offset", std::size_t{0});
  const auto e = std::min(part->value("end_offset", std::size_t{0}), raw->size());
  if (b > e) co_return std::string();
  co_return store::decode_transfer_encoding(std::string_view(*raw).substr(b, e - b),
                                            part->value("encoding", "7BIT"));
}

}  // namespace govmail::webmail::mail
