// Group members left out for a full mailbox: one RFC 3464 report to the envelope sender, stored
// in the sender's INBOX when the sender is local, queued for the outbound side otherwise. It is
// a companion of the message (store::Delivery::companions): both commit in one transaction, so
// 250 means the report is durable too and a crash never keeps one without the other. Never for
// the null sender (RFC 5321 4.5.5).
#include <set>

#include <spdlog/spdlog.h>

#include "core/asio.hpp"
#include "core/log.hpp"
#include "session_impl.hpp"
#include "smtp/dsn.hpp"

namespace govmail::smtp {
namespace {

DsnReport make_report(const Session::Impl& s) {
  DsnReport r;
  r.reporting_host = s.cfg.hostname;
  r.to = s.tx.from.address;
  r.queue_id = s.tx.queue_id;
  r.envid = s.tx.from.envid;
  r.date = rfc5322_date(std::chrono::system_clock::now());
  r.headers = std::string(header_block(s.tx.body));
  std::set<std::string> seen;  // a member full in two groups is reported once
  for (const auto& k : s.tx.skipped) {
    if (!seen.insert(k.member).second) continue;
    r.recipients.push_back({k.group, k.member, "5.2.2", "552 5.2.2 Mailbox full", "", ""});
  }
  return r;
}

// Local accounts of the sender that have room for the report: a sender whose own mailbox is full
// does not lose the message for everyone else (the report is dropped, and logged).
void add_with_room(Session::Impl& s, store::Delivery& d,
                   const std::vector<store::RecipientAccount>& accounts, std::uint64_t size) {
  for (const auto& a : accounts) {
    const bool gets_message = s.tx.accounts.count(a.id) > 0;  // also charged for the message
    if (over_quota(a, size + (gets_message ? s.tx.body.size() : 0))) {
      spdlog::warn("smtp tx id={} DSN not stored for account {}: mailbox full", s.tx.queue_id,
                   a.id);
      continue;
    }
    d.local.push_back({a.id, std::nullopt});
  }
}

// The sender's accounts when it is local, or a remote recipient for the outbound queue. An
// unknown local sender gets no report (not_found is not an error here).
awaitable<store::Result<void>> address_to_sender(Session::Impl& s, store::Delivery& d) {
  const std::string& sender = s.tx.from.address;
  auto local = co_await s.is_local_domain(std::string(domain_of(sender)));
  if (!local) co_return unexpected(local.error());
  if (!*local) {
    d.remote.push_back({sender, "", ""});
    co_return store::Result<void>{};
  }
  auto res = co_await s.backend.resolve_recipient(lower_ascii(sender));
  if (!res) {
    if (res.error() == store::StoreError::not_found) co_return store::Result<void>{};
    co_return unexpected(res.error());
  }
  const auto size = d.raw->size();
  if (res->is_group && s.auth) {  // sent as a group: the report goes to the one who sent it
    d.local.push_back({s.auth->account, std::nullopt});
    co_return store::Result<void>{};
  }
  add_with_room(s, d, res->accounts, size);
  co_return store::Result<void>{};
}

}  // namespace

awaitable<std::optional<Reply>> attach_bounce(Session::Impl& s, store::Delivery& message) {
  if (s.tx.skipped.empty() || s.tx.from.address.empty()) co_return std::nullopt;
  store::Delivery d;  // envelope_from stays empty: a report is sent from the null path
  d.raw =
      std::make_shared<const std::string>("Return-Path: <>\r\n" + make_failure_dsn(make_report(s)));
  if (auto addressed = co_await address_to_sender(s, d); !addressed) {
    spdlog::error("smtp tx id={} DSN to <{}> for group members over quota: {}", s.tx.queue_id,
                  core::log_safe(s.tx.from.address, 80), store::to_string(addressed.error()));
    co_return store_error_reply(addressed.error(), s.tx.queue_id);
  }
  if (d.local.empty() && d.remote.empty()) co_return std::nullopt;  // nowhere to put it
  message.companions.push_back(std::move(d));
  co_return std::nullopt;
}

}  // namespace govmail::smtp
