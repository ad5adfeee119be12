#include "policy.hpp"

#include "smtp/command.hpp"

#include <algorithm>
#include <cctype>

namespace govmail::smtp::outbound {
namespace {

bool pattern_matches(std::string_view pattern, std::string_view domain) {
  if (pattern == "*") return true;
  if (pattern.starts_with("*.")) {
    const std::string suffix = lower_ascii(pattern.substr(1));  // ".gov.vn"
    return domain.size() > suffix.size() && domain.ends_with(suffix);
  }
  return lower_ascii(pattern) == domain;
}

std::string expired_reply(const store::ClaimedRecipient& r, const AttemptResult& a,
                          std::int64_t now_unix) {
  const auto days = std::max<std::int64_t>(0, now_unix - r.created_at) / 86400;
  const auto hours = (std::max<std::int64_t>(0, now_unix - r.created_at) % 86400) / 3600;
  return "550 5.4.7 Delivery time expired after " + std::to_string(days) + " days " +
         std::to_string(hours) + " hours; last error: " + a.reply;
}

}  // namespace

const core::OutboundRoute* match_route(const std::vector<core::OutboundRoute>& routes,
                                       std::string_view domain) {
  for (const auto& r : routes)
    if (pattern_matches(r.pattern, domain)) return &r;
  return nullptr;
}

std::string domain_of_address(std::string_view address) {
  return lower_ascii(domain_of(address));
}

std::chrono::seconds retry_delay(int attempts, std::chrono::seconds retry_min,
                                 std::chrono::seconds retry_max) {
  auto d = retry_min;
  for (int i = 1; i < attempts && d < retry_max; ++i) d *= 2;
  return std::min(d, retry_max);
}

Notify parse_notify(std::string_view notify) {
  if (notify.empty()) return {};
  const std::string n = lower_ascii(notify);
  if (n == "never") return {false, false, false};
  return {n.find("success") != std::string::npos, n.find("failure") != std::string::npos,
          n.find("delay") != std::string::npos};
}

store::AttemptOutcome decide(const store::ClaimedRecipient& r, const AttemptResult& a,
                             const OutcomeRules& rules, std::int64_t now_unix) {
  store::AttemptOutcome o;
  o.queue_id = r.queue_id;
  o.ordinal = r.ordinal;
  o.reply = a.reply;
  o.host = a.host;
  const Notify notify = parse_notify(r.dsn_notify);
  const bool reportable = !r.envelope_from.empty();
  const std::int64_t age = now_unix - r.created_at;
  switch (a.kind) {
    case AttemptResult::Kind::delivered:
      o.status = store::RecipientStatus::delivered;
      if (reportable && notify.success && !a.remote_reports) o.report = "relayed";
      return o;
    case AttemptResult::Kind::permanent:
      o.status = store::RecipientStatus::bounced;
      if (reportable && notify.failure) o.report = "failed";
      return o;
    case AttemptResult::Kind::temporary:
      break;
  }
  if (age >= rules.lifetime.count()) {
    o.status = store::RecipientStatus::bounced;
    o.reply = expired_reply(r, a, now_unix);
    if (reportable && notify.failure) o.report = "failed";
    return o;
  }
  o.status = store::RecipientStatus::deferred;
  o.retry_in = retry_delay(r.attempts, rules.retry_min, rules.retry_max);
  // Never past the lifetime by more than needed: the last attempt lands at expiry.
  const std::int64_t left = rules.lifetime.count() - age;
  if (o.retry_in.count() > left) o.retry_in = std::chrono::seconds(std::max<std::int64_t>(1, left));
  if (reportable && notify.delay && !r.warned && rules.delay_warning.count() > 0 &&
      age >= rules.delay_warning.count())
    o.report = "delayed";
  return o;
}

}  // namespace govmail::smtp::outbound
