// govmail admin <object> <verb> ...: provisioning from the command line. The table below is the
// whole command surface; each handler validates its arguments and calls admin::Provisioning.
#include <spdlog/spdlog.h>
#include <cstdio>
#include <iostream>

#include <pwd.h>
#include <unistd.h>

#include "admin/provisioning.hpp"
#include "admin_cli.hpp"
#include "commands.hpp"
#include "core/asio.hpp"
#include "core/auth.hpp"
#include "core/log.hpp"
#include "imap/stored_forms.hpp"
#include "runtime.hpp"
#include "store/database.hpp"
#include "store/directory.hpp"
#include "sync_run.hpp"

namespace govmail::app {
namespace {

constexpr const char* kAdminUsage =
    "usage: govmail admin [--config FILE] <command>\n"
    "  domain add DOMAIN | domain list | domain merge OLD NEW\n"
    "  unit import FILE (code,name,parent_code) | unit list [--parent CODE]\n"
    "  account add ADDRESS --name \"Full Name\" (--password-stdin | --random-password)\n"
    "              [--quota-mb N] [--must-change] [--unit CODE] [--position P]\n"
    "  account list --domain DOMAIN [--unit CODE] [--status active|suspended|deleted]\n"
    "  account show|suspend|restore|delete ADDRESS\n"
    "  account rename OLD NEW [--keep-alias]\n"
    "  account password ADDRESS (--password-stdin | --random-password) [--no-must-change]\n"
    "  account quota ADDRESS MB | account set ADDRESS [--name N] [--unit C] [--position P]\n"
    "  account purge [--older-than-days N]\n"
    "  account unused --domain DOMAIN [--days N] [--suspend]\n"
    "  account export --domain DOMAIN [--output FILE]\n"
    "  account bulk-suspend FILE | account bulk-restore FILE (one address a line)\n"
    "  alias add ALIAS ACCOUNT | alias remove ALIAS | alias list ACCOUNT\n"
    "  app-password add ADDRESS NAME | app-password remove ADDRESS NAME\n"
    "  group add ADDRESS [--name N] [--unit CODE] [--send-policy anyone|domain|members|senders]\n"
    "  group list --domain DOMAIN | group members GROUP | group delete GROUP\n"
    "  group member-add|member-remove|sender-add GROUP ACCOUNT\n"
    "  group policy GROUP anyone|domain|members|senders\n"
    "  import FILE --domain DOMAIN [--dry-run] [--skip-bad] [--credentials OUT.csv] [--progress]\n"
    "  import-mail ADDRESS (MBOX|MAILDIR) [--mailbox NAME] [--progress]\n"
    "  admins grant ADDRESS --role province|unit|auditor [--units C1,C2]\n"
    "  admins revoke ADDRESS | admins list | admins totp ADDRESS\n"
    "  audit list [--target T] [--action PREFIX] [--limit N]\n"
    "  dkim generate DOMAIN [--algorithm rsa|ed25519] [--selector S] | dkim list [DOMAIN]\n"
    "  queue list [--all] [--limit N] | queue show|retry|delete ID  (also: govmail queue ...)\n"
    "  search stats | search reindex --account ADDRESS|--all [--progress] |\n"
    "    search query ADDRESS TEXT...  (also: govmail search ...)\n";

int usage_error(const std::string& what) {
  return admin_usage_error(what);
}

int fail(const std::string& what) {
  return admin_fail(what);
}

awaitable<int> domain_add(AdminContext& c) {
  if (c.args.size() != 1) co_return usage_error("domain add takes one DOMAIN");
  c.audit_target = admin::normalise_address(c.args[0]);
  // Named: GCC 12 destroys a braced temporary in a co_await argument twice.
  admin::Provisioning::Audit audit{c.db, c.entry()};
  auto r = co_await c.prov.add_domain(c.args[0], std::move(audit));
  if (!r) co_return fail(r.error().message);
  c.audit_written = true;
  std::printf("domain %s added\n", r->name.c_str());
  co_return 0;
}

awaitable<int> domain_list(AdminContext& c) {
  auto r = co_await c.db.directory().list_domains();
  if (!r)
    co_return fail(std::string("cannot list domains: ") + std::string(store::to_string(r.error())));
  for (const auto& d : *r) {
    std::string alias_of;
    for (const auto& t : *r)
      if (d.alias_of && t.id == *d.alias_of) alias_of = t.name;
    if (alias_of.empty())
      std::printf("%s\n", d.name.c_str());
    else
      std::printf("%s\talias of %s\n", d.name.c_str(), alias_of.c_str());
  }
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
  auto unit = take_option(c.args, "--unit");
  auto position = take_option(c.args, "--position");
  if (c.args.size() != 1) co_return usage_error("account add takes one ADDRESS");
  if (!name) co_return usage_error("account add needs --name \"Full Name\"");
  if (from_stdin == random)
    co_return usage_error("give exactly one of --password-stdin, --random-password");
  admin::Provisioning::NewAccountRequest req;
  req.address = c.args[0];
  req.display_name = *name;
  req.must_change_password = must_change || random;
  req.unit_code = unit;
  req.position = position.value_or("");
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
  c.audit_target = admin::normalise_address(c.args[0]);
  if (req.unit_code) c.audit_detail = "unit " + *req.unit_code;
  // Named: GCC 12 destroys a braced temporary in a co_await argument twice.
  admin::Provisioning::Audit audit{c.db, c.entry()};
  auto r = co_await c.prov.add_account(std::move(req), std::move(audit));
  if (!r) co_return fail(r.error().message);
  c.audit_written = true;
  std::printf("account %s added\n", r->address.c_str());
  if (!shown.empty()) std::printf("password: %s\n", shown.c_str());
  co_return 0;
}

// audited: written to the audit log (every command but reading the log itself): after it ran,
// unless the change wrote its entry in its own transaction (AdminContext::audit_written).
struct AdminCommand {
  std::string_view object, verb;
  AdminHandler run;
  bool audited = true;
};
constexpr AdminCommand kAdminCommands[] = {
    {"domain", "add", domain_add},
    {"domain", "list", domain_list},
    {"domain", "merge", domain_merge},
    {"unit", "import", unit_import},
    {"unit", "list", unit_list},
    {"account", "add", account_add},
    {"account", "list", account_filter_list},
    {"account", "show", account_show},
    {"account", "rename", account_rename},
    {"account", "suspend", account_suspend},
    {"account", "restore", account_restore},
    {"account", "delete", account_delete},
    {"account", "purge", account_purge},
    {"account", "password", account_password},
    {"account", "quota", account_quota},
    {"account", "set", account_set},
    {"account", "unused", account_unused},
    {"account", "export", account_export},
    {"account", "bulk-suspend", account_bulk_suspend},
    {"account", "bulk-restore", account_bulk_restore},
    {"alias", "add", alias_add},
    {"alias", "remove", alias_remove},
    {"alias", "list", alias_list},
    {"app-password", "add", app_password_add},
    {"app-password", "remove", app_password_remove},
    {"group", "add", group_add},
    {"group", "list", group_list},
    {"group", "members", group_members},
    {"group", "member-add", group_member_add},
    {"group", "member-remove", group_member_remove},
    {"group", "sender-add", group_sender_add},
    {"group", "delete", group_delete},
    {"group", "policy", group_policy},
    {"import", "", bulk_import},
    {"import-mail", "", mail_import},
    {"admins", "grant", admins_grant},
    {"admins", "revoke", admins_revoke},
    {"admins", "list", admins_list},
    {"admins", "totp", admins_totp},
    {"audit", "list", audit_list, false},
    {"dkim", "generate", dkim_generate},
    {"dkim", "list", dkim_list, false},
    {"queue", "list", queue_list, false},
    {"queue", "show", queue_show, false},
    {"queue", "retry", queue_retry},
    {"queue", "delete", queue_delete},
    {"search", "stats", search_stats, false},
    {"search", "reindex", search_reindex},
    {"search", "query", search_query, false},
};

std::string cli_actor() {
  const passwd* pw = ::getpwuid(::geteuid());
  return std::string("cli:") + (pw ? pw->pw_name : std::to_string(::geteuid()));
}

std::string cli_source() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string("cli@") + host;
}

}  // namespace

int admin_usage_error(const std::string& what) {
  std::fprintf(stderr, "govmail admin: %s\n%s", what.c_str(), kAdminUsage);
  return 2;
}

int admin_fail(const std::string& what) {
  std::fprintf(stderr, "govmail admin: %s\n", what.c_str());
  return 1;
}

std::string store_error(store::StoreError e, const std::string& what) {
  switch (e) {
    case store::StoreError::exists:
      return what + " already exists";
    case store::StoreError::not_found:
      return what + " not found";
    case store::StoreError::unavailable:
      return "the database is unavailable";
    case store::StoreError::invalid:
      return what + ": invalid";
    default:
      return what + ": " + std::string(store::to_string(e));
  }
}

awaitable<std::optional<store::Account>> find_account_or_report(AdminContext& c,
                                                                const std::string& address) {
  auto a = co_await c.db.directory().find_account(admin::normalise_address(address));
  if (a) co_return *a;
  admin_fail(store_error(a.error(), "account " + admin::normalise_address(address)));
  co_return std::nullopt;
}

std::optional<std::string> read_secret_stdin() {
  return read_password_stdin();
}

std::optional<std::uint64_t> parse_count(const std::string& s) {
  if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoull(s);
}

int cmd_admin(std::vector<std::string> args) {
  auto config_flag = take_option(args, "--config");
  if (args.empty() || args[0] == "help" || (args.size() < 2 && args[0] != "import")) {
    std::fputs(kAdminUsage, args.empty() || args[0] != "help" ? stderr : stdout);
    return args.size() == 1 && args[0] == "help" ? 0 : 2;
  }
  const AdminCommand* cmd = nullptr;
  for (const auto& c : kAdminCommands)
    if (args[0] == c.object && (c.verb.empty() || args[1] == c.verb)) cmd = &c;
  if (!cmd) return usage_error("unknown command '" + args[0] + " " + args[1] + "'");
  std::size_t skip = cmd->verb.empty() ? 1 : 2;

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
    // An operator's job (purge, domain merge, import) may run long, and Ctrl-C ends it; it still
    // gives up on a lock it cannot get, and never sits idle in a transaction.
    opts.statement_timeout = std::chrono::milliseconds(0);
    opts.lock_timeout = cfg->database.lock_timeout;
    opts.idle_in_transaction_timeout = cfg->database.idle_in_transaction_timeout;
    opts.ingest_forms = imap::ingest_forms();  // import-mail, the demo seed
    auto db = co_await store::Database::open(io.get_executor(), opts);
    if (!db)
      co_return fail("cannot open the database: " + std::string(store::to_string(db.error())));
    admin::Provisioning prov((*db)->directory(), [auth](std::string pw) -> awaitable<std::string> {
      co_return core::hash_password(pw, auth.argon2_opslimit, auth.argon2_memlimit);
    });
    std::string action = std::string(cmd->object) + (skip == 2 ? "." + std::string(cmd->verb) : "");
    AdminContext ctx{
        **db,        prov,         *cfg, {args.begin() + static_cast<long>(skip), args.end()},
        cli_actor(), cli_source(), {},   {},
        action,      false};
    int rc = co_await cmd->run(ctx);
    if (cmd->audited && rc != 2 && !ctx.audit_written) {
      // A named entry: GCC 12 destroys a braced temporary in a co_await argument twice.
      store::AuditEntry entry{
          0, 0, ctx.actor, ctx.source, action, ctx.audit_target, ctx.audit_detail, rc == 0};
      auto a = co_await ctx.admin().audit(std::move(entry));
      if (!a) rc = fail("cannot write the audit log: " + std::string(store::to_string(a.error())));
    }
    (*db)->close();
    co_return rc;
  });
}

}  // namespace govmail::app
