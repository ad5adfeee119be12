// govmail admin account|alias|app-password ...: one account at a time, and lists.
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "admin/operations.hpp"
#include "admin_cli.hpp"
#include "core/asio.hpp"
#include "core/auth.hpp"
#include "runtime.hpp"
#include "store/admin_audited.hpp"

namespace govmail::app {
namespace {

using admin::parse_status;
using admin::status_name;

std::string when(std::optional<store::UnixTime> t) {
  if (!t) return "never";
  char buf[32];
  std::time_t tt = *t;
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&tt));
  return buf;
}

void print_account_line(const store::Account& a) {
  std::printf("%s\t%s\t%s\t%s\t%s\n", a.address.c_str(), a.display_name.c_str(),
              status_name(a.status), a.unit_code.value_or("").c_str(), a.position.c_str());
}

awaitable<int> change_status(AdminContext& c, store::AccountStatus status, const char* done) {
  if (c.args.size() != 1) co_return admin_usage_error("expected one ADDRESS");
  auto acc = co_await find_account_or_report(c, c.args[0]);
  if (!acc) co_return 1;
  c.audit_target = acc->address;
  auto r = co_await store::audited::set_account_status(c.db, acc->id, status, c.entry());
  if (!r) co_return admin_fail(store_error(r.error(), "account " + acc->address));
  c.audit_written = true;
  std::printf("account %s %s\n", acc->address.c_str(), done);
  co_return 0;
}

// Addresses from a file: one a line, or a CSV whose first field is the address ('#' comments).
std::optional<std::vector<std::string>> read_address_list(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return admin::parse_address_list(text.str());
}

awaitable<int> bulk_status(AdminContext& c, store::AccountStatus status) {
  if (c.args.size() != 1) co_return admin_usage_error("expected one FILE of addresses");
  auto list = read_address_list(c.args[0]);
  if (!list) co_return admin_fail("cannot read " + c.args[0]);
  c.audit_target = c.args[0];
  c.audit_detail = std::to_string(list->size()) + " addresses to " + status_name(status);
  auto missing = co_await store::audited::set_status_many(c.db, *list, status, c.entry());
  if (!missing) co_return admin_fail(store_error(missing.error(), "bulk status change"));
  c.audit_written = true;
  for (const auto& m : *missing) std::fprintf(stderr, "not found: %s\n", m.c_str());
  std::printf("%zu account(s) %s, %zu not found\n", list->size() - missing->size(),
              status_name(status), missing->size());
  co_return missing->empty() ? 0 : 1;
}

}  // namespace

awaitable<int> account_show(AdminContext& c) {
  if (c.args.size() != 1) co_return admin_usage_error("account show takes one ADDRESS");
  auto d = co_await c.admin().account_detail(admin::normalise_address(c.args[0]));
  if (!d) co_return admin_fail(store_error(d.error(), "account " + c.args[0]));
  c.audit_target = d->account.address;
  const auto& a = d->account;
  std::printf("address: %s\nname: %s\nstatus: %s\nunit: %s\nposition: %s\n", a.address.c_str(),
              a.display_name.c_str(), status_name(a.status), a.unit_code.value_or("").c_str(),
              a.position.c_str());
  std::printf("quota_mb: %llu\nused_bytes: %llu\nmessages: %llu\nmust_change_password: %s\n",
              static_cast<unsigned long long>(a.quota_bytes >> 20),
              static_cast<unsigned long long>(a.used_bytes),
              static_cast<unsigned long long>(a.used_messages),
              a.must_change_password ? "yes" : "no");
  std::printf("created: %s\nlast_login: %s\n", when(d->created_at).c_str(),
              when(d->last_login_at).c_str());
  if (d->deleted_at) std::printf("deleted: %s\n", when(d->deleted_at).c_str());
  for (const auto& x : d->aliases) std::printf("alias: %s\n", x.c_str());
  for (const auto& g : d->groups) std::printf("group: %s\n", g.c_str());
  for (const auto& p : d->app_passwords) std::printf("app_password: %s\n", p.name.c_str());
  co_return 0;
}

awaitable<int> account_filter_list(AdminContext& c) {
  auto domain = take_option(c.args, "--domain");
  auto unit = take_option(c.args, "--unit");
  auto status = take_option(c.args, "--status");
  if (!domain || !c.args.empty()) co_return admin_usage_error("account list needs --domain DOMAIN");
  store::AccountFilter f{admin::normalise_address(*domain), unit, std::nullopt};
  if (status && !(f.status = parse_status(*status)))
    co_return admin_usage_error("--status is active, suspended or deleted");
  c.audit_target = f.domain;
  auto r = co_await c.admin().list_accounts(f);
  if (!r) co_return admin_fail(store_error(r.error(), "account list"));
  for (const auto& a : *r) print_account_line(a);
  co_return 0;
}

awaitable<int> account_rename(AdminContext& c) {
  bool keep = take_flag(c.args, "--keep-alias");
  if (c.args.size() != 2) co_return admin_usage_error("account rename OLD NEW [--keep-alias]");
  auto acc = co_await find_account_or_report(c, c.args[0]);
  if (!acc) co_return 1;
  std::string to = admin::normalise_address(c.args[1]);
  auto at = to.rfind('@');
  if (at == std::string::npos || !admin::valid_local_part(to.substr(0, at)))
    co_return admin_fail("invalid address '" + to + "'");
  c.audit_target = acc->address;
  c.audit_detail = "to " + to + (keep ? " (old address kept as alias)" : "");
  auto r = co_await store::audited::rename_account(c.db, acc->id, to, keep, c.entry());
  if (!r) co_return admin_fail(store_error(r.error(), "address " + to));
  c.audit_written = true;
  std::printf("account %s renamed to %s\n", acc->address.c_str(), to.c_str());
  co_return 0;
}

awaitable<int> account_suspend(AdminContext& c) {
  co_return co_await change_status(c, store::AccountStatus::suspended, "suspended");
}
awaitable<int> account_restore(AdminContext& c) {
  co_return co_await change_status(c, store::AccountStatus::active, "restored");
}
awaitable<int> account_delete(AdminContext& c) {
  int rc = co_await change_status(c, store::AccountStatus::deleted, "deleted");
  if (rc == 0)
    std::printf("its mail is kept %u days (admin.deleted_retention_days), then `account purge`\n",
                c.cfg.admin.deleted_retention_days);
  co_return rc;
}

awaitable<int> account_purge(AdminContext& c) {
  auto days = take_option(c.args, "--older-than-days");
  if (!c.args.empty()) co_return admin_usage_error("account purge [--older-than-days N]");
  std::optional<std::uint64_t> n = c.cfg.admin.deleted_retention_days;
  if (days && !(n = parse_count(*days))) co_return admin_usage_error("--older-than-days N");
  c.audit_detail = "retention " + std::to_string(*n) + " days";
  // One entry per purged account, in its transaction; with none purged, the dispatcher records
  // the run.
  auto r = co_await store::audited::purge_deleted(c.db, static_cast<int>(*n), c.entry());
  if (!r) co_return admin_fail(store_error(r.error(), "purge"));
  c.audit_written = !r->empty();
  for (const auto& a : *r) std::printf("purged %s\n", a.c_str());
  std::printf("%zu account(s) purged\n", r->size());
  co_return 0;
}

awaitable<int> account_password(AdminContext& c) {
  bool from_stdin = take_flag(c.args, "--password-stdin");
  bool random = take_flag(c.args, "--random-password");
  bool keep = take_flag(c.args, "--no-must-change");
  if (c.args.size() != 1 || from_stdin == random)
    co_return admin_usage_error("account password ADDRESS (--password-stdin | --random-password)");
  auto acc = co_await find_account_or_report(c, c.args[0]);
  if (!acc) co_return 1;
  c.audit_target = acc->address;
  std::string pw;
  if (from_stdin) {
    auto p = read_secret_stdin();
    if (!p) co_return admin_fail("no password on standard input");
    pw = std::move(*p);
  } else {
    pw = core::random_password();
  }
  c.audit_detail = keep ? "password reset" : "password reset, must change at next login";
  // Named: GCC 12 destroys a braced temporary in a co_await argument twice.
  admin::Provisioning::Audit audit{c.db, c.entry()};
  auto r = co_await c.prov.reset_password(acc->id, pw, !keep, std::move(audit));
  if (!r) co_return admin_fail(r.error().message);
  c.audit_written = true;
  std::printf("password of %s reset%s\n", acc->address.c_str(), keep ? "" : " (must change)");
  if (random) std::printf("password: %s\n", pw.c_str());
  co_return 0;
}

awaitable<int> account_quota(AdminContext& c) {
  if (c.args.size() != 2) co_return admin_usage_error("account quota ADDRESS MB (0 = unlimited)");
  auto mb = parse_count(c.args[1]);
  if (!mb || *mb > (1u << 20)) co_return admin_usage_error("quota: a whole number of MB");
  auto acc = co_await find_account_or_report(c, c.args[0]);
  if (!acc) co_return 1;
  c.audit_target = acc->address;
  c.audit_detail = "quota_mb " + c.args[1];
  auto r = co_await store::audited::set_quota(c.db, acc->id, *mb << 20, c.entry());
  if (!r) co_return admin_fail(store_error(r.error(), "account " + acc->address));
  c.audit_written = true;
  std::printf("quota of %s set to %s MB\n", acc->address.c_str(), c.args[1].c_str());
  co_return 0;
}

awaitable<int> account_set(AdminContext& c) {
  auto name = take_option(c.args, "--name");
  auto unit = take_option(c.args, "--unit");
  auto position = take_option(c.args, "--position");
  if (c.args.size() != 1)
    co_return admin_usage_error("account set ADDRESS [--name N] [--unit C] [--position P]");
  auto acc = co_await find_account_or_report(c, c.args[0]);
  if (!acc) co_return 1;
  c.audit_target = acc->address;
  std::optional<std::string> new_unit =
      unit ? (unit->empty() ? std::nullopt : unit) : acc->unit_code;
  auto r =
      co_await store::audited::set_profile(c.db, acc->id, name.value_or(acc->display_name),
                                           new_unit, position.value_or(acc->position), c.entry());
  if (!r) co_return admin_fail(store_error(r.error(), "account or unit"));
  c.audit_written = true;
  std::printf("account %s updated\n", acc->address.c_str());
  co_return 0;
}

awaitable<int> account_unused(AdminContext& c) {
  auto domain = take_option(c.args, "--domain");
  auto days = take_option(c.args, "--days");
  bool suspend = take_flag(c.args, "--suspend");
  if (!domain || !c.args.empty())
    co_return admin_usage_error("account unused --domain D [--days N] [--suspend]");
  std::optional<std::uint64_t> n = c.cfg.admin.unused_days;
  if (days && !(n = parse_count(*days))) co_return admin_usage_error("--days N");
  c.audit_target = admin::normalise_address(*domain);
  auto r = co_await c.admin().unused_accounts(c.audit_target, static_cast<int>(*n));
  if (!r) co_return admin_fail(store_error(r.error(), "unused accounts"));
  std::vector<std::string> addresses;
  for (const auto& a : *r) {
    print_account_line(a);
    addresses.push_back(a.address);
  }
  c.audit_detail = std::to_string(r->size()) + " unused for " + std::to_string(*n) + " days";
  if (suspend && !addresses.empty()) {
    c.audit_detail += ", suspended";
    auto s = co_await store::audited::set_status_many(c.db, addresses,
                                                      store::AccountStatus::suspended, c.entry());
    if (!s) co_return admin_fail(store_error(s.error(), "suspend"));
    c.audit_written = true;
    std::printf("%zu account(s) suspended\n", addresses.size());
  }
  co_return 0;
}

awaitable<int> account_export(AdminContext& c) {
  auto domain = take_option(c.args, "--domain");
  auto output = take_option(c.args, "--output");
  if (!domain || !c.args.empty())
    co_return admin_usage_error("account export --domain D [--output FILE]");
  c.audit_target = admin::normalise_address(*domain);
  store::AccountFilter all{c.audit_target, std::nullopt, std::nullopt};  // named: see cmd_admin.cpp
  auto r = co_await c.admin().list_accounts(std::move(all));
  if (!r) co_return admin_fail(store_error(r.error(), "export"));
  std::string csv = admin::export_csv(*r);
  if (output) {
    std::ofstream f(*output, std::ios::binary | std::ios::trunc);
    if (!(f << csv)) co_return admin_fail("cannot write " + *output);
  } else {
    std::fputs(csv.c_str(), stdout);
  }
  c.audit_detail = std::to_string(r->size()) + " accounts";
  co_return 0;
}

awaitable<int> account_bulk_suspend(AdminContext& c) {
  co_return co_await bulk_status(c, store::AccountStatus::suspended);
}
awaitable<int> account_bulk_restore(AdminContext& c) {
  co_return co_await bulk_status(c, store::AccountStatus::active);
}

awaitable<int> alias_add(AdminContext& c) {
  if (c.args.size() != 2) co_return admin_usage_error("alias add ALIAS ACCOUNT");
  auto acc = co_await find_account_or_report(c, c.args[1]);
  if (!acc) co_return 1;
  std::string alias = admin::normalise_address(c.args[0]);
  c.audit_target = acc->address;
  c.audit_detail = alias;
  auto r = co_await store::audited::add_alias(c.db, alias, acc->id, c.entry());
  if (!r) co_return admin_fail(store_error(r.error(), "alias " + alias));
  c.audit_written = true;
  std::printf("alias %s -> %s added\n", alias.c_str(), acc->address.c_str());
  co_return 0;
}

awaitable<int> alias_remove(AdminContext& c) {
  if (c.args.size() != 1) co_return admin_usage_error("alias remove ALIAS");
  c.audit_target = admin::normalise_address(c.args[0]);
  auto r = co_await store::audited::remove_alias(c.db, c.audit_target, c.entry());
  if (!r) co_return admin_fail(store_error(r.error(), "alias " + c.audit_target));
  c.audit_written = true;
  std::printf("alias %s removed\n", c.audit_target.c_str());
  co_return 0;
}

awaitable<int> alias_list(AdminContext& c) {
  if (c.args.size() != 1) co_return admin_usage_error("alias list ACCOUNT");
  auto acc = co_await find_account_or_report(c, c.args[0]);
  if (!acc) co_return 1;
  c.audit_target = acc->address;
  auto r = co_await c.admin().aliases_of(acc->id);
  if (!r) co_return admin_fail(store_error(r.error(), "aliases"));
  for (const auto& a : *r) std::printf("%s\n", a.c_str());
  co_return 0;
}

awaitable<int> app_password_add(AdminContext& c) {
  if (c.args.size() != 2) co_return admin_usage_error("app-password add ADDRESS NAME");
  auto acc = co_await find_account_or_report(c, c.args[0]);
  if (!acc) co_return 1;
  c.audit_target = acc->address;
  c.audit_detail = c.args[1];
  std::string pw = core::random_password(20);
  auto hash = core::hash_password(pw, c.cfg.auth.argon2_opslimit, c.cfg.auth.argon2_memlimit);
  auto r = co_await store::audited::add_app_password(c.db, acc->id, c.args[1], std::move(hash),
                                                     c.entry());
  if (!r) co_return admin_fail(store_error(r.error(), "app password " + c.args[1]));
  c.audit_written = true;
  std::printf("app password %s added for %s\npassword: %s\n", c.args[1].c_str(),
              acc->address.c_str(), pw.c_str());
  co_return 0;
}

awaitable<int> app_password_remove(AdminContext& c) {
  if (c.args.size() != 2) co_return admin_usage_error("app-password remove ADDRESS NAME");
  auto acc = co_await find_account_or_report(c, c.args[0]);
  if (!acc) co_return 1;
  c.audit_target = acc->address;
  c.audit_detail = c.args[1];
  auto r = co_await store::audited::remove_app_password(c.db, acc->id, c.args[1], c.entry());
  if (!r) co_return admin_fail(store_error(r.error(), "app password " + c.args[1]));
  c.audit_written = true;
  std::printf("app password %s removed\n", c.args[1].c_str());
  co_return 0;
}

}  // namespace govmail::app
