// Pieces of the admin operations that both front ends (the `govmail admin` CLI and the admin HTTP
// API) need: names of statuses, roles and send policies, the unit CSV, the account export, and the
// import request built from the config. One definition here, no copy in either front end.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/import.hpp"
#include "admin/import_run.hpp"
#include "core/config.hpp"
#include "store/admin_store.hpp"
#include "store/types.hpp"

namespace govmail::admin {

const char* status_name(store::AccountStatus s);  // active, suspended, deleted
std::optional<store::AccountStatus> parse_status(std::string_view s);
const char* role_name(store::AdminRole r);  // province, unit, auditor
std::optional<store::AdminRole> parse_role(std::string_view s);
// Whether an admin of role `actor` may change an account that holds role `target`: only one
// strictly below. A province admin manages unit admins and auditors; a unit admin no admin at
// all (an auditor reads every mailbox's metadata: above any unit admin); an auditor nothing.
bool may_manage(store::AdminRole actor, store::AdminRole target);
const char* policy_name(store::SendPolicy p);  // anyone, domain, members, senders
std::optional<store::SendPolicy> parse_policy(std::string_view s);

// province (2 digits), commune (5 digits), department (below a parent) or other.
std::string unit_kind(const std::string& code, bool has_parent);

// A units CSV (code,name,parent_code; parents first) checked against the units already known.
struct UnitImportPlan {
  std::vector<store::OrgUnit> units;  // to upsert, in file order
  std::vector<BadRow> bad;            // line 1: header error
};
UnitImportPlan plan_unit_import(std::string_view csv_text,
                                const std::vector<store::OrgUnit>& existing);

// The import columns first, so that an export imports back unchanged (address and status are
// ignored by the importer).
std::string export_csv(const std::vector<store::Account>& accounts);

// An import of `csv_text` into `domain` with the configured local-part pattern, default quota
// and argon2id cost (hashing on auth.hash_workers threads, 0 = every core).
ImportRequest import_request(const core::Config& cfg, std::string domain, std::string csv_text);

// A list of addresses for bulk suspend/restore: one a line, or a CSV whose first field is the
// address (an export); '#' comments, blank lines and an "address" header skipped; normalised.
std::vector<std::string> parse_address_list(std::string_view text);

// "created=N updated=N unchanged=N bad=N", with a "dry run: " prefix.
std::string import_summary(const ImportPlan& plan, bool dry_run);

}  // namespace govmail::admin
