// MessageCache: bounded by what its entries really cost on the heap, least recently used out
// first, and its byte count stays exact through replacements and evictions.
#include "imap/src/message_cache.hpp"

#include <gtest/gtest.h>

namespace govmail::imap {
namespace {

using Part = MessageCache::Part;

// The bytes an entry of `parts` parts of `size` bytes each is charged.
std::uint64_t charge_of(MessageCache& probe, int parts, std::size_t size) {
  probe.set_max_bytes(1 << 20);
  for (int p = 0; p < parts; ++p) probe.put(1, static_cast<Part>(p), std::string(size, 'x'));
  return probe.bytes();
}

TEST(MessageCacheTest, ChargesEachPartAndEntryMoreThanItsBytes) {
  MessageCache one, three;
  const auto single = charge_of(one, 1, 300);
  const auto triple = charge_of(three, 3, 300);
  // The heap holds a map node per entry and a shared string per part beyond the bytes: a
  // limit counted in bytes alone let the cache grow to about twice its setting.
  EXPECT_GT(single, 300u + 200u);
  EXPECT_GT(triple - single, 2 * (300u + 50u));
}

TEST(MessageCacheTest, EvictsTheLeastRecentlyUsedMessage) {
  MessageCache probe;
  const auto entry = charge_of(probe, 1, 500);
  MessageCache cache(8 * entry);
  for (store::MessageId m = 1; m <= 8; ++m) cache.put(m, Part::envelope, std::string(500, 'e'));
  ASSERT_NE(cache.find(1, Part::envelope), nullptr);  // 1 is now the most recently used
  cache.put(9, Part::envelope, std::string(500, 'e'));
  EXPECT_TRUE(cache.contains(1, Part::envelope));
  EXPECT_FALSE(cache.contains(2, Part::envelope));
  for (store::MessageId m = 3; m <= 9; ++m) EXPECT_TRUE(cache.contains(m, Part::envelope)) << m;
  EXPECT_EQ(cache.evicted(), 1u);
  EXPECT_EQ(cache.bytes(), 8 * entry);
}

TEST(MessageCacheTest, FindAllGivesTheWantedPartsOfEachMessageInOrder) {
  MessageCache probe;
  const auto entry = charge_of(probe, 2, 500);
  MessageCache cache(3 * entry);
  for (store::MessageId m = 1; m <= 3; ++m) {
    cache.put(m, Part::envelope, std::string(500, static_cast<char>('0' + m)));
    cache.put(m, Part::header, std::string(500, 'h'));
  }
  std::vector<MessageCache::Parts> out;
  const std::vector<store::MessageId> ids{3, 9, 1};
  cache.find_all(ids, MessageCache::bit(Part::envelope) | MessageCache::bit(Part::body), out);
  ASSERT_EQ(out.size(), 3u);
  const auto envelope = static_cast<unsigned>(Part::envelope);
  ASSERT_NE(out[0][envelope], nullptr);
  EXPECT_EQ((*out[0][envelope])[0], '3');
  EXPECT_EQ(out[1][envelope], nullptr);  // 9 is not cached
  ASSERT_NE(out[2][envelope], nullptr);
  EXPECT_EQ((*out[2][envelope])[0], '1');
  EXPECT_EQ(out[0][static_cast<unsigned>(Part::header)], nullptr);  // not asked for
  EXPECT_EQ(out[0][static_cast<unsigned>(Part::body)], nullptr);    // asked for, not cached
  // 3 and 1 are now the most recently used: a fourth message evicts 2.
  cache.put(4, Part::envelope, std::string(500, 'e'));
  cache.put(4, Part::header, std::string(500, 'h'));
  EXPECT_FALSE(cache.contains(2, Part::envelope));
  EXPECT_TRUE(cache.contains(1, Part::envelope));
  EXPECT_TRUE(cache.contains(3, Part::envelope));
}

TEST(MessageCacheTest, ReplacingAPartKeepsTheCountExact) {
  MessageCache cache(1 << 20);
  cache.put(7, Part::header, std::string(100, 'h'));
  const auto small = cache.bytes();
  cache.put(7, Part::header, std::string(400, 'h'));
  EXPECT_EQ(cache.bytes(), small + 300);
  cache.put(7, Part::header, std::string(100, 'h'));
  EXPECT_EQ(cache.bytes(), small);
  cache.set_max_bytes(small - 1);  // shrinking evicts what no longer fits
  EXPECT_FALSE(cache.contains(7, Part::header));
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(MessageCacheTest, RefusesAValueLargerThanAQuarterOfIt) {
  MessageCache cache(4000);
  cache.put(1, Part::header, std::string(1000, 'h'));
  EXPECT_FALSE(cache.contains(1, Part::header));
  cache.put(1, Part::header, std::string(500, 'h'));
  EXPECT_TRUE(cache.contains(1, Part::header));
}

}  // namespace
}  // namespace govmail::imap
