// POST import?domain=D[&dry_run=1][&skip_bad=1] with the CSV as the body: the same import as
// `govmail admin import`; the new accounts' passwords come back once in the answer ("credentials",
// CSV text) instead of a file. A unit admin's rows must all be for its units (and below).
#include "admin/import_run.hpp"
#include "admin/operations.hpp"
#include "api.hpp"
#include "core/asio.hpp"

namespace govmail::admin::api {
namespace {

bool flag(const Call& c, std::string_view key) {
  auto v = c.query(key);
  return v && (*v == "1" || *v == "true" || v->empty());
}

json planned_json(const PlannedAccount& p) {
  static constexpr const char* kChange[] = {"create", "update", "unchanged"};
  return {{"line", p.line},
          {"change", kChange[static_cast<int>(p.change)]},
          {"address", p.address},
          {"changes", p.changes}};
}

}  // namespace

awaitable<HttpResponse> bulk_import(Call& c) {
  auto domain = c.query("domain");
  if (!domain || domain->empty()) co_return fail(400, "the domain parameter is required");
  if (validate_pattern(c.s.cfg.admin.local_part_pattern))
    co_return fail(500, "admin.local_part_pattern is invalid");
  auto req = import_request(c.s.cfg, *domain, c.req.body);
  req.dry_run = flag(c, "dry_run");
  req.skip_bad = flag(c, "skip_bad");
  req.credentials_in_outcome = true;
  req.actor = c.who.address;
  req.source = c.req.remote_address;
  c.target = req.options.domain;
  // A unit admin imports into its units only: other units' rows are bad rows (with their line).
  bool error = false;
  req.options.allowed_units = co_await import_scope(c, error);
  if (error) co_return fail(503, "the database is unavailable");
  // Accounts of admins above the caller are never matched or changed; role addresses and
  // other domains are a province admin's.
  auto admins = co_await protected_accounts(c);
  if (!admins) co_return fail(503, "the database is unavailable");
  req.options.protected_accounts = std::move(*admins);
  req.options.reserved_ok = c.who.role == store::AdminRole::province;
  if (!(co_await c.dir().find_domain(req.options.domain))) co_return fail(404, "domain not found");
  if (std::string domain = req.options.domain; !co_await domain_in_scope(c, std::move(domain)))
    co_return fail(403, "forbidden: domain " + req.options.domain + " is outside your units");
  bool dry = req.dry_run, skip = req.skip_bad;
  auto out = co_await run_import(c.admin(), std::move(req));
  c.detail = import_summary(out.plan, dry);
  // Applied: its "import.apply" entry committed with it (store::ImportBatch::audit).
  c.audit_written = out.applied;
  json changes = json::array();
  for (const auto& p : out.plan.accounts)
    if (p.change != RowChange::unchanged) changes.push_back(planned_json(p));
  json body{{"applied", out.applied},
            {"dry_run", dry},
            {"created", out.plan.created},
            {"updated", out.plan.updated},
            {"unchanged", out.plan.unchanged},
            {"skipped", skip && out.error.empty() ? out.plan.bad.size() : 0},
            {"bad", bad_rows_json(out.plan.bad)},
            {"changes", changes}};
  if (!out.credentials_csv.empty()) body["credentials"] = out.credentials_csv;
  if (!out.error.empty()) {
    body["error"] = out.error;
    co_return HttpResponse::json(422, body.dump());
  }
  co_return ok(body);
}

}  // namespace govmail::admin::api
