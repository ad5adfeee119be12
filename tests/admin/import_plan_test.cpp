#include <gtest/gtest.h>

#include "admin/import.hpp"

namespace govmail::admin {
namespace {

constexpr const char* kDomain = "bacninh.gov.vn";

ImportContext context() {
  ImportContext ctx;
  ctx.units = {"24", "25237", "25240"};
  ctx.groups = {"lanhdao@bacninh.gov.vn"};
  return ctx;
}

ImportOptions options() {
  ImportOptions o;
  o.domain = kDomain;
  return o;
}

ImportPlan plan(const std::string& csv, const ImportContext& ctx) {
  return plan_import(parse_csv(csv), ctx, options());
}

// What the store would hold after applying `p` on top of `ctx`.
ImportContext apply(ImportContext ctx, const ImportPlan& p) {
  store::AccountId next = 1000;
  for (const auto& a : p.accounts) {
    if (a.change == RowChange::create) {
      store::Account acc;
      acc.id = ++next;
      acc.address = a.address;
      acc.display_name = a.full_name;
      acc.unit_code = a.unit_code;
      acc.position = a.position;
      acc.quota_bytes = a.quota_bytes;
      ctx.accounts.push_back(acc);
      ctx.taken.insert(a.address.substr(0, a.address.find('@')));
    } else {
      for (auto& acc : ctx.accounts)
        if (acc.id == a.id) {
          acc.display_name = a.full_name;
          acc.unit_code = a.unit_code;
          acc.position = a.position;
          acc.quota_bytes = a.quota_bytes;
        }
    }
    for (const auto& g : a.new_groups) ctx.memberships.insert(a.address + "\n" + g);
  }
  return ctx;
}

const std::string kFile =
    "full_name,unit_code,position\n"
    "Nguyễn Quang Vinh,25237,Chủ tịch\n"
    "Trần Thị Thu Hương,25237,Văn thư\n"
    "Nguyễn Quang Vinh,25240,Công chức\n"
    "Đặng Văn Đức,25240,Phó Chủ tịch\n"
    "Nguyễn Quang Vinh,25237,Kế toán\n";

TEST(ImportPlan, GeneratesAndNumbersCollisions) {
  auto p = plan(kFile, context());
  ASSERT_TRUE(p.bad.empty());
  ASSERT_EQ(p.accounts.size(), 5u);
  EXPECT_EQ(p.accounts[0].address, "vinhnq@bacninh.gov.vn");
  EXPECT_EQ(p.accounts[1].address, "huongttt@bacninh.gov.vn");
  EXPECT_EQ(p.accounts[2].address, "vinhnq2@bacninh.gov.vn");
  EXPECT_EQ(p.accounts[3].address, "ducdv@bacninh.gov.vn");
  EXPECT_EQ(p.accounts[4].address, "vinhnq3@bacninh.gov.vn");
  EXPECT_EQ(p.created, 5u);
}

TEST(ImportPlan, ExistingAddressesAreSkippedWhenNumbering) {
  auto ctx = context();
  ctx.taken = {"vinhnq", "vinhnq2"};  // another official, an alias...
  auto p = plan("full_name,unit_code,position\nNguyễn Quang Vinh,25237,x\n", ctx);
  ASSERT_EQ(p.accounts.size(), 1u);
  EXPECT_EQ(p.accounts[0].address, "vinhnq3@bacninh.gov.vn");
}

TEST(ImportPlan, ReRunIsUnchangedAndEditsUpdateTheSameAccount) {
  auto first = plan(kFile, context());
  auto ctx = apply(context(), first);
  auto again = plan(kFile, ctx);
  EXPECT_EQ(again.created, 0u);
  EXPECT_EQ(again.updated, 0u);
  EXPECT_EQ(again.unchanged, 5u);
  EXPECT_TRUE(describe(again).empty());

  std::string edited = kFile;
  edited.replace(edited.find("Kế toán"), std::string("Kế toán").size(), "Thủ quỹ");
  auto upd = plan(edited, ctx);
  EXPECT_EQ(upd.updated, 1u);
  EXPECT_EQ(upd.created, 0u);
  ASSERT_EQ(describe(upd).size(), 1u);
  EXPECT_EQ(describe(upd)[0],
            "update vinhnq3@bacninh.gov.vn (line 6): position: 'Kế toán' -> 'Thủ quỹ'");

  // Moving an official to another commune updates the unit, keeps the address.
  std::string moved = kFile;
  moved.replace(moved.find("Đặng Văn Đức,25240"), std::string("Đặng Văn Đức,25240").size(),
                "Đặng Văn Đức,25237");
  auto mv = plan(moved, ctx);
  EXPECT_EQ(mv.updated, 1u);
  EXPECT_EQ(mv.accounts[3].address, "ducdv@bacninh.gov.vn");
}

TEST(ImportPlan, EveryBadRowHasItsLineAndReason) {
  auto p = plan(
      "full_name,unit_code,position,local_part,quota_mb,groups\n"
      "Nguyễn Quang Vinh,99999,x,,,\n"  // 2 unknown unit
      ",25237,x,,,\n"                   // 3 empty name
      "A B,25237,x,dup,,\n"             // 4 ok
      "C D,25237,x,dup,,\n"             // 5 duplicate address
      "E F,25237,x,,lots,\n"            // 6 bad quota
      "\"G H,25237,x,,,\n"              // 7.. unterminated quote (rest of file)
      ,
      context());
  ASSERT_EQ(p.bad.size(), 5u);
  EXPECT_EQ(p.bad[0].line, 2u);
  EXPECT_NE(p.bad[0].reason.find("unknown unit code '99999'"), std::string::npos);
  EXPECT_EQ(p.bad[1].line, 3u);
  EXPECT_EQ(p.bad[1].reason, "empty full_name");
  EXPECT_EQ(p.bad[2].line, 5u);
  EXPECT_NE(p.bad[2].reason.find("duplicate address dup@bacninh.gov.vn (also on line 4)"),
            std::string::npos);
  EXPECT_EQ(p.bad[3].line, 6u);
  EXPECT_NE(p.bad[3].reason.find("bad quota_mb 'lots'"), std::string::npos);
  EXPECT_EQ(p.bad[4].line, 7u);
  EXPECT_NE(p.bad[4].reason.find("unterminated"), std::string::npos);
  EXPECT_EQ(p.created, 1u);
}

TEST(ImportPlan, MalformedUtf8AndUnknownGroupAndFieldCount) {
  auto p = plan(
      "full_name,unit_code,position,groups\n"
      "Ng\xC3\x28yen Van A,25237,x,\n"
      "Tran B,25237,x,nosuch\n"
      "Tran C,25237\n"
      "Tran D,25237,x,lanhdao\n",
      context());
  ASSERT_EQ(p.bad.size(), 3u);
  EXPECT_EQ(p.bad[0].reason, "malformed UTF-8");
  EXPECT_EQ(p.bad[1].reason, "unknown group 'nosuch@bacninh.gov.vn'");
  EXPECT_EQ(p.bad[2].reason, "expected 4 fields, found 2");
  ASSERT_EQ(p.accounts.size(), 1u);
  EXPECT_EQ(p.accounts[0].new_groups, std::vector<std::string>{"lanhdao@bacninh.gov.vn"});
}

TEST(ImportPlan, HeaderErrors) {
  auto p = plan("full_name,unit_code\nA,25237\n", context());
  ASSERT_EQ(p.bad.size(), 1u);
  EXPECT_EQ(p.bad[0].line, 1u);
  EXPECT_NE(p.bad[0].reason.find("missing column 'position'"), std::string::npos);
  p = plan("full_name,unit_code,position,email\n", context());
  EXPECT_NE(p.bad.at(0).reason.find("unknown column 'email'"), std::string::npos);
}

TEST(ImportPlan, ExplicitLocalPartUpdatesItsAccount) {
  auto ctx = context();
  store::Account a;
  a.id = 7;
  a.address = "sotttt@bacninh.gov.vn";
  a.display_name = "Sở TT";
  a.unit_code = "24";
  ctx.accounts.push_back(a);
  ctx.taken.insert("sotttt");
  auto p = plan(
      "full_name,unit_code,position,local_part,quota_mb\n"
      "Sở Thông tin và Truyền thông,24,,SoTTTT,2048\n",
      ctx);
  ASSERT_EQ(p.accounts.size(), 1u);
  EXPECT_EQ(p.accounts[0].change, RowChange::update);
  EXPECT_EQ(p.accounts[0].id, 7);
  EXPECT_EQ(p.accounts[0].quota_bytes, 2048ull << 20);
  EXPECT_EQ(p.accounts[0].changes.size(), 2u);
}

// A unit admin's import (allowed_units): rows for other units are bad rows with their line, an
// explicit address of another unit's account is refused, and a namesake in another unit is never
// matched (a new account is made instead).
TEST(ImportPlan, UnitAdminOnlyTouchesItsUnits) {
  auto ctx = apply(context(),
                   plan("full_name,unit_code,position\nNguyễn Quang Vinh,25240,A\n", context()));
  ASSERT_EQ(ctx.accounts.size(), 1u);
  ImportOptions o = options();
  o.allowed_units = std::unordered_set<std::string>{"25237"};
  auto p = plan_import(parse_csv("full_name,unit_code,position,local_part\n"
                                 "Trần Thị Thu Hương,25237,B,\n"
                                 "Lê Văn An,25240,C,\n"
                                 "Ai Đó,25237,D,vinhnq\n"
                                 "Nguyễn Quang Vinh,25237,A,\n"),
                       ctx, o);
  ASSERT_EQ(p.bad.size(), 2u);
  EXPECT_EQ(p.bad[0].line, 3u);
  EXPECT_NE(p.bad[0].reason.find("outside your units"), std::string::npos) << p.bad[0].reason;
  EXPECT_EQ(p.bad[1].line, 4u);
  EXPECT_NE(p.bad[1].reason.find("outside your units"), std::string::npos) << p.bad[1].reason;
  ASSERT_EQ(p.accounts.size(), 2u);
  EXPECT_EQ(p.accounts[0].address, "huongttt@bacninh.gov.vn");
  EXPECT_EQ(p.accounts[1].change, RowChange::create);  // not the 25240 vinhnq
  EXPECT_EQ(p.accounts[1].address, "vinhnq2@bacninh.gov.vn");
  // The same rows for a province admin: no bad row for 25240, vinhnq is updated.
  auto all = plan_import(parse_csv("full_name,unit_code,position,local_part\n"
                                   "Lê Văn An,25240,C,\nAi Đó,25237,D,vinhnq\n"),
                         ctx, options());
  EXPECT_TRUE(all.bad.empty());
}

// A unit admin's import names only the automatic groups of its units, never matches or changes
// the account of an admin above it, and gives out no role address.
TEST(ImportPlan, UnitAdminGroupsAdminsAndRoleAddresses) {
  auto ctx = apply(context(),
                   plan("full_name,unit_code,position\nNguyễn Quang Vinh,25237,A\n", context()));
  ctx.groups.insert("phuong@bacninh.gov.vn");
  ctx.group_units["phuong@bacninh.gov.vn"] = "25237";
  ctx.groups.insert("tinh@bacninh.gov.vn");
  ctx.group_units["tinh@bacninh.gov.vn"] = "24";
  ImportOptions o = options();
  o.allowed_units = std::unordered_set<std::string>{"25237"};
  o.protected_accounts = {"vinhnq@bacninh.gov.vn"};
  o.reserved_ok = false;
  auto p = plan_import(parse_csv("full_name,unit_code,position,local_part,quota_mb,groups\n"
                                 "Ai Một,25237,B,aimot,,phuong\n"
                                 "Ai Hai,25237,B,aihai,,lanhdao\n"
                                 "Ai Ba,25237,B,aiba,,tinh\n"
                                 "Nguyễn Quang Vinh,25237,Giám đốc,vinhnq,,\n"
                                 "Ai Bốn,25237,B,Post.Master,,\n"
                                 "Nguyễn Quang Vinh,25237,Giám đốc,,,\n"),
                       ctx, o);
  ASSERT_EQ(p.bad.size(), 4u);
  EXPECT_EQ(p.bad[0].line, 3u);  // a manual group: a province-wide list
  EXPECT_NE(p.bad[0].reason.find("outside your units"), std::string::npos) << p.bad[0].reason;
  EXPECT_EQ(p.bad[1].line, 4u);  // the automatic group of the unit above
  EXPECT_EQ(p.bad[2].line, 5u);  // the protected account by its address
  EXPECT_EQ(p.bad[3].line, 6u);  // a role address
  EXPECT_NE(p.bad[3].reason.find("role address"), std::string::npos) << p.bad[3].reason;
  ASSERT_EQ(p.accounts.size(), 2u);
  EXPECT_EQ(p.accounts[0].new_groups, std::vector<std::string>{"phuong@bacninh.gov.vn"});
  EXPECT_EQ(p.accounts[1].change, RowChange::create);  // the namesake is not matched
  EXPECT_EQ(p.accounts[1].address, "vinhnq2@bacninh.gov.vn");
}

}  // namespace
}  // namespace govmail::admin
