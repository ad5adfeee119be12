#include "admin/operations.hpp"

#include <gtest/gtest.h>

#include "admin/csv.hpp"
#include "admin/provisioning.hpp"

namespace govmail::admin {
namespace {

TEST(UnitImport, ParentsFirstKindsAndNfc) {
  std::vector<store::OrgUnit> existing{{"27", "Tỉnh Bắc Ninh", std::nullopt, "province"}};
  // "Phường" in NFD (base letters + combining marks) comes back NFC.
  auto plan = plan_unit_import(
      "code,name,parent_code\n27001,Phu\xCC\x9Bo\xCC\x9B\xCC\x80ng A,27\n27001-01,Phòng,27001\n",
      existing);
  ASSERT_TRUE(plan.bad.empty());
  ASSERT_EQ(plan.units.size(), 2u);
  EXPECT_EQ(plan.units[0].kind, "commune");
  EXPECT_EQ(plan.units[0].parent_code, "27");
  EXPECT_EQ(plan.units[1].kind, "department");
  EXPECT_EQ(plan.units[0].name, "Phường A");
}

TEST(UnitImport, BadRowsWithLines) {
  auto plan = plan_unit_import("code,name,parent_code\n27002,,27\n27003,B,99\n27004,C\n", {});
  ASSERT_EQ(plan.bad.size(), 3u);
  EXPECT_EQ(plan.bad[0].line, 2u);
  EXPECT_EQ(plan.bad[0].reason, "empty code or name");
  EXPECT_EQ(plan.bad[1].line, 3u);
  EXPECT_NE(plan.bad[1].reason.find("unknown parent_code '99'"), std::string::npos);
  EXPECT_EQ(plan.bad[2].reason, "expected 3 fields");
  EXPECT_TRUE(plan.units.empty());
  auto header = plan_unit_import("code,name\n1,x\n", {});
  ASSERT_EQ(header.bad.size(), 1u);
  EXPECT_EQ(header.bad[0].line, 1u);
}

TEST(Export, ImportColumnsFirstAndQuoted) {
  store::Account a;
  a.address = "vinhnq@sotttt.bacninh.gov.vn";
  a.display_name = "Nguyễn Quang Vinh";
  a.unit_code = "27001";
  a.position = "Chuyên viên, phòng A";
  a.quota_bytes = 100ull << 20;
  a.status = store::AccountStatus::suspended;
  auto csv = export_csv({a});
  EXPECT_EQ(csv,
            "full_name,unit_code,position,local_part,quota_mb,address,status\n"
            "Nguyễn Quang Vinh,27001,\"Chuyên viên, phòng A\",vinhnq,100,"
            "vinhnq@sotttt.bacninh.gov.vn,suspended\n");
  auto back = parse_csv(csv);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].fields[2], "Chuyên viên, phòng A");
}

TEST(Names, RoundTrip) {
  for (auto s : {store::AccountStatus::active, store::AccountStatus::suspended,
                 store::AccountStatus::deleted})
    EXPECT_EQ(parse_status(status_name(s)), s);
  for (auto r : {store::AdminRole::province, store::AdminRole::unit, store::AdminRole::auditor})
    EXPECT_EQ(parse_role(role_name(r)), r);
  for (auto p : {store::SendPolicy::anyone, store::SendPolicy::same_domain,
                 store::SendPolicy::members, store::SendPolicy::senders})
    EXPECT_EQ(parse_policy(policy_name(p)), p);
  EXPECT_FALSE(parse_status("gone"));
  EXPECT_FALSE(parse_role("root"));
}

TEST(ImportRequest, FromConfig) {
  core::Config cfg;
  cfg.admin.default_quota_mb = 500;
  cfg.admin.local_part_pattern = "{given}.{surname}";
  cfg.auth.argon2_opslimit = 3;
  auto req = import_request(cfg, " Sotttt.BacNinh.gov.vn ", "x");
  EXPECT_EQ(req.options.domain, "sotttt.bacninh.gov.vn");
  EXPECT_EQ(req.options.default_quota_bytes, 500ull << 20);
  EXPECT_EQ(req.options.pattern, "{given}.{surname}");
  EXPECT_EQ(req.opslimit, 3u);
  EXPECT_EQ(req.csv_text, "x");
}

TEST(Roles, OnlyAProvinceAdminManagesAdminsAndOnlyThoseBelowIt) {
  using store::AdminRole;
  EXPECT_TRUE(may_manage(AdminRole::province, AdminRole::unit));
  EXPECT_TRUE(may_manage(AdminRole::province, AdminRole::auditor));
  EXPECT_FALSE(may_manage(AdminRole::province, AdminRole::province));
  EXPECT_FALSE(may_manage(AdminRole::unit, AdminRole::unit));
  EXPECT_FALSE(may_manage(AdminRole::unit, AdminRole::auditor));
  EXPECT_FALSE(may_manage(AdminRole::unit, AdminRole::province));
  EXPECT_FALSE(may_manage(AdminRole::auditor, AdminRole::auditor));
}

TEST(ReservedLocalPart, RoleAddressesInAnySpelling) {
  for (const char* l :
       {"postmaster", "Abuse", "host.master", "webmaster+x", "mailer-daemon", "no_reply", "admin"})
    EXPECT_TRUE(reserved_local_part(l)) << l;
  for (const char* l : {"vinhnq", "postmasterx", "giamdoc", "adminh", "xabuse"})
    EXPECT_FALSE(reserved_local_part(l)) << l;
}

}  // namespace
}  // namespace govmail::admin
