#include "sts.hpp"

#include <spdlog/spdlog.h>

#include "core/asio.hpp"
#include "core/dns.hpp"
#include "core/https_client.hpp"
#include "core/log.hpp"
#include "store/mta_sts.hpp"

namespace govmail::smtp::outbound {

using namespace std::chrono_literals;
using mta_sts::Mode;
using mta_sts::Policy;

namespace {

// RFC 8461 3.3: refresh cached policies proactively, about once a day; after a failed fetch wait
// at least five minutes before fetching the same id again.
constexpr std::int64_t kRefreshSeconds = 86400;
constexpr auto kRetryFailedFetch = 5min;

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<Policy> applicable(std::optional<Policy> p) {
  if (p && p->mode == Mode::none) return std::nullopt;  // RFC 8461 5: as if there were none
  return p;
}

awaitable<void> sleep_for(Executor ex, std::chrono::milliseconds d) {
  asio::steady_timer t(ex, d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
}

}  // namespace

StsPolicies::StsPolicies(Executor ex, std::shared_ptr<core::Resolver> resolver,
                         store::MtaStsCache& cache, StsSettings settings)
    : ex_(ex), resolver_(std::move(resolver)), cache_(cache), settings_(std::move(settings)) {}

awaitable<std::optional<Policy>> StsPolicies::lookup(std::string domain) {
  const std::int64_t now = now_unix();
  std::string record_name = "_mta-sts." + domain;  // named: GCC 12 (docs/NOTES.md)
  const core::TxtAnswer txt = co_await resolver_->txt(std::move(record_name));

  std::optional<store::MtaStsEntry> entry;
  std::optional<Policy> cached;  // unexpired
  auto got = co_await cache_.get(domain);
  if (got) {
    entry = std::move(*got);
    if (entry->expires_at > now)
      if (auto p = mta_sts::parse_policy(entry->policy)) cached = std::move(*p);
  } else if (got.error() != store::StoreError::not_found) {
    spdlog::warn("outbound {}: reading the cached MTA-STS policy failed: {}",
                 core::log_safe(domain), store::to_string(got.error()));
  }

  // No usable record (none, NXDOMAIN, a DNS failure, several records, an invalid one): a cached
  // unexpired policy still applies (RFC 8461 3.3), else the domain has none.
  if (txt.status != core::DnsStatus::ok) co_return applicable(cached);
  const mta_sts::Discovery found = mta_sts::select_record(txt.texts);
  if (found.status != mta_sts::Discovery::Status::record) {
    if (found.status != mta_sts::Discovery::Status::none)
      spdlog::info(
          "outbound {}: {} MTA-STS record", core::log_safe(domain),
          found.status == mta_sts::Discovery::Status::multiple ? "more than one" : "an invalid");
    co_return applicable(cached);
  }
  if (cached && entry->policy_id == found.id && now - entry->fetched_at < kRefreshSeconds)
    co_return applicable(cached);
  if (recently_failed(domain, found.id)) co_return applicable(cached);

  if (!begin_fetch(domain)) {
    // Another runner of this process is fetching it: wait for that one, then read its result.
    const auto until = std::chrono::steady_clock::now() + settings_.timeout + 1s;
    while (std::chrono::steady_clock::now() < until) {
      co_await sleep_for(ex_, 50ms);
      std::lock_guard lock(mu_);
      if (!fetching_.contains(domain)) break;
    }
    if (auto again = co_await cache_.get(domain); again && again->expires_at > now_unix())
      if (auto p = mta_sts::parse_policy(again->policy)) co_return applicable(std::move(*p));
    co_return applicable(cached);
  }
  struct Done {
    StsPolicies* self;
    std::string domain;
    ~Done() { self->end_fetch(domain); }
  } done{this, domain};

  Fetched f = co_await fetch(domain);
  if (f.policy) {
    store::MtaStsEntry e{domain, found.id, std::move(f.body), now, now + f.policy->max_age};
    if (auto put = co_await cache_.put(std::move(e)); !put)
      spdlog::warn("outbound {}: caching the MTA-STS policy failed: {}", core::log_safe(domain),
                   store::to_string(put.error()));
    spdlog::info("outbound {}: MTA-STS policy id {} fetched: mode {}, {} mx pattern(s), max_age {}",
                 core::log_safe(domain), core::log_safe(found.id),
                 mta_sts::to_string(f.policy->mode), f.policy->mx.size(), f.policy->max_age);
    co_return applicable(std::move(f.policy));
  }
  note_failure(domain, found.id);
  // RFC 8461 3.3: tell the administrators, unless the policy in force is mode none.
  if (!(cached && cached->mode == Mode::none))
    spdlog::warn("outbound {}: MTA-STS policy id {} could not be fetched: {}; {}",
                 core::log_safe(domain), core::log_safe(found.id), core::log_safe(f.error, 300),
                 cached ? "the cached policy (id " + core::log_safe(entry->policy_id) + ", mode " +
                              std::string(mta_sts::to_string(cached->mode)) +
                              ") applies until it expires"
                        : std::string("delivering as without a policy"));
  co_return applicable(cached);
}

awaitable<StsPolicies::Fetched> StsPolicies::fetch(const std::string& domain) {
  Fetched out;
  core::HttpsRequest req;
  req.host = "mta-sts." + domain;
  const core::AddressAnswer a = co_await resolver_->addresses(req.host);
  if (a.status != core::DnsStatus::ok || a.addresses.empty()) {
    out.error = "no address for " + req.host + (a.error.empty() ? "" : " (" + a.error + ")");
    co_return out;
  }
  req.addresses = a.addresses;
  req.port = settings_.https_port;
  req.path = "/.well-known/mta-sts.txt";
  req.tls = settings_.tls;
  req.timeout = settings_.timeout;
  req.max_body_bytes = mta_sts::kMaxPolicyBytes;
  auto r = co_await core::https_get(ex_, std::move(req));
  if (!r) {
    out.error = std::move(r.error());
    co_return out;
  }
  // RFC 8461 3.3: only a 200 counts (redirects are not followed); the media type is text/plain.
  if (r->status != 200) {
    out.error = "HTTP status " + std::to_string(r->status);
    co_return out;
  }
  if (core::media_type(r->content_type) != "text/plain") {
    out.error = "media type \"" + r->content_type + "\", not text/plain";
    co_return out;
  }
  auto policy = mta_sts::parse_policy(r->body);
  if (!policy) {
    out.error = "invalid policy: " + policy.error();
    co_return out;
  }
  out.policy = std::move(*policy);
  out.body = std::move(r->body);
  co_return out;
}

bool StsPolicies::recently_failed(const std::string& domain, const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = failed_.find(domain);
  if (it == failed_.end()) return false;
  if (it->second.first == id &&
      std::chrono::steady_clock::now() - it->second.second < kRetryFailedFetch)
    return true;
  failed_.erase(it);
  return false;
}

void StsPolicies::note_failure(const std::string& domain, const std::string& id) {
  std::lock_guard lock(mu_);
  failed_[domain] = {id, std::chrono::steady_clock::now()};
}

bool StsPolicies::begin_fetch(const std::string& domain) {
  std::lock_guard lock(mu_);
  return fetching_.insert(domain).second;
}

void StsPolicies::end_fetch(const std::string& domain) {
  std::lock_guard lock(mu_);
  fetching_.erase(domain);
}

}  // namespace govmail::smtp::outbound
