// AdminStore::record_login on real PostgreSQL: the last login that `account unused` reads.
#include <ctime>

#include "store/admin_store.hpp"
#include "tests/store/store_fixture.hpp"

namespace govmail::store::testing {
namespace {

class RecordLoginTest : public StoreTest {};

TEST_F(RecordLoginTest, SetsLastLoginAndSurvivesRepeats) {
  auto a = add_account("vinhnq@sotttt.bacninh.gov.vn");
  auto before = run(db_->admin().account_detail(a.address));
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->last_login_at);

  ASSERT_TRUE(run(db_->admin().record_login(a.id)).ok());
  auto after = run(db_->admin().account_detail(a.address));
  ASSERT_TRUE(after.ok());
  ASSERT_TRUE(after->last_login_at);
  EXPECT_LE(std::abs(*after->last_login_at - static_cast<UnixTime>(std::time(nullptr))), 5);

  // Within the minute a second login writes nothing (and is not an error).
  ASSERT_TRUE(run(db_->admin().record_login(a.id)).ok());
  auto again = run(db_->admin().account_detail(a.address));
  EXPECT_EQ(again->last_login_at, after->last_login_at);
  // An unknown id is not an error either: the login path must never fail on it.
  EXPECT_TRUE(run(db_->admin().record_login(a.id + 1000)).ok());
}

}  // namespace
}  // namespace govmail::store::testing
