// The vacation response (JMAP VacationResponse, RFC 8621 8) on local delivery: after the
// message has committed, each local recipient that is away and was named in To/Cc answers the
// envelope sender once per period (RFC 3834), from the null reverse-path, through the same
// delivery path as any message (local INBOX or the outbound queue). A failure here never
// changes the answer to the message already delivered: it is logged.
#include <spdlog/spdlog.h>

#include "core/asio.hpp"
#include "core/log.hpp"
#include "session_impl.hpp"
#include "smtp/auto_reply.hpp"

namespace govmail::smtp {
namespace {

std::vector<std::string> names_of(const LocalAccount& a) {
  std::vector<std::string> out = a.addressed_as;
  out.push_back(a.account.address);
  return out;
}

// Where the reply goes: the sender's own account(s) when local (never a group: a reply to a
// list of people is what RFC 3834 forbids), the outbound queue otherwise. False: nowhere.
awaitable<store::Result<bool>> address_reply(Session::Impl& s, store::Delivery& d) {
  const std::string& sender = s.tx.from.address;
  auto local = co_await s.is_local_domain(std::string(domain_of(sender)));
  if (!local) co_return unexpected(local.error());
  if (!*local) {
    d.remote.push_back({sender, "", ""});
    co_return true;
  }
  auto res = co_await s.backend.resolve_recipient(lower_ascii(sender));
  if (!res) {
    if (res.error() == store::StoreError::not_found) co_return false;
    co_return unexpected(res.error());
  }
  if (res->is_group) co_return false;
  for (const auto& a : res->accounts) d.local.push_back({a.id, std::nullopt});
  co_return !d.local.empty();
}

awaitable<store::Result<void>> reply_for(Session::Impl& s, const LocalAccount& who,
                                         const store::VacationResponse& v) {
  AutoReply r;
  r.from = who.account.address;
  r.to = s.tx.from.address;
  r.subject = v.subject.value_or("");
  r.text_body = v.text_body.value_or("");
  r.html_body = v.html_body;
  r.date = rfc5322_date(std::chrono::system_clock::now());
  r.message_id = "vacation." + make_queue_id() + "@" + s.cfg.hostname;
  store::Delivery d;  // envelope_from stays empty: auto-replies use the null path (RFC 3834 3.3)
  d.raw =
      std::make_shared<const std::string>("Return-Path: <>\r\n" + build_auto_reply(r, s.tx.body));
  auto addressed = co_await address_reply(s, d);
  if (!addressed) co_return unexpected(addressed.error());
  if (!*addressed) co_return store::Result<void>{};
  auto delivered = co_await s.backend.deliver(std::move(d));
  if (!delivered) co_return unexpected(delivered.error());
  co_return store::Result<void>{};
}

}  // namespace

awaitable<void> send_vacation_replies(Session::Impl& s) {
  if (s.tx.to_junk || !may_auto_reply(s.tx.from.address, s.tx.body)) co_return;
  const auto resend = static_cast<std::int64_t>(s.cfg.vacation_resend_after.count());
  for (const auto& [id, who] : s.tx.accounts) {
    if (who.only_via_group || lower_ascii(who.account.address) == lower_ascii(s.tx.from.address))
      continue;
    if (!names_recipient(s.tx.body, names_of(who))) continue;
    auto claimed =
        co_await s.backend.claim_vacation_reply(id, lower_ascii(s.tx.from.address), resend);
    if (!claimed) {
      spdlog::warn("smtp tx id={} vacation of account {}: {}", s.tx.queue_id, id,
                   store::to_string(claimed.error()));
      continue;
    }
    if (!*claimed) continue;  // not away, or this sender was answered already
    auto sent = co_await reply_for(s, who, **claimed);
    if (sent)
      spdlog::info("smtp tx id={} vacation reply of account {} to <{}>", s.tx.queue_id, id,
                   core::log_safe(s.tx.from.address, 80));
    else
      spdlog::warn("smtp tx id={} vacation reply of account {} not sent: {}", s.tx.queue_id, id,
                   store::to_string(sent.error()));
  }
}

}  // namespace govmail::smtp
