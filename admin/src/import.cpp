#include "admin/import.hpp"

#include <algorithm>
#include <map>

#include "admin/provisioning.hpp"
#include "core/asio.hpp"
#include "core/auth.hpp"
#include "core/text.hpp"

namespace govmail::admin {
namespace {

constexpr std::string_view kRequired[] = {"full_name", "unit_code", "position"};
constexpr std::string_view kOptional[] = {"local_part", "quota_mb", "groups"};
// Written by `account export` and ignored here, so that an export imports back unchanged.
constexpr std::string_view kExportOnly[] = {"address", "status"};

struct Columns {
  std::map<std::string, std::size_t> index;
  std::vector<std::size_t> ignored;
  std::string error;
  std::size_t count() const { return index.size() + ignored.size(); }
};

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  return std::string(s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1));
}

Columns bad_header(std::string why) {
  Columns c;
  c.error = std::move(why);
  return c;
}

Columns read_header(const CsvRecord& rec) {
  Columns c;
  if (!rec.error.empty()) return bad_header("header: " + rec.error);
  for (std::size_t i = 0; i < rec.fields.size(); ++i) {
    std::string name = normalise_address(rec.fields[i]);
    if (std::find(std::begin(kExportOnly), std::end(kExportOnly), name) != std::end(kExportOnly)) {
      c.ignored.push_back(i);
      continue;
    }
    bool known =
        std::find(std::begin(kRequired), std::end(kRequired), name) != std::end(kRequired) ||
        std::find(std::begin(kOptional), std::end(kOptional), name) != std::end(kOptional);
    if (!known) return bad_header("header: unknown column '" + name + "'");
    if (!c.index.emplace(name, i).second) return bad_header("header: column '" + name + "' twice");
  }
  for (auto r : kRequired)
    if (!c.index.contains(std::string(r)))
      return bad_header("header: missing column '" + std::string(r) +
                        "' (required: full_name,unit_code,position)");
  return c;
}

// One data row, validated on its own (no knowledge of the other rows yet).
struct Row {
  std::size_t line = 0;
  std::string full_name, unit_code, position, local_part;
  std::optional<std::uint64_t> quota_mb;
  std::vector<std::string> groups;
  std::string base;  // generated local part when local_part is empty
};

std::optional<std::uint64_t> parse_mb(const std::string& s, std::uint64_t max) {
  if (s.empty() || s.size() > 12 || !std::all_of(s.begin(), s.end(), ::isdigit))
    return std::nullopt;
  auto v = std::stoull(s);
  if (v > max) return std::nullopt;
  return v;
}

std::string read_row(const CsvRecord& rec, const Columns& cols, const ImportContext& ctx,
                     const ImportOptions& opts, Row& row) {
  if (!rec.error.empty()) return rec.error;
  if (rec.fields.size() != cols.count())
    return "expected " + std::to_string(cols.count()) + " fields, found " +
           std::to_string(rec.fields.size());
  auto get = [&](std::string_view name) -> std::string {
    auto it = cols.index.find(std::string(name));
    return it == cols.index.end() ? std::string() : core::nfc(trim(rec.fields[it->second]));
  };
  row.line = rec.line;
  row.full_name = get("full_name");
  row.unit_code = get("unit_code");
  row.position = get("position");
  row.local_part = normalise_address(get("local_part"));
  if (row.full_name.empty()) return "empty full_name";
  if (row.unit_code.empty()) return "empty unit_code";
  if (!ctx.units.contains(row.unit_code)) return "unknown unit code '" + row.unit_code + "'";
  if (opts.allowed_units && !opts.allowed_units->contains(row.unit_code))
    return "unit '" + row.unit_code + "' is outside your units";
  if (auto q = get("quota_mb"); !q.empty()) {
    row.quota_mb = parse_mb(q, opts.max_quota_mb);
    if (!row.quota_mb)
      return "bad quota_mb '" + q + "': expected a whole number of MB from 0 to " +
             std::to_string(opts.max_quota_mb);
  }
  if (!row.local_part.empty() && !valid_local_part(row.local_part))
    return "invalid local_part '" + row.local_part + "'";
  if (row.local_part.empty()) {
    row.base = local_part_from_name(row.full_name, opts.pattern);
    if (row.base.empty() || !valid_local_part(row.base))
      return "cannot make an address from the name '" + row.full_name + "': give local_part";
  }
  if (const auto& local = row.local_part.empty() ? row.base : row.local_part;
      !opts.reserved_ok && reserved_local_part(local))
    return "'" + local + "' is a role address: only a province admin gives it out";
  std::string groups = get("groups");
  for (std::size_t at = 0; at <= groups.size();) {
    auto end = std::min(groups.find(';', at), groups.size());
    std::string g = normalise_address(groups.substr(at, end - at));
    at = end + 1;
    if (g.empty()) continue;
    if (g.find('@') == std::string::npos) g += "@" + opts.domain;
    if (!ctx.groups.contains(g)) return "unknown group '" + g + "'";
    if (opts.allowed_units) {
      auto unit = ctx.group_units.find(g);
      if (unit == ctx.group_units.end() || !opts.allowed_units->contains(unit->second))
        return "group '" + g + "' is outside your units";
    }
    row.groups.push_back(std::move(g));
  }
  return {};
}

std::string local_of(const std::string& address) {
  return address.substr(0, address.rfind('@'));
}

// vinhnq, vinhnq2, vinhnq3... (not vinhnq0 or vinhnq02)
bool in_family(const std::string& local, const std::string& base) {
  if (!local.starts_with(base)) return false;
  std::string_view rest(local);
  rest.remove_prefix(base.size());
  if (rest.empty()) return true;
  return rest[0] != '0' && std::all_of(rest.begin(), rest.end(), ::isdigit);
}

class Planner {
 public:
  Planner(const ImportContext& ctx, const ImportOptions& opts) : ctx_(ctx), opts_(opts) {
    for (std::size_t i = 0; i < ctx.accounts.size(); ++i) {
      by_address_.emplace(ctx.accounts[i].address, i);
      by_name_[ctx.accounts[i].display_name].push_back(i);
    }
    // vinhnq, vinhnq2, ..., vinhnq10: the order in which they were allocated.
    for (auto& [name, list] : by_name_)
      std::sort(list.begin(), list.end(), [&](std::size_t x, std::size_t y) {
        const auto &a = ctx.accounts[x].address, &b = ctx.accounts[y].address;
        return a.size() != b.size() ? a.size() < b.size() : a < b;
      });
    taken_ = ctx.taken;
  }

  ImportPlan run(const std::vector<CsvRecord>& records) {
    ImportPlan plan;
    if (records.empty()) {
      plan.bad.push_back({1, "empty file: expected a header row full_name,unit_code,position"});
      return plan;
    }
    auto cols = read_header(records[0]);
    if (!cols.error.empty()) {
      plan.bad.push_back({records[0].line, cols.error});
      return plan;
    }
    std::vector<Row> rows;
    for (std::size_t i = 1; i < records.size(); ++i) {
      Row row;
      if (auto err = read_row(records[i], cols, ctx_, opts_, row); !err.empty())
        plan.bad.push_back({records[i].line, err});
      else
        rows.push_back(std::move(row));
    }
    std::vector<std::optional<PlannedAccount>> out(rows.size());
    claim_explicit(rows, out, plan);
    match_existing(rows, out, /*same_unit=*/true);
    match_existing(rows, out, /*same_unit=*/false);
    allocate_new(rows, out);
    for (auto& p : out) {
      if (!p) continue;
      (p->change == RowChange::create   ? plan.created
       : p->change == RowChange::update ? plan.updated
                                        : plan.unchanged)++;
      plan.accounts.push_back(std::move(*p));
    }
    std::sort(plan.bad.begin(), plan.bad.end(), [](auto& a, auto& b) { return a.line < b.line; });
    return plan;
  }

 private:
  void claim_explicit(const std::vector<Row>& rows, std::vector<std::optional<PlannedAccount>>& out,
                      ImportPlan& plan) {
    std::unordered_map<std::string, std::size_t> first_line;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].local_part.empty()) continue;
      std::string address = rows[i].local_part + "@" + opts_.domain;
      auto [it, fresh] = first_line.emplace(address, rows[i].line);
      if (!fresh) {
        plan.bad.push_back({rows[i].line, "duplicate address " + address + " (also on line " +
                                              std::to_string(it->second) + ")"});
        continue;
      }
      auto acc = by_address_.find(address);
      if (acc != by_address_.end() && outside(ctx_.accounts[acc->second])) {
        plan.bad.push_back(
            {rows[i].line, "address " + address + " is an account outside your units"});
      } else if (acc != by_address_.end() &&
                 ctx_.accounts[acc->second].status != store::AccountStatus::deleted) {
        claimed_.insert(acc->second);
        out[i] = compare(rows[i], ctx_.accounts[acc->second], /*rename_ok=*/true);
      } else if (taken_.contains(rows[i].local_part)) {
        plan.bad.push_back(
            {rows[i].line,
             "address " + address + " is taken by an alias, a group or a deleted account"});
      } else {
        taken_.insert(rows[i].local_part);
        out[i] = create(rows[i], address);
      }
    }
  }

  void match_existing(const std::vector<Row>& rows, std::vector<std::optional<PlannedAccount>>& out,
                      bool same_unit) {
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (out[i] || !rows[i].local_part.empty()) continue;
      auto same_name = by_name_.find(rows[i].full_name);
      if (same_name == by_name_.end()) continue;
      for (std::size_t k : same_name->second) {
        const auto& a = ctx_.accounts[k];
        if (claimed_.contains(k) || a.status == store::AccountStatus::deleted || outside(a) ||
            a.display_name != rows[i].full_name || !in_family(local_of(a.address), rows[i].base) ||
            (same_unit && a.unit_code.value_or("") != rows[i].unit_code))
          continue;
        claimed_.insert(k);
        out[i] = compare(rows[i], a, /*rename_ok=*/false);
        break;
      }
    }
  }

  void allocate_new(const std::vector<Row>& rows, std::vector<std::optional<PlannedAccount>>& out) {
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (out[i] || !rows[i].local_part.empty()) continue;
      std::string local = first_free(rows[i].base, taken_);
      taken_.insert(local);
      out[i] = create(rows[i], local + "@" + opts_.domain);
    }
  }

  PlannedAccount create(const Row& row, std::string address) {
    PlannedAccount p = base(row, std::move(address));
    p.change = RowChange::create;
    p.quota_bytes = row.quota_mb ? *row.quota_mb << 20 : opts_.default_quota_bytes;
    p.new_groups = row.groups;
    return p;
  }

  PlannedAccount compare(const Row& row, const store::Account& a, bool rename_ok) {
    PlannedAccount p = base(row, a.address);
    p.id = a.id;
    p.quota_bytes = row.quota_mb ? *row.quota_mb << 20 : a.quota_bytes;
    auto diff = [&](std::string_view what, const std::string& from, const std::string& to) {
      if (from != to) p.changes.push_back(std::string(what) + ": '" + from + "' -> '" + to + "'");
    };
    if (rename_ok) diff("full_name", a.display_name, row.full_name);
    p.full_name = rename_ok ? row.full_name : a.display_name;
    diff("unit_code", a.unit_code.value_or(""), row.unit_code);
    diff("position", a.position, row.position);
    if (p.quota_bytes != a.quota_bytes)
      p.changes.push_back("quota_mb: " + std::to_string(a.quota_bytes >> 20) + " -> " +
                          std::to_string(p.quota_bytes >> 20));
    for (const auto& g : row.groups)
      if (!ctx_.memberships.contains(a.address + "\n" + g)) {
        p.new_groups.push_back(g);
        p.changes.push_back("group +" + g);
      }
    p.change = p.changes.empty() ? RowChange::unchanged : RowChange::update;
    return p;
  }

  // An account the importer may not touch (see ImportOptions::allowed_units and
  // protected_accounts).
  bool outside(const store::Account& a) const {
    return (opts_.allowed_units && !opts_.allowed_units->contains(a.unit_code.value_or(""))) ||
           opts_.protected_accounts.contains(a.address);
  }

  static PlannedAccount base(const Row& row, std::string address) {
    PlannedAccount p;
    p.line = row.line;
    p.address = std::move(address);
    p.full_name = row.full_name;
    p.unit_code = row.unit_code;
    p.position = row.position;
    return p;
  }

  const ImportContext& ctx_;
  const ImportOptions& opts_;
  std::unordered_map<std::string, std::size_t> by_address_;
  std::unordered_map<std::string, std::vector<std::size_t>> by_name_;
  std::unordered_set<std::size_t> claimed_;
  std::unordered_set<std::string> taken_;
};

}  // namespace

ImportPlan plan_import(const std::vector<CsvRecord>& records, const ImportContext& ctx,
                       const ImportOptions& opts) {
  return Planner(ctx, opts).run(records);
}

std::vector<std::string> describe(const ImportPlan& plan) {
  std::vector<std::string> out;
  for (const auto& p : plan.accounts) {
    if (p.change == RowChange::create) {
      std::string line = "create " + p.address + " (line " + std::to_string(p.line) + "): name='" +
                         p.full_name + "' unit=" + p.unit_code + " position='" + p.position +
                         "' quota_mb=" + std::to_string(p.quota_bytes >> 20);
      for (const auto& g : p.new_groups) line += " group=" + g;
      out.push_back(std::move(line));
    } else if (p.change == RowChange::update) {
      std::string line = "update " + p.address + " (line " + std::to_string(p.line) + "):";
      for (const auto& c : p.changes) line += " " + c + ";";
      line.pop_back();
      out.push_back(std::move(line));
    }
  }
  return out;
}

awaitable<store::Result<ImportContext>> load_import_context(store::AdminStore& admin,
                                                            std::string domain) {
  ImportContext ctx;
  // Named, not braced in the call: GCC 12 destroys such a temporary twice in a co_await.
  store::AccountFilter all{domain, std::nullopt, std::nullopt};
  auto accounts = co_await admin.list_accounts(std::move(all));
  if (!accounts) co_return unexpected(accounts.error());
  ctx.accounts = std::move(*accounts);
  auto taken = co_await admin.taken_addresses(domain);
  if (!taken) co_return unexpected(taken.error());
  for (const auto& a : *taken) ctx.taken.insert(local_of(a));
  auto units = co_await admin.list_units();
  if (!units) co_return unexpected(units.error());
  for (const auto& u : *units) ctx.units.insert(u.code);
  auto groups = co_await admin.list_groups(domain);
  if (!groups) co_return unexpected(groups.error());
  for (const auto& g : *groups) {
    ctx.groups.insert(g.address);
    if (g.unit_code) ctx.group_units.emplace(g.address, *g.unit_code);
    if (g.unit_code) continue;  // automatic: membership follows the unit
    auto members = co_await admin.group_members(g.address);
    if (!members) co_return unexpected(members.error());
    for (const auto& m : *members) ctx.memberships.insert(m + "\n" + g.address);
  }
  co_return ctx;
}

}  // namespace govmail::admin
