// Bulk import of accounts from a CSV (full_name,unit_code,position[,local_part,quota_mb,groups]).
// Planning is pure (records + what exists -> what to create, update, leave alone, and the bad
// rows); running hashes the new passwords on every core, writes the credentials file (0600) and
// applies everything in one transaction.
//
// Identity of a row, so that a re-run changes nothing and an edited row updates its account:
//  1. a row with local_part is the account local_part@domain;
//  2. otherwise the row is matched, in file order, to a not yet matched active or suspended
//     account whose local part is the generated base (vinhnq, vinhnq2, ...) and whose full name
//     is the same: first one in the same unit, then one in any unit (the official moved);
//  3. remaining rows are new accounts: the first free of base, base2, base3, ...
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "admin/csv.hpp"
#include "admin/local_part.hpp"
#include "core/awaitable_fwd.hpp"
#include "store/admin_store.hpp"
#include "store/types.hpp"

namespace govmail::admin {

struct ImportOptions {
  std::string domain;
  std::string pattern{kDefaultLocalPartPattern};
  std::uint64_t default_quota_bytes = 0;  // for new accounts without quota_mb (0 = unlimited)
  std::uint64_t max_quota_mb = 1u << 20;  // 1 TiB
  // A unit admin's import: rows for other units are bad rows, and accounts of other units are
  // never matched or changed. nullopt: every unit (province admins, the CLI).
  // Also: a group named in the groups column must be an automatic group of one of these units
  // (a manual or another unit's group, such as a province-wide list, is a bad row).
  std::optional<std::unordered_set<std::string>> allowed_units;
  // Addresses of accounts holding an admin role the importer may not manage: never matched or
  // changed (see may_manage).
  std::unordered_set<std::string> protected_accounts;
  // false: a local_part that is a role address (reserved_local_part) is a bad row.
  bool reserved_ok = true;
};

// What exists already (read from the store before planning).
struct ImportContext {
  std::vector<store::Account> accounts;         // of the domain
  std::unordered_set<std::string> taken;        // local parts of accounts, aliases, groups
  std::unordered_set<std::string> units;        // known unit codes
  std::unordered_set<std::string> groups;       // group addresses of the domain
  std::unordered_set<std::string> memberships;  // "account\ngroup" pairs of those groups
  // The automatic groups of the domain: address -> unit.
  std::unordered_map<std::string, std::string> group_units;
};

enum class RowChange { create, update, unchanged };

struct PlannedAccount {
  std::size_t line = 0;
  RowChange change = RowChange::unchanged;
  store::AccountId id = 0;  // update / unchanged
  std::string address;
  std::string full_name;
  std::string unit_code;
  std::string position;
  std::uint64_t quota_bytes = 0;
  std::vector<std::string> changes;     // "position: 'a' -> 'b'", "group +all@d"
  std::vector<std::string> new_groups;  // group addresses to join
};

struct BadRow {
  std::size_t line = 0;
  std::string reason;
};

struct ImportPlan {
  std::vector<PlannedAccount> accounts;  // in file order
  std::vector<BadRow> bad;               // in file order
  std::size_t created = 0, updated = 0, unchanged = 0;
};

// A header error (missing or unknown column) comes back as a bad row on line 1.
ImportPlan plan_import(const std::vector<CsvRecord>& records, const ImportContext& ctx,
                       const ImportOptions& opts);

// One line per change: "create ADDRESS name=... unit=... position=...", "update ADDRESS: ...".
std::vector<std::string> describe(const ImportPlan& plan);

// Reads what plan_import needs from the store.
awaitable<store::Result<ImportContext>> load_import_context(store::AdminStore& admin,
                                                            std::string domain);

}  // namespace govmail::admin
