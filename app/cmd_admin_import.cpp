// govmail admin import FILE --domain D [--dry-run] [--skip-bad] [--credentials OUT.csv]
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include "admin/import_run.hpp"
#include "admin/operations.hpp"
#include "admin_cli.hpp"
#include "core/asio.hpp"
#include "runtime.hpp"

namespace govmail::app {
namespace {

void print_summary(const admin::ImportOutcome& o, bool skip_bad) {
  const auto& p = o.plan;
  std::printf("\n%-10s %8s  %s\n", "result", "accounts",
              o.applied ? "(applied)" : "(NOT applied: nothing changed)");
  std::printf("%-10s %8zu\n", "created", p.created);
  std::printf("%-10s %8zu\n", "updated", p.updated);
  std::printf("%-10s %8zu\n", "unchanged", p.unchanged);
  std::printf("%-10s %8zu\n", "skipped", skip_bad ? p.bad.size() : 0);
  std::printf("%-10s %8zu\n", "bad rows", p.bad.size());
  // Skipped rows by reason ("unknown unit code" ...: the text before the first quote).
  std::map<std::string, std::size_t> reasons;
  for (const auto& b : p.bad) reasons[b.reason.substr(0, b.reason.find(" '"))]++;
  for (const auto& [why, n] : reasons) std::printf("  %6zu  %s\n", n, why.c_str());
}

}  // namespace

awaitable<int> bulk_import(AdminContext& c) {
  auto domain = take_option(c.args, "--domain");
  auto creds = take_option(c.args, "--credentials");
  bool dry = take_flag(c.args, "--dry-run");
  bool skip = take_flag(c.args, "--skip-bad");
  bool force_progress = take_flag(c.args, "--progress");
  if (c.args.size() != 1 || !domain)
    co_return admin_usage_error(
        "import FILE --domain DOMAIN [--dry-run] [--skip-bad] [--credentials OUT.csv]");
  if (auto e = admin::validate_pattern(c.cfg.admin.local_part_pattern))
    co_return admin_fail("admin.local_part_pattern: " + *e);
  std::ifstream in(c.args[0], std::ios::binary);
  if (!in) co_return admin_fail("cannot read " + c.args[0]);
  std::stringstream text;
  text << in.rdbuf();

  auto req = admin::import_request(c.cfg, *domain, text.str());
  req.dry_run = dry;
  req.skip_bad = skip;
  if (creds) req.credentials = *creds;
  req.actor = c.actor;
  req.source = c.source;
  c.audit_target = req.options.domain;

  if (!(co_await c.db.directory().find_domain(req.options.domain)))
    co_return admin_fail("domain " + req.options.domain + " not found");
  admin::ProgressBar bar(stderr, force_progress);
  admin::ImportProgress progress{[&](std::string_view phase, std::size_t n, std::size_t total) {
    bar.update(phase, n, total);
  }};
  auto out = co_await admin::run_import(c.admin(), std::move(req), std::move(progress));
  bar.finish();
  for (const auto& b : out.plan.bad)
    std::fprintf(stderr, "%s:%zu: %s\n", c.args[0].c_str(), b.line, b.reason.c_str());
  for (const auto& line : admin::describe(out.plan)) std::printf("%s\n", line.c_str());
  if (dry) std::printf("dry run: nothing applied\n");
  print_summary(out, skip && out.error.empty());
  c.audit_detail = admin::import_summary(out.plan, dry);
  // Applied: its "import.apply" entry committed with it (store::ImportBatch::audit).
  c.audit_written = out.applied;
  if (out.applied && out.plan.created > 0)
    std::printf("passwords of the %zu new accounts: %s (mode 0600; hand over, then delete)\n",
                out.plan.created, creds->c_str());
  if (out.applied)
    std::fprintf(stderr,
                 "hashing %.1f s (the database writes overlap it), database after it %.1f s\n",
                 out.hash_seconds, out.apply_seconds);
  if (!out.error.empty()) co_return admin_fail(out.error);
  co_return 0;
}

}  // namespace govmail::app
