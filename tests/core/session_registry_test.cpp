// SessionRegistry: which sessions a revocation ends, and logins that race with one.
#include "core/session_registry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace govmail::core {
namespace {

using Clock = SessionRegistry::Clock;

struct Ended {
  std::vector<int> who;
  SessionRegistry::EndFn fn(int id) {
    return [this, id] { who.push_back(id); };
  }
};

TEST(SessionRegistry, RevokeEndsOnlyThatAccountsSessionsOnce) {
  SessionRegistry reg;
  Ended ended;
  auto a1 = reg.add(7, 1, reg.now(), ended.fn(1));
  auto a2 = reg.add(7, 1, reg.now(), ended.fn(2));
  auto b = reg.add(8, 1, reg.now(), ended.fn(3));
  EXPECT_EQ(reg.size(), 3u);
  EXPECT_EQ(reg.revoke(7), 2u);
  std::sort(ended.who.begin(), ended.who.end());
  EXPECT_EQ(ended.who, (std::vector<int>{1, 2}));
  EXPECT_EQ(reg.revoke(7), 0u);  // already ended: not told twice
  EXPECT_EQ(reg.size(), 1u);
  EXPECT_EQ(reg.revoke(9), 0u);
}

TEST(SessionRegistry, AnUnregisteredSessionIsNotEnded) {
  SessionRegistry reg;
  Ended ended;
  {
    auto a = reg.add(7, 1, reg.now(), ended.fn(1));
    EXPECT_TRUE(a);
  }
  EXPECT_EQ(reg.size(), 0u);
  EXPECT_EQ(reg.revoke(7), 0u);
  EXPECT_TRUE(ended.who.empty());
}

TEST(SessionRegistry, RevokeZeroEndsEverySession) {
  SessionRegistry reg;
  Ended ended;
  auto a = reg.add(7, 1, reg.now(), ended.fn(1));
  auto b = reg.add(8, 1, reg.now(), ended.fn(2));
  EXPECT_EQ(reg.revoke(0), 2u);
  EXPECT_EQ(ended.who.size(), 2u);
  EXPECT_EQ(reg.size(), 0u);
}

TEST(SessionRegistry, LoginVerifiedBeforeARevocationEndsAtRegistration) {
  SessionRegistry reg;
  Clock::time_point t{std::chrono::seconds(1000)};
  reg.set_clock([&] { return t; });
  Ended ended;
  const auto verified_at = reg.now();
  t += std::chrono::seconds(1);
  reg.revoke(7);  // the notification arrives while the login is being verified
  t += std::chrono::seconds(1);
  auto late = reg.add(7, 1, verified_at, ended.fn(1));
  EXPECT_FALSE(late);
  EXPECT_EQ(ended.who, (std::vector<int>{1}));
  auto other = reg.add(8, 1, verified_at, ended.fn(2));  // another account is not affected
  EXPECT_TRUE(other);
  auto fresh = reg.add(7, 1, reg.now(), ended.fn(3));  // verified after the change: it stays
  EXPECT_TRUE(fresh);
  EXPECT_EQ(ended.who, (std::vector<int>{1}));
}

// The race CI met: the login read the new credentials (version 2), registered, and only then
// did the notification of that change come in. It must end the version-1 sessions only.
TEST(SessionRegistry, ANotificationEndsOnlySessionsOpenedWithOlderCredentials) {
  SessionRegistry reg;
  Ended ended;
  auto old_login = reg.add(7, 1, reg.now(), ended.fn(1));
  auto new_login = reg.add(7, 2, reg.now(), ended.fn(2));
  auto newer_login = reg.add(7, 3, reg.now(), ended.fn(3));
  EXPECT_EQ(reg.revoke(7, 2), 1u);
  EXPECT_EQ(ended.who, (std::vector<int>{1}));
  EXPECT_EQ(reg.size(), 2u);
  EXPECT_EQ(reg.revoke(7, 2), 0u);  // the same notification twice ends nothing more
  EXPECT_EQ(reg.revoke(7, 4), 2u);
  EXPECT_EQ(reg.size(), 0u);
}

TEST(SessionRegistry, LoginWithOldCredentialsRegisteringAfterTheNotificationEnds) {
  SessionRegistry reg;
  Ended ended;
  const auto verified_at = reg.now();
  reg.revoke(7, 5);
  auto stale = reg.add(7, 4, verified_at, ended.fn(1));
  EXPECT_FALSE(stale);
  EXPECT_EQ(ended.who, (std::vector<int>{1}));
  auto current = reg.add(7, 5, verified_at, ended.fn(2));  // read the changed credentials
  EXPECT_TRUE(current);
  reg.revoke(7, 3);  // a late, older notification lowers nothing
  auto stale_again = reg.add(7, 4, reg.now(), ended.fn(3));
  EXPECT_FALSE(stale_again);
  EXPECT_EQ(ended.who, (std::vector<int>{1, 3}));
}

TEST(SessionRegistry, AnEndMayUnregisterOtherSessions) {
  SessionRegistry reg;
  SessionRegistry::Registration b;
  int calls = 0;
  auto a = reg.add(7, 1, reg.now(), [&] {
    ++calls;
    b = {};  // the lock is not held while ends run
  });
  b = reg.add(7, 1, reg.now(), [&] { ++calls; });
  EXPECT_EQ(reg.revoke(7), 2u);
  EXPECT_EQ(calls, 2);
}

TEST(SessionRegistry, RegistrationOutlivingTheRegistryIsHarmless) {
  SessionRegistry::Registration r;
  {
    SessionRegistry reg;
    r = reg.add(7, 1, reg.now(), [] {});
  }
  r = {};
  SUCCEED();
}

}  // namespace
}  // namespace govmail::core
