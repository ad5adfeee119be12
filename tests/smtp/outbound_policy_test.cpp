// The pure decisions of outbound delivery: routes, back-off, NOTIFY, and what each attempt
// result records and reports (RFC 3461/3464; "a bounce never bounces").
#include <gtest/gtest.h>

#include "smtp/src/outbound/message.hpp"
#include "smtp/src/outbound/policy.hpp"

namespace govmail::smtp::outbound {
namespace {

using namespace std::chrono_literals;
using Kind = AttemptResult::Kind;

std::vector<core::OutboundRoute> routes(std::initializer_list<const char*> texts) {
  std::vector<core::OutboundRoute> out;
  for (const char* t : texts) {
    auto r = core::parse_outbound_route(t);
    EXPECT_TRUE(r.has_value()) << t;
    if (r) out.push_back(*r);
  }
  return out;
}

TEST(OutboundRoutes, ParseAndMatchFirstWins) {
  auto rs = routes({"mic.gov.vn tls=required", "*.gov.vn relay.gov.vn:2525 tls=verify",
                    "* [192.0.2.7]:587 auth=relay:s3cret"});
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(rs[0].host, "");
  EXPECT_EQ(rs[0].tls, "required");
  EXPECT_EQ(rs[1].host, "relay.gov.vn");
  EXPECT_EQ(rs[1].port, 2525);
  EXPECT_EQ(rs[2].host, "192.0.2.7");
  EXPECT_EQ(rs[2].auth_user, "relay");
  EXPECT_EQ(rs[2].auth_password, "s3cret");
  EXPECT_EQ(rs[2].tls, "required");  // AUTH implies TLS
  EXPECT_EQ(match_route(rs, "mic.gov.vn"), &rs[0]);
  EXPECT_EQ(match_route(rs, "hanoi.gov.vn"), &rs[1]);
  EXPECT_EQ(match_route(rs, "gov.vn"), &rs[2]);  // "*.gov.vn" is its subdomains only
  EXPECT_EQ(match_route(rs, "gmail.com"), &rs[2]);
  EXPECT_EQ(match_route(routes({"*.gov.vn x.vn"}), "evilgov.vn"), nullptr);
}

TEST(OutboundRoutes, RefusesWhatCannotWork) {
  for (const char* bad : {"", "bad_domain x", "* host:0", "* host:99999", "* [not-ip]",
                          "* x.vn tls=maybe", "* x.vn auth=user", "* x.vn auth=u:p tls=none",
                          "* x.vn auth=u:p tls=opportunistic", "* x.vn extra"})
    EXPECT_FALSE(core::parse_outbound_route(bad).has_value()) << bad;
}

TEST(OutboundRetry, DoublesUpToTheMaximum) {
  EXPECT_EQ(retry_delay(1, 300s, 3600s), 300s);
  EXPECT_EQ(retry_delay(2, 300s, 3600s), 600s);
  EXPECT_EQ(retry_delay(4, 300s, 3600s), 2400s);
  EXPECT_EQ(retry_delay(5, 300s, 3600s), 3600s);
  EXPECT_EQ(retry_delay(500, 300s, 3600s), 3600s);
}

TEST(OutboundNotify, DefaultsNeverAndLists) {
  auto n = parse_notify("");
  EXPECT_TRUE(n.failure && n.delay && !n.success);
  n = parse_notify("NEVER");
  EXPECT_FALSE(n.failure || n.delay || n.success);
  n = parse_notify("SUCCESS,FAILURE");
  EXPECT_TRUE(n.success && n.failure && !n.delay);
}

store::ClaimedRecipient claimed(std::int64_t age, int attempts, std::string notify = "",
                                std::string from = "a@so.gov.vn") {
  store::ClaimedRecipient r;
  r.queue_id = 7;
  r.ordinal = 2;
  r.address = "x@bo.gov.vn";
  r.attempts = attempts;
  r.created_at = 1'000'000;
  r.envelope_from = std::move(from);
  r.dsn_notify = std::move(notify);
  (void)age;
  return r;
}

AttemptResult result(Kind k, std::string reply) {
  AttemptResult a;
  a.kind = k;
  a.reply = std::move(reply);
  a.host = "mx.bo.gov.vn[127.0.0.1]:25";
  return a;
}

const OutcomeRules kRules{300s, 3600s, 5 * 86400s, 4 * 3600s};

TEST(OutboundDecide, DeliveredAndRelayedReport) {
  auto o = decide(claimed(0, 1), result(Kind::delivered, "250 2.0.0 Ok"), kRules, 1'000'010);
  EXPECT_EQ(o.status, store::RecipientStatus::delivered);
  EXPECT_EQ(o.report, "");
  // NOTIFY=SUCCESS to a server without DSN: we report "relayed"; with DSN the remote reports.
  auto r = result(Kind::delivered, "250 ok");
  o = decide(claimed(0, 1, "SUCCESS"), r, kRules, 1'000'010);
  EXPECT_EQ(o.report, "relayed");
  r.remote_reports = true;
  o = decide(claimed(0, 1, "SUCCESS"), r, kRules, 1'000'010);
  EXPECT_EQ(o.report, "");
}

TEST(OutboundDecide, PermanentFailureReportsUnlessNeverOrNullSender) {
  auto o =
      decide(claimed(0, 1), result(Kind::permanent, "550 5.1.1 no such user"), kRules, 1'000'010);
  EXPECT_EQ(o.status, store::RecipientStatus::bounced);
  EXPECT_EQ(o.report, "failed");
  EXPECT_EQ(o.reply, "550 5.1.1 no such user");
  o = decide(claimed(0, 1, "NEVER"), result(Kind::permanent, "550 x"), kRules, 1'000'010);
  EXPECT_EQ(o.report, "");
  o = decide(claimed(0, 1, "", ""), result(Kind::permanent, "550 x"), kRules, 1'000'010);
  EXPECT_EQ(o.status, store::RecipientStatus::bounced);
  EXPECT_EQ(o.report, "");  // a bounce never bounces
}

TEST(OutboundDecide, TemporaryFailureBacksOffWarnsOnceAndExpires) {
  const std::int64_t t0 = 1'000'000;
  auto o = decide(claimed(0, 1), result(Kind::temporary, "451 4.3.0 later"), kRules, t0 + 60);
  EXPECT_EQ(o.status, store::RecipientStatus::deferred);
  EXPECT_EQ(o.retry_in, 300s);
  EXPECT_EQ(o.report, "");
  // Past the delay warning: one "delayed" report, and not again once warned.
  o = decide(claimed(0, 3), result(Kind::temporary, "451 x"), kRules, t0 + 5 * 3600);
  EXPECT_EQ(o.report, "delayed");
  EXPECT_EQ(o.retry_in, 1200s);
  auto warned = claimed(0, 4);
  warned.warned = true;
  o = decide(warned, result(Kind::temporary, "451 x"), kRules, t0 + 6 * 3600);
  EXPECT_EQ(o.report, "");
  o = decide(claimed(0, 3, "FAILURE"), result(Kind::temporary, "451 x"), kRules, t0 + 5 * 3600);
  EXPECT_EQ(o.report, "");  // DELAY not asked for
  // The last wait never runs past the lifetime.
  o = decide(claimed(0, 9), result(Kind::temporary, "451 x"), kRules, t0 + 5 * 86400 - 100);
  EXPECT_EQ(o.retry_in, 100s);
  // Expired: bounced with the last error in the reason.
  o = decide(claimed(0, 30), result(Kind::temporary, "421 4.4.2 connection timed out"), kRules,
             t0 + 5 * 86400);
  EXPECT_EQ(o.status, store::RecipientStatus::bounced);
  EXPECT_EQ(o.report, "failed");
  EXPECT_NE(o.reply.find("5.4.7"), std::string::npos);
  EXPECT_NE(o.reply.find("421 4.4.2 connection timed out"), std::string::npos);
}

TEST(OutboundMessage, ReturnPathIsNotSent) {
  EXPECT_EQ(without_return_path("Return-Path: <a@b.vn>\r\nFrom: a@b.vn\r\n\r\nx"),
            "From: a@b.vn\r\n\r\nx");
  EXPECT_EQ(without_return_path("Return-Path:\r\n <a@b.vn>\r\nFrom: a\r\n\r\n"), "From: a\r\n\r\n");
  EXPECT_EQ(without_return_path("From: a\r\nReturn-Path: <x>\r\n\r\n"),
            "From: a\r\nReturn-Path: <x>\r\n\r\n");
}

}  // namespace
}  // namespace govmail::smtp::outbound
