#include "store/vacation.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include "core/ascii.hpp"
#include "core/asio.hpp"
#include "core/hex.hpp"
#include "core/log.hpp"
#include "core/mail_date.hpp"
#include "store/auto_reply.hpp"
#include "store/database.hpp"
#include "store/directory.hpp"
#include "store/mail_store.hpp"
#include "store/mailbox_store.hpp"

namespace govmail::store {
namespace {

std::string random_id() {
  unsigned char bytes[12] = {};
  if (RAND_bytes(bytes, sizeof bytes) == 1)
    return core::to_hex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
  // No entropy (should not happen): the clock still makes the id unique on this host.
  return std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
}

// Where the reply goes: the sender's own account(s) when local (never a group: a reply to a
// list of people is what RFC 3834 forbids), the outbound queue otherwise. False: nowhere.
awaitable<Result<bool>> address_reply(Database& db, const std::string& sender, Delivery& d) {
  const auto at = sender.rfind('@');
  if (at == std::string::npos) co_return false;
  auto domain = co_await db.directory().find_domain(sender.substr(at + 1));
  if (!domain) {
    if (domain.error() != StoreError::not_found) co_return unexpected(domain.error());
    d.remote.push_back({sender, "", ""});
    co_return true;
  }
  auto res = co_await db.directory().resolve_recipient(core::ascii_lower(sender));
  if (!res) {
    if (res.error() == StoreError::not_found) co_return false;
    co_return unexpected(res.error());
  }
  if (res->is_group) co_return false;
  for (const auto& a : res->accounts) d.local.push_back({a.id, std::nullopt});
  co_return !d.local.empty();
}

awaitable<Result<bool>> reply_for(Database& db, const VacationDelivery& in,
                                  const VacationRecipient& who, const VacationResponse& v) {
  AutoReply r;
  r.from = who.address;
  r.to = in.sender;
  r.subject = v.subject.value_or("");
  r.text_body = v.text_body.value_or("");
  r.html_body = v.html_body;
  r.date = core::rfc5322_date(std::chrono::system_clock::now());
  r.message_id = "vacation." + random_id() + "@" + in.hostname;
  Delivery d;  // envelope_from stays empty: auto-replies use the null path (RFC 3834 3.3)
  d.raw =
      std::make_shared<const std::string>("Return-Path: <>\r\n" + build_auto_reply(r, in.message));
  auto addressed = co_await address_reply(db, in.sender, d);
  if (!addressed || !*addressed) co_return addressed;
  auto delivered = co_await db.mailboxes().deliver(std::move(d));
  if (!delivered) co_return unexpected(delivered.error());
  co_return true;
}

std::vector<std::string> names_of(const VacationRecipient& who) {
  std::vector<std::string> out = who.addressed_as;
  out.push_back(who.address);
  return out;
}

}  // namespace

awaitable<void> send_vacation_replies(Database& db, VacationDelivery d) {
  if (!may_auto_reply(d.sender, d.message)) co_return;
  const std::string sender = core::ascii_lower(d.sender);
  const auto resend = static_cast<std::int64_t>(d.resend_after.count());
  for (const auto& who : d.recipients) {
    if (core::ascii_lower(who.address) == sender || !names_recipient(d.message, names_of(who)))
      continue;
    auto claimed = co_await db.mail().claim_vacation_reply(who.id, sender, resend);
    if (!claimed) {
      spdlog::warn("{} vacation of account {}: {}", d.log_context, who.id,
                   to_string(claimed.error()));
      continue;
    }
    if (!*claimed) continue;  // not away, or this sender was answered already
    auto sent = co_await reply_for(db, d, who, **claimed);
    if (!sent)
      spdlog::warn("{} vacation reply of account {} not sent: {}", d.log_context, who.id,
                   to_string(sent.error()));
    else if (*sent)
      spdlog::info("{} vacation reply of account {} to <{}>", d.log_context, who.id,
                   core::log_safe(d.sender, 80));
  }
}

}  // namespace govmail::store
