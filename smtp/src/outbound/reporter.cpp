#include "reporter.hpp"

#include <spdlog/spdlog.h>

#include <map>

#include "core/asio.hpp"
#include "core/log.hpp"
#include "message.hpp"
#include "policy.hpp"
#include "smtp/backend.hpp"
#include "smtp/dsn.hpp"
#include "smtp/headers.hpp"

namespace govmail::smtp::outbound {
namespace {

DsnKind kind_of(const std::string& report) {
  if (report == "delayed") return DsnKind::delayed;
  if (report == "relayed") return DsnKind::relayed;
  return DsnKind::failed;
}

// Strips "rfc822;" from an ORCPT value (RFC 3461 4.2) and decodes nothing else: xtext stays as
// sent, which is what Original-Recipient shows.
std::string orcpt_address(const std::string& orcpt) {
  const auto semi = orcpt.find(';');
  return semi == std::string::npos ? orcpt : orcpt.substr(semi + 1);
}

DsnReport make_report(const std::string& hostname, const std::vector<store::ReportItem>& items,
                      std::string_view original) {
  const auto& first = items.front();
  DsnReport r;
  r.kind = kind_of(first.report);
  r.reporting_host = hostname;
  r.to = first.envelope_from;
  r.queue_id = "Q" + std::to_string(first.queue_id);
  r.envid = first.dsn_envid;
  r.date = rfc5322_date(std::chrono::system_clock::now());
  r.arrival_date = rfc5322_date(std::chrono::system_clock::from_time_t(first.created_at));
  const std::string_view body = without_return_path(original);
  if (r.kind == DsnKind::failed && first.dsn_ret == "FULL")
    r.full_message = std::string(body);
  else
    r.headers = std::string(header_block(body));
  for (const auto& x : items) {
    DsnRecipient d;
    d.original = x.dsn_orcpt.empty() ? "" : orcpt_address(x.dsn_orcpt);
    d.final_recipient = x.address;
    d.status = status_of_reply(x.reply);
    if (r.kind == DsnKind::relayed) d.status = "2.0.0";
    d.diagnostic = x.reply;
    d.remote_mta = x.host;
    r.recipients.push_back(std::move(d));
  }
  return r;
}

// Where the report goes: the sender's accounts when local, else the outbound queue.
awaitable<store::Result<std::optional<store::Delivery>>> address_report(Backend& backend,
                                                                        const std::string& sender,
                                                                        std::string raw) {
  store::Delivery d;  // envelope_from stays empty: reports go out from the null path
  d.raw = std::make_shared<const std::string>("Return-Path: <>\r\n" + raw);
  auto local = co_await backend.is_local_domain(domain_of_address(sender));
  if (!local) co_return unexpected(local.error());
  if (!*local) {
    d.remote.push_back({sender, "", ""});
    co_return std::optional<store::Delivery>(std::move(d));
  }
  auto res = co_await backend.resolve_recipient(sender);
  if (!res) {
    if (res.error() == store::StoreError::not_found) co_return std::nullopt;
    co_return unexpected(res.error());
  }
  for (const auto& a : res->accounts) d.local.push_back({a.id, std::nullopt});
  if (d.local.empty()) co_return std::nullopt;
  co_return std::optional<store::Delivery>(std::move(d));
}

awaitable<store::Result<void>> send_one(const std::string& hostname, store::OutboundQueue& queue,
                                        Backend& backend,
                                        const std::vector<store::ReportItem>& items) {
  const auto& first = items.front();
  auto original = co_await queue.message(first.message_id);
  if (!original) co_return unexpected(original.error());
  const DsnReport report = make_report(hostname, items, **original);
  std::string dsn = make_dsn(report);  // named: GCC 12 and temporaries in co_await (NOTES)
  auto addressed = co_await address_report(backend, first.envelope_from, std::move(dsn));
  if (!addressed) co_return unexpected(addressed.error());
  if (!*addressed) {
    spdlog::warn("outbound Q{}: {} report not stored: sender <{}> is not a local address",
                 first.queue_id, first.report, core::log_safe(first.envelope_from, 80));
    co_return store::Result<void>{};
  }
  auto delivered = co_await backend.deliver(std::move(**addressed));
  if (!delivered) {
    if (delivered.error() == store::StoreError::over_quota ||
        delivered.error() == store::StoreError::not_found) {
      spdlog::warn("outbound Q{}: {} report to <{}> dropped: {}", first.queue_id, first.report,
                   core::log_safe(first.envelope_from, 80), store::to_string(delivered.error()));
      co_return store::Result<void>{};
    }
    co_return unexpected(delivered.error());
  }
  spdlog::info("outbound Q{}: {} report for {} recipient(s) sent to <{}>", first.queue_id,
               first.report, items.size(), core::log_safe(first.envelope_from, 80));
  co_return store::Result<void>{};
}

}  // namespace

awaitable<store::Result<void>> send_reports(const std::string& hostname,
                                            store::OutboundQueue& queue, Backend& backend,
                                            std::vector<store::ReportItem> items) {
  std::map<std::pair<std::int64_t, std::string>, std::vector<store::ReportItem>> groups;
  for (auto& x : items) {
    if (x.envelope_from.empty()) continue;  // never report on a report
    auto key = std::make_pair(x.queue_id, x.report);
    groups[key].push_back(std::move(x));
  }
  for (const auto& [key, group] : groups)
    if (auto r = co_await send_one(hostname, queue, backend, group); !r) co_return r;
  co_return store::Result<void>{};
}

}  // namespace govmail::smtp::outbound
