#include "admin/operations.hpp"

#include <algorithm>
#include <unordered_set>

#include "admin/csv.hpp"
#include "admin/provisioning.hpp"
#include "core/text.hpp"

namespace govmail::admin {

const char* status_name(store::AccountStatus s) {
  switch (s) {
    case store::AccountStatus::active:
      return "active";
    case store::AccountStatus::suspended:
      return "suspended";
    default:
      return "deleted";
  }
}

std::optional<store::AccountStatus> parse_status(std::string_view s) {
  if (s == "active") return store::AccountStatus::active;
  if (s == "suspended") return store::AccountStatus::suspended;
  if (s == "deleted") return store::AccountStatus::deleted;
  return std::nullopt;
}

const char* role_name(store::AdminRole r) {
  switch (r) {
    case store::AdminRole::province:
      return "province";
    case store::AdminRole::unit:
      return "unit";
    default:
      return "auditor";
  }
}

std::optional<store::AdminRole> parse_role(std::string_view s) {
  if (s == "province") return store::AdminRole::province;
  if (s == "unit") return store::AdminRole::unit;
  if (s == "auditor") return store::AdminRole::auditor;
  return std::nullopt;
}

bool may_manage(store::AdminRole actor, store::AdminRole target) {
  return actor == store::AdminRole::province && target != store::AdminRole::province;
}

const char* policy_name(store::SendPolicy p) {
  switch (p) {
    case store::SendPolicy::anyone:
      return "anyone";
    case store::SendPolicy::same_domain:
      return "domain";
    case store::SendPolicy::members:
      return "members";
    default:
      return "senders";
  }
}

std::optional<store::SendPolicy> parse_policy(std::string_view s) {
  if (s == "anyone") return store::SendPolicy::anyone;
  if (s == "domain") return store::SendPolicy::same_domain;
  if (s == "members") return store::SendPolicy::members;
  if (s == "senders") return store::SendPolicy::senders;
  return std::nullopt;
}

std::string unit_kind(const std::string& code, bool has_parent) {
  bool digits = std::all_of(code.begin(), code.end(), ::isdigit);
  if (digits && code.size() == 2) return "province";
  if (digits && code.size() == 5) return "commune";
  return has_parent ? "department" : "other";
}

UnitImportPlan plan_unit_import(std::string_view csv_text,
                                const std::vector<store::OrgUnit>& existing) {
  UnitImportPlan plan;
  auto records = parse_csv(csv_text);
  if (records.empty() ||
      records[0].fields != std::vector<std::string>{"code", "name", "parent_code"}) {
    plan.bad.push_back({1, "expected the header code,name,parent_code"});
    return plan;
  }
  std::unordered_set<std::string> known;
  for (const auto& u : existing) known.insert(u.code);
  for (std::size_t i = 1; i < records.size(); ++i) {
    const auto& r = records[i];
    std::string why = r.error;
    if (why.empty() && r.fields.size() != 3) why = "expected 3 fields";
    if (why.empty() && (r.fields[0].empty() || r.fields[1].empty())) why = "empty code or name";
    if (why.empty() && !r.fields[2].empty() && !known.contains(r.fields[2]))
      why = "unknown parent_code '" + r.fields[2] + "' (parents must come first)";
    if (!why.empty()) {
      plan.bad.push_back({r.line, why});
      continue;
    }
    known.insert(r.fields[0]);
    std::optional<std::string> parent;
    if (!r.fields[2].empty()) parent = r.fields[2];
    plan.units.push_back(
        {r.fields[0], core::nfc(r.fields[1]), parent, unit_kind(r.fields[0], parent.has_value())});
  }
  return plan;
}

std::string export_csv(const std::vector<store::Account>& accounts) {
  std::string out = "full_name,unit_code,position,local_part,quota_mb,address,status\n";
  for (const auto& a : accounts)
    out += csv_line({a.display_name, a.unit_code.value_or(""), a.position,
                     a.address.substr(0, a.address.rfind('@')), std::to_string(a.quota_bytes >> 20),
                     a.address, status_name(a.status)}) +
           "\n";
  return out;
}

ImportRequest import_request(const core::Config& cfg, std::string domain, std::string csv_text) {
  ImportRequest req;
  req.csv_text = std::move(csv_text);
  req.options.domain = normalise_address(domain);
  req.options.pattern = cfg.admin.local_part_pattern;
  req.options.default_quota_bytes = cfg.admin.default_quota_mb << 20;
  req.opslimit = cfg.auth.argon2_opslimit;
  req.memlimit = cfg.auth.argon2_memlimit;
  req.hash_threads = cfg.auth.hash_workers;
  return req;
}

std::string import_summary(const ImportPlan& plan, bool dry_run) {
  return (dry_run ? "dry run: " : "") + std::string("created=") + std::to_string(plan.created) +
         " updated=" + std::to_string(plan.updated) +
         " unchanged=" + std::to_string(plan.unchanged) + " bad=" + std::to_string(plan.bad.size());
}

std::vector<std::string> parse_address_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    auto first = normalise_address(line.substr(0, line.find(',')));
    if (!first.empty() && first[0] != '#' && first != "address") out.push_back(std::move(first));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace govmail::admin
