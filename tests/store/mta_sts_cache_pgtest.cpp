// The MTA-STS policy cache (migration 0012) against a real PostgreSQL: one row per domain,
// replaced by a newer fetch, read back as stored, expired rows pruned.
#include <ctime>

#include "store/mta_sts.hpp"
#include "store_fixture.hpp"

namespace govmail::store::testing {
namespace {

class MtaStsCacheTest : public StoreTest {};

TEST_F(MtaStsCacheTest, PutGetReplacePrune) {
  auto db = open_db();
  auto& cache = db->mta_sts();
  EXPECT_EQ(run(cache.get("example.vn")).error(), StoreError::not_found);

  const std::int64_t now = std::time(nullptr);
  MtaStsEntry e{"example.vn", "id1", "version: STSv1\nmode: enforce\nmx: *.example.vn\n", now,
                now + 86400};
  ASSERT_TRUE(run(cache.put(e)).ok());
  auto got = run(cache.get("example.vn"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->policy_id, "id1");
  EXPECT_EQ(got->policy, e.policy);
  EXPECT_EQ(got->fetched_at, now);
  EXPECT_EQ(got->expires_at, now + 86400);

  e.policy_id = "id2";
  e.policy = "version: STSv1\nmode: testing\nmx: mx.example.vn\n";
  ASSERT_TRUE(run(cache.put(e)).ok());
  got = run(cache.get("example.vn"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->policy_id, "id2");
  EXPECT_EQ(got->policy, e.policy);

  MtaStsEntry old{"old.vn", "x", "version: STSv1\n", now - 7200, now - 3600};
  ASSERT_TRUE(run(cache.put(old)).ok());
  EXPECT_EQ(run(cache.prune(7200)).value(), 0);  // expired an hour ago: within the grace
  EXPECT_EQ(run(cache.prune(0)).value(), 1);
  EXPECT_EQ(run(cache.get("old.vn")).error(), StoreError::not_found);
  EXPECT_TRUE(run(cache.get("example.vn")).ok());
}

}  // namespace
}  // namespace govmail::store::testing
