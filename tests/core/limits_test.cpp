#include "core/limits.hpp"

#include <gtest/gtest.h>

namespace govmail::core {
namespace {

using namespace std::chrono_literals;

TEST(NetworkKey, Ipv4ByAddressOrPrefix) {
  EXPECT_EQ(network_key("192.0.2.77", 32, 64), "192.0.2.77/32");
  EXPECT_EQ(network_key("192.0.2.77", 24, 64), "192.0.2.0/24");
  EXPECT_EQ(network_key("192.0.2.77", 8, 64), "192.0.0.0/8");
  EXPECT_NE(network_key("127.0.0.1", 32, 64), network_key("127.0.0.2", 32, 64));
  EXPECT_EQ(network_key("127.0.0.1", 24, 64), network_key("127.0.0.2", 24, 64));
}

TEST(NetworkKey, Ipv6BySlash64) {
  EXPECT_EQ(network_key("2001:db8:1:2:aaaa::1", 32, 64), "2001:db8:1:2::/64");
  EXPECT_EQ(network_key("2001:db8:1:2:ffff:ffff:ffff:ffff", 32, 64),
            network_key("2001:db8:1:2::9", 32, 64));
  EXPECT_NE(network_key("2001:db8:1:2::1", 32, 64), network_key("2001:db8:1:3::1", 32, 64));
  EXPECT_EQ(network_key("2001:db8:1:2::1", 32, 128), "2001:db8:1:2::1/128");
  EXPECT_EQ(network_key("2001:db8:1:ff::1", 32, 60), "2001:db8:1:f0::/60");  // inside a byte
}

TEST(NetworkKey, V4MappedCountsAsV4AndJunkIsItsOwnKey) {
  EXPECT_EQ(network_key("::ffff:192.0.2.7", 24, 64), "192.0.2.0/24");
  EXPECT_EQ(network_key("not an address", 24, 64), "not an address");
}

TEST(ByteBudget, RefusesPastTheLimitAndGivesBack) {
  ByteBudget b(100);
  EXPECT_TRUE(b.try_reserve(60));
  EXPECT_FALSE(b.try_reserve(41));
  EXPECT_TRUE(b.try_reserve(40));
  EXPECT_FALSE(b.try_reserve(1));
  b.release(60);
  EXPECT_EQ(b.used(), 40u);
  EXPECT_TRUE(b.try_reserve(60));
  EXPECT_FALSE(b.try_reserve(UINT64_MAX));  // no overflow past the limit
}

TEST(ByteBudget, ReservationReleasesOnDestructionMoveAndRelease) {
  ByteBudget b(100);
  {
    ByteBudget::Reservation r(b);
    EXPECT_TRUE(r.grow(30));
    EXPECT_TRUE(r.grow(30));
    EXPECT_FALSE(r.grow(50));  // refused: nothing of it reserved
    EXPECT_EQ(r.bytes(), 60u);
    EXPECT_EQ(b.used(), 60u);
    ByteBudget::Reservation moved(std::move(r));
    EXPECT_EQ(b.used(), 60u);
    r = ByteBudget::Reservation(b);  // the moved-from one holds nothing
    EXPECT_TRUE(r.grow(10));
    EXPECT_EQ(b.used(), 70u);
    r.release();
    EXPECT_EQ(b.used(), 60u);
  }
  EXPECT_EQ(b.used(), 0u);
  ByteBudget::Reservation none;  // without a budget: never room
  EXPECT_FALSE(none.grow(1));
}

TEST(ByteBudget, LowerLimitRefusesNewBytesOnly) {
  ByteBudget b(100);
  EXPECT_TRUE(b.try_reserve(80));
  b.set_limit(50);
  EXPECT_FALSE(b.try_reserve(1));
  b.release(80);
  EXPECT_TRUE(b.try_reserve(50));
}

TEST(ConnectionDeadlines, SessionDeadlineCapsEveryRead) {
  auto t0 = ConnectionDeadlines::Clock::now();
  ConnectionDeadlines d(60s, 600s, t0);
  EXPECT_EQ(d.read_timeout(300s, t0), 60s);
  EXPECT_EQ(d.read_timeout(300s, t0 + 59s), 1s);
  EXPECT_EQ(d.read_timeout(300s, t0 + 61s), 1ms);  // due: the read fails at once
  EXPECT_TRUE(d.expired(t0 + 60s));
  d.end_session_deadline();  // logged in
  EXPECT_FALSE(d.expired(t0 + 61s));
  EXPECT_EQ(d.read_timeout(300s, t0 + 61s), 300s);
}

TEST(ConnectionDeadlines, CommandDeadlineRunsFromItsFirstByteToItsEnd) {
  auto t0 = ConnectionDeadlines::Clock::now();
  ConnectionDeadlines d(0s, 10s, t0);
  d.command_state(false, t0);
  EXPECT_EQ(d.read_timeout(300s, t0), 300s);  // between commands: the per-read timeout
  d.command_state(true, t0 + 1s);
  d.command_state(true, t0 + 5s);  // a byte a while does not move it
  EXPECT_EQ(d.read_timeout(300s, t0 + 5s), 6s);
  EXPECT_TRUE(d.expired(t0 + 11s));
  d.command_state(false, t0 + 9s);  // ended in time
  EXPECT_FALSE(d.expired(t0 + 11s));
  d.command_state(true, t0 + 20s);
  EXPECT_EQ(d.read_timeout(300s, t0 + 20s), 10s);
}

TEST(ConnectionDeadlines, NearerDeadlineWinsAndZeroMeansNone) {
  auto t0 = ConnectionDeadlines::Clock::now();
  ConnectionDeadlines d(5s, 10s, t0);
  d.command_state(true, t0);
  EXPECT_EQ(d.read_timeout(300s, t0), 5s);
  EXPECT_EQ(d.read_timeout(2s, t0), 2s);
  EXPECT_EQ(d.read_timeout(0ms, t0), 5s);  // no per-read timeout: still bounded
  ConnectionDeadlines none(0s, 0s, t0);
  none.command_state(true, t0);
  EXPECT_EQ(none.read_timeout(300s, t0 + 1h), 300s);
  EXPECT_FALSE(none.expired(t0 + 24h));
}

}  // namespace
}  // namespace govmail::core
