// AdminStore on real PostgreSQL: record_login (the last login that `account unused` reads),
// logins with an old address after a domain merge, the admin session stamp and TOTP steps.
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

class MergedDomainLoginTest : public StoreTest {};

// After `domain merge OLD NEW` the old address still logs in: credentials(user@OLD) is the
// account user@NEW (its address returned), while unknown names stay unknown.
TEST_F(MergedDomainLoginTest, OldAddressResolvesToTheMergedAccount) {
  auto a = add_account("vinhnq@bacgiang.gov.vn");
  (void)run(dir().add_domain("bacninh.gov.vn"));
  auto before = run(dir().credentials("vinhnq@bacgiang.gov.vn"));
  ASSERT_TRUE(before.ok());
  auto merged = run(db_->admin().merge_domain("bacgiang.gov.vn", "bacninh.gov.vn"));
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->accounts, 1u);

  auto old_name = run(dir().credentials("vinhnq@bacgiang.gov.vn"));
  ASSERT_TRUE(old_name.ok());
  EXPECT_EQ(old_name->account_id, a.id);
  EXPECT_EQ(old_name->address, "vinhnq@bacninh.gov.vn");
  EXPECT_EQ(old_name->password_hash, before->password_hash);
  auto new_name = run(dir().credentials("vinhnq@bacninh.gov.vn"));
  ASSERT_TRUE(new_name.ok());
  EXPECT_EQ(new_name->account_id, a.id);
  EXPECT_EQ(run(dir().credentials("nobody@bacgiang.gov.vn")).error(), StoreError::not_found);
  EXPECT_EQ(run(dir().credentials("vinhnq@other.gov.vn")).error(), StoreError::not_found);
}

class AdminSessionTest : public StoreTest {
 protected:
  AdminGrant grant_of(AccountId id) {
    auto g = run(db_->admin().find_admin(id));
    EXPECT_TRUE(g.ok());
    return g.ok() ? *g : AdminGrant{};
  }
};

// What an admin token is checked against: a new role or a password change moves it, a TOTP
// enrolment does not; a revoke and a new grant never give the old value back.
TEST_F(AdminSessionTest, StampMovesOnGrantAndPasswordChanges) {
  auto a = add_account("prov@example.gov.vn");
  ASSERT_TRUE(run(db_->admin().set_admin(a.id, AdminRole::province, {})).ok());
  auto first = grant_of(a.id);
  ASSERT_TRUE(run(db_->admin().set_totp_secret(a.id, std::string("JBSWY3DPEHPK3PXP"))).ok());
  EXPECT_EQ(grant_of(a.id).grant_serial, first.grant_serial);
  ASSERT_TRUE(run(db_->admin().set_admin(a.id, AdminRole::auditor, {})).ok());
  auto changed = grant_of(a.id);
  EXPECT_NE(changed.grant_serial, first.grant_serial);
  ASSERT_TRUE(run(db_->admin().remove_admin(a.id)).ok());
  ASSERT_TRUE(run(db_->admin().set_admin(a.id, AdminRole::auditor, {})).ok());
  auto again = grant_of(a.id);
  EXPECT_NE(again.grant_serial, changed.grant_serial);
  EXPECT_NE(again.grant_serial, first.grant_serial);
  ASSERT_TRUE(run(dir().set_password(a.id, "$argon2id$other", false)).ok());
  EXPECT_GT(grant_of(a.id).credentials_version, again.credentials_version);
}

TEST_F(AdminSessionTest, EachTotpStepIsUsedOnce) {
  auto a = add_account("prov@example.gov.vn");
  ASSERT_TRUE(run(db_->admin().set_admin(a.id, AdminRole::province, {})).ok());
  auto use = [&](AccountId id, std::int64_t step) {
    auto r = run(db_->admin().use_totp_step(id, step));
    EXPECT_TRUE(r.ok());
    return r.ok() && *r;
  };
  EXPECT_TRUE(use(a.id, 1000));
  EXPECT_FALSE(use(a.id, 1000));  // replayed
  EXPECT_FALSE(use(a.id, 999));   // older
  EXPECT_TRUE(use(a.id, 1001));
  EXPECT_FALSE(use(a.id + 1000, 5));  // not an admin
}

class GroupPolicyTest : public StoreTest {};

TEST_F(GroupPolicyTest, SendPolicyOfAGroup) {
  add_account("a@example.gov.vn");
  Group g;
  g.address = "all@example.gov.vn";
  ASSERT_TRUE(run(db_->admin().add_group(g)).ok());
  ASSERT_TRUE(run(db_->admin().set_send_policy("ALL@example.gov.vn", SendPolicy::members)).ok());
  auto groups = run(db_->admin().list_groups("example.gov.vn"));
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].send_policy, SendPolicy::members);
  EXPECT_EQ(run(db_->admin().set_send_policy("none@example.gov.vn", SendPolicy::anyone)).error(),
            StoreError::not_found);
}

}  // namespace
}  // namespace govmail::store::testing
