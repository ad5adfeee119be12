// govmail admin <object> <verb> ...: provisioning from the command line. The table below is the
// whole command surface; each handler validates its arguments and calls admin::Provisioning.
#include <cstdio>
#include <iostream>
#include <spdlog/spdlog.h>

#include "admin/provisioning.hpp"
#include "commands.hpp"
#include "core/asio.hpp"
#include "core/auth.hpp"
#include "core/log.hpp"
#include "runtime.hpp"
#include "store/database.hpp"
#include "store/directory.hpp"
#include "sync_run.hpp"

namespace govmail::app {
namespace {

constexpr const char* kAdminUsage =
    "usage: govmail admin [--config FILE] <command>\n"
    "  domain add DOMAIN\n"
    "  domain list\n"
    "  account add ADDRESS --name \"Full Name\" (--password-stdin | --random-password)\n"
    "              [--quota-mb N] [--must-change]\n"
    "  account list --domain DOMAIN\n";

struct AdminContext {
  store::Database& db;
  admin::Provisioning& prov;
  std::vector<std::string> args;  // after "<object> <verb>"
};

int usage_error(const std::string& what) {
  std::fprintf(stderr, "govmail admin: %s\n%s", what.c_str(), kAdminUsage);
  return 2;
}

int fail(const std::string& what) {
  std::fprintf(stderr, "govmail admin: %s\n", what.c_str());
  return 1;
}

awaitable<int> domain_add(AdminContext& c) {
  if (c.args.size() != 1) co_return usage_error("domain add takes one DOMAIN");
  auto r = co_await c.prov.add_domain(c.args[0]);
  if (!r) co_return fail(r.error().message);
  std::printf("domain %s added\n", r->name.c_str());
  co_return 0;
}

awaitable<int> domain_list(AdminContext& c) {
  auto r = co_await c.db.directory().list_domains();
  if (!r) co_return fail(std::string("cannot list domains: ") + std::string(store::to_string(r.error())));
  for (const auto& d : *r) std::printf("%s\n", d.name.c_str());
  co_return 0;
}

std::optional<std::string> read_password_stdin() {
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

awaitable<int> account_add(AdminContext& c) {
  auto name = take_option(c.args, "--name");
  auto quota = take_option(c.args, "--quota-mb");
  bool from_stdin = take_flag(c.args, "--password-stdin");
  bool random = take_flag(c.args, "--random-password");
  bool must_change = take_flag(c.args, "--must-change");
  if (c.args.size() != 1) co_return usage_error("account add takes one ADDRESS");
  if (!name) co_return usage_error("account add needs --name \"Full Name\"");
  if (from_stdin == random) co_return usage_error("give exactly one of --password-stdin, --random-password");
  admin::Provisioning::NewAccountRequest req;
  req.address = c.args[0];
  req.display_name = *name;
  req.must_change_password = must_change || random;
  if (quota) {
    char* end = nullptr;
    unsigned long long mb = std::strtoull(quota->c_str(), &end, 10);
    if (quota->empty() || *end) co_return usage_error("--quota-mb expects a whole number of MB");
    req.quota_bytes = mb << 20;
  }
  if (from_stdin) {
    auto pw = read_password_stdin();
    if (!pw) co_return fail("no password on standard input");
    req.password = std::move(*pw);
  } else {
    req.password = core::random_password();
  }
  std::string shown = random ? req.password : "";
  auto r = co_await c.prov.add_account(std::move(req));
  if (!r) co_return fail(r.error().message);
  std::printf("account %s added\n", r->address.c_str());
  if (!shown.empty()) std::printf("password: %s\n", shown.c_str());
  co_return 0;
}

awaitable<int> account_list(AdminContext& c) {
  auto domain = take_option(c.args, "--domain");
  if (!domain || !c.args.empty()) co_return usage_error("account list needs --domain DOMAIN");
  auto r = co_await c.db.directory().list_accounts(admin::normalise_address(*domain));
  if (!r) co_return fail(std::string("cannot list accounts: ") + std::string(store::to_string(r.error())));
  for (const auto& a : *r)
    std::printf("%s\t%s\t%s\n", a.address.c_str(), a.display_name.c_str(),
                a.status == store::AccountStatus::active ? "active" : "suspended");
  co_return 0;
}

struct AdminCommand {
  std::string_view object, verb;
  awaitable<int> (*run)(AdminContext&);
};
constexpr AdminCommand kAdminCommands[] = {
    {"domain", "add", domain_add},
    {"domain", "list", domain_list},
    {"account", "add", account_add},
    {"account", "list", account_list},
};

}  // namespace

int cmd_admin(std::vector<std::string> args) {
  auto config_flag = take_option(args, "--config");
  if (args.size() < 2 || args[0] == "help") {
    std::fputs(kAdminUsage, args.empty() || args[0] != "help" ? stderr : stdout);
    return args.size() == 1 && args[0] == "help" ? 0 : 2;
  }
  const AdminCommand* cmd = nullptr;
  for (const auto& c : kAdminCommands)
    if (args[0] == c.object && args[1] == c.verb) cmd = &c;
  if (!cmd) return usage_error("unknown command '" + args[0] + " " + args[1] + "'");

  auto cfg = load_config_or_report(config_path(config_flag));
  if (!cfg) return 1;
  core::LogConfig quiet = cfg->log;
  quiet.level = "warn";  // the CLI prints its own results
  core::init_logging(quiet);
  auto target = database_target(*cfg, /*stop_adopted=*/false);
  if (!target) return 1;

  asio::io_context io;
  const core::AuthConfig auth = cfg->auth;
  return run_to_completion(io, [&]() -> awaitable<int> {
    store::DatabaseOptions opts;
    opts.url = target->conninfo;
    opts.pool_size = 2;
    auto db = co_await store::Database::open(io.get_executor(), opts);
    if (!db) co_return fail("cannot open the database: " + std::string(store::to_string(db.error())));
    admin::Provisioning prov((*db)->directory(), [auth](std::string pw) -> awaitable<std::string> {
      co_return core::hash_password(pw, auth.argon2_opslimit, auth.argon2_memlimit);
    });
    AdminContext ctx{**db, prov, {args.begin() + 2, args.end()}};
    int rc = co_await cmd->run(ctx);
    (*db)->close();
    co_return rc;
  });
}

}  // namespace govmail::app
