// Group members left out for a full mailbox: after the message is committed for everyone else,
// one RFC 3464 report goes to the envelope sender, stored in the sender's INBOX when the sender
// is local, queued for the outbound side otherwise. Never for the null sender (RFC 5321 4.5.5).
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
    r.recipients.push_back({k.group, k.member, "5.2.2", "552 5.2.2 Mailbox full"});
  }
  return r;
}

// The sender's accounts when it is local, or a remote recipient for the outbound queue.
awaitable<store::Result<store::Delivery>> addressed_to_sender(Session::Impl& s) {
  store::Delivery d;  // envelope_from stays empty: a report is sent from the null path
  const std::string& sender = s.tx.from.address;
  auto local = co_await s.is_local_domain(std::string(domain_of(sender)));
  if (!local) co_return unexpected(local.error());
  if (!*local) {
    d.remote.push_back({sender, "", ""});
    co_return d;
  }
  auto res = co_await s.backend.resolve_recipient(lower_ascii(sender));
  if (!res) co_return unexpected(res.error());
  if (res->is_group && s.auth) {  // sent as a group: the report goes to the one who sent it
    d.local.push_back({s.auth->account, std::nullopt});
    co_return d;
  }
  for (const auto& a : res->accounts) d.local.push_back({a.id, std::nullopt});
  co_return d;
}

}  // namespace

awaitable<void> bounce_skipped(Session::Impl& s) {
  if (s.tx.skipped.empty() || s.tx.from.address.empty()) co_return;
  auto d = co_await addressed_to_sender(s);
  store::StoreError error = d ? store::StoreError::temporary : d.error();
  if (d) {
    const auto report = make_report(s);
    d->raw = std::make_shared<const std::string>("Return-Path: <>\r\n" + make_failure_dsn(report));
    auto done = co_await s.backend.deliver(std::move(*d));
    if (done) {
      spdlog::info("smtp tx id={} DSN for {} group member(s) over quota sent to <{}>",
                   s.tx.queue_id, report.recipients.size(), core::log_safe(s.tx.from.address, 80));
      co_return;
    }
    error = done.error();
  }
  spdlog::error("smtp tx id={} DSN to <{}> for group members over quota not stored: {}",
                s.tx.queue_id, core::log_safe(s.tx.from.address, 80), store::to_string(error));
}

}  // namespace govmail::smtp
