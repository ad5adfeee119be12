// govmail archive ...: verify the journal and audit chains, sign checkpoints, auditor search,
// show and export, retention policies, legal holds and purge (docs/ARCHIVE.md).
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "admin/archive.hpp"
#include "commands.hpp"
#include "core/asio.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "runtime.hpp"
#include "search/archive_index.hpp"
#include "store/admin_store.hpp"
#include "store/archive.hpp"
#include "store/database.hpp"
#include "sync_run.hpp"

namespace govmail::app {
namespace ar = admin::archive;
namespace {

constexpr const char* kArchiveUsage =
    "usage: govmail archive [--config FILE] <verb> ...\n"
    "  verify [--from DATE] [--to DATE] [--no-blobs] [--public-key HEX|FILE] [--progress]\n"
    "  checkpoint                      sign the head of every chain that moved\n"
    "  public-key                      print the checkpoint key's public half (hex)\n"
    "  stats                           journal entries, and how many the text index lacks\n"
    "  search [--participant ADDR] [--from DATE] [--to DATE] [--text WORDS]\n"
    "  show ID                         a journaled message, raw\n"
    "  export --out DIR [--format eml|mbox] [search options] [--progress]\n"
    "  verify-export DIR --public-key HEX|FILE   (no database needed)\n"
    "  purge [--dry-run]               what every retention policy and legal hold allows\n"
    "  policy list | policy set default|domain|unit|group VALUE YEARS | policy remove SCOPE VALUE\n"
    "  hold list | hold add NAME [--account A] [--unit U] [--from DATE] [--to DATE]\n"
    "                [--query WORDS]   every word in the entry's text (folded)\n"
    "  hold release ID\n"
    "  audit [--from DATE] [--to DATE] [--actor A] [--target T] [--action PREFIX] [--limit N]\n"
    "        [--json]                  query or export the audit log\n"
    "  audit-prune                     delete audit entries older than "
    "archive.audit_retention_days\n"
    "DATE: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)\n";

int usage(const std::string& what) {
  std::fprintf(stderr, "govmail archive: %s\n%s", what.c_str(), kArchiveUsage);
  return 2;
}
int fail(const std::string& what) {
  std::fprintf(stderr, "govmail archive: %s\n", what.c_str());
  return 1;
}

std::string actor() {
  const passwd* pw = ::getpwuid(::geteuid());
  return std::string("cli:") + (pw ? pw->pw_name : std::to_string(::geteuid()));
}
std::string source() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string("cli@") + host;
}

std::optional<std::int64_t> parse_date(const std::string& s) {
  std::tm tm{};
  const char* end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end || *end) {
    tm = {};
    end = ::strptime(s.c_str(), "%Y-%m-%d", &tm);
    if (!end || *end) return std::nullopt;
  }
  return static_cast<std::int64_t>(::timegm(&tm)) * 1000000;
}

std::string when(std::int64_t us) {
  std::time_t t = us / 1000000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A progress bar on stderr, redrawn when the percentage changes.
std::function<void(std::int64_t, std::int64_t)> progress_bar(const char* what) {
  auto last = std::make_shared<int>(-1);
  return [what, last](std::int64_t done, std::int64_t total) {
    const int pct = total > 0 ? static_cast<int>(done * 100 / total) : 100;
    if (pct == *last && done != total) return;
    *last = pct;
    char bar[41];
    for (int i = 0; i < 40; ++i) bar[i] = i < pct * 40 / 100 ? '#' : '.';
    bar[40] = 0;
    std::fprintf(stderr, "\r%s [%s] %3d%% %lld/%lld", what, bar, pct, static_cast<long long>(done),
                 static_cast<long long>(total));
    if (done >= total) std::fputc('\n', stderr);
  };
}

// A public key given as hex or as a file holding the hex.
std::optional<std::string> public_key_arg(const std::string& s) {
  std::string hex = s;
  if (std::ifstream in(s); in) in >> hex;
  auto raw = ar::from_hex(hex);
  if (!raw || raw->size() != 32) return std::nullopt;
  return raw;
}

std::filesystem::path key_path(const core::Config& cfg) {
  return ar::key_path(cfg);
}

std::optional<ar::SigningKey> signing_key(const core::Config& cfg) {
  std::string error;
  auto key = ar::load_or_create_key(key_path(cfg), error);
  if (!key) fail(error);
  return key;
}

struct Ctx {
  store::Database& db;
  store::ArchiveStore& store;
  const core::Config& cfg;
  std::vector<std::string> args;
  store::ArchiveStore& archive() { return store; }
  store::ArchiveActor who() const { return {actor(), source()}; }
};

// An auditor's action is written before its result is shown; when that write fails, nothing is.
awaitable<bool> audited(Ctx& c, std::string action, std::string target, std::string detail) {
  store::AuditEntry entry{
      0, 0, actor(), source(), std::move(action), std::move(target), std::move(detail), true};
  auto a = co_await c.db.admin().audit(std::move(entry));
  if (!a)
    fail("cannot write the audit log (nothing shown): " + std::string(store::to_string(a.error())));
  co_return static_cast<bool>(a);
}

awaitable<int> do_verify(Ctx& c) {
  ar::VerifyOptions opt;
  auto from = take_option(c.args, "--from");
  auto to = take_option(c.args, "--to");
  auto key = take_option(c.args, "--public-key");
  opt.blobs = !take_flag(c.args, "--no-blobs");
  const bool progress = take_flag(c.args, "--progress") || ::isatty(2);
  if (!c.args.empty()) co_return usage("verify: unexpected " + c.args[0]);
  if (from && !(opt.from_us = parse_date(*from))) co_return usage("--from expects a date");
  if (to && !(opt.to_us = parse_date(*to))) co_return usage("--to expects a date");
  // Never the local key file: whoever can replace it could re-sign. Unset: the pinned key.
  if (!key && !c.cfg.archive.public_key_file.empty()) key = c.cfg.archive.public_key_file.string();
  if (key) {
    auto k = public_key_arg(*key);
    if (!k) co_return usage("--public-key expects 64 hex digits or a file holding them");
    opt.trusted_public_key = *k;
  }
  if (progress) opt.progress = progress_bar("verify");
  const auto start = std::chrono::steady_clock::now();
  auto r = co_await ar::verify(c.archive(), opt);
  if (!r) co_return fail("verify: " + std::string(store::to_string(r.error())));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "verified %lld journal entries, %lld audit entries, %lld checkpoints, %lld blobs "
      "(%llu bytes) in %.2f s (%.0f entries/s)\n",
      static_cast<long long>(r->entries), static_cast<long long>(r->audit_entries),
      static_cast<long long>(r->checkpoints), static_cast<long long>(r->blobs),
      static_cast<unsigned long long>(r->blob_bytes), s,
      s > 0 ? static_cast<double>(r->entries + r->audit_entries) / s : 0.0);
  if (r->blob_bytes > 0) {
    const double blob_s = r->blob_read_seconds + r->blob_hash_seconds;
    std::printf("blob check: %.1f MB read in %.2f s, hashed in %.2f s (%.1f MB/s)\n",
                static_cast<double>(r->blob_bytes) / 1e6, r->blob_read_seconds,
                r->blob_hash_seconds,
                blob_s > 0 ? static_cast<double>(r->blob_bytes) / blob_s / 1e6 : 0.0);
  }
  for (const auto& p : r->problems) std::printf("TAMPERED: %s\n", p.c_str());
  if (!r->ok()) co_return 1;
  std::printf("archive intact\n");
  co_return 0;
}

awaitable<int> do_checkpoint(Ctx& c) {
  auto key = signing_key(c.cfg);
  if (!key) co_return 1;
  auto n = co_await ar::checkpoint(c.archive(), *key);
  if (!n && n.error() == store::StoreError::conflict)
    co_return fail("checkpoint: " + key_path(c.cfg).string() +
                   " is not the key pinned in the database (`archive verify` would refuse it)");
  if (!n) co_return fail("checkpoint: " + std::string(store::to_string(n.error())));
  std::printf("%d checkpoint(s) signed\n", *n);
  co_return 0;
}

awaitable<int> do_public_key(Ctx& c) {
  auto key = signing_key(c.cfg);
  if (!key) co_return 1;
  std::printf("%s\n", ar::to_hex(key->public_key).c_str());
  co_return 0;
}

// How far the journal goes and how far the auditors' text index has followed it, chain by
// chain (the index is kept by `govmail serve`; it lags under load by design).
awaitable<int> do_stats(Ctx& c) {
  if (!c.args.empty()) co_return usage("stats takes no arguments");
  auto heads = co_await c.archive().heads();
  if (!heads) co_return fail("stats: " + std::string(store::to_string(heads.error())));
  const auto cursor = search::archive_cursor(ar::index_path(c.cfg));
  std::int64_t entries = 0, behind = 0;
  for (const auto& h : *heads) {
    if (!h.chain.starts_with("journal.")) continue;
    entries += h.seq;
    std::int64_t indexed = 0;
    if (cursor)
      if (auto it = cursor->find(h.chain); it != cursor->end()) indexed = it->second.seq;
    behind += std::max<std::int64_t>(0, h.seq - indexed);
  }
  std::printf("journal entries: %lld\n", static_cast<long long>(entries));
  std::printf("text index: %s\n", cursor ? ar::index_path(c.cfg).c_str() : "none yet");
  std::printf("entries not indexed yet: %lld\n", static_cast<long long>(behind));
  co_return 0;
}

// Search options shared by search and export; nullopt after a usage error.
// `results_max`: archive.search_results_max or archive.export_max.
std::optional<ar::SearchOptions> search_options(Ctx& c, std::string& described,
                                                std::size_t results_max) {
  ar::SearchOptions opt;
  opt.scan_max = c.cfg.archive.search_scan_max;
  opt.results_max = results_max;
  opt.index_dir = ar::index_path(c.cfg);
  auto who = take_option(c.args, "--participant");
  auto from = take_option(c.args, "--from");
  auto to = take_option(c.args, "--to");
  auto text = take_option(c.args, "--text");
  if (who) opt.query.participant = core::fold_vietnamese(*who);
  if (from && !(opt.query.from_us = parse_date(*from)))
    return usage("--from expects a date"), std::nullopt;
  if (to && !(opt.query.to_us = parse_date(*to))) return usage("--to expects a date"), std::nullopt;
  if (text) opt.text = *text;
  described = "participant=" + (who ? *who : "") + " from=" + (from ? *from : "") +
              " to=" + (to ? *to : "") + " text=" + (text ? *text : "");
  return opt;
}

awaitable<int> do_search(Ctx& c) {
  std::string described;
  auto opt = search_options(c, described, c.cfg.archive.search_results_max);
  if (!opt) co_return 2;
  if (!c.args.empty()) co_return usage("search: unexpected " + c.args[0]);
  if (!co_await audited(c, "archive.search", "archive", described)) co_return 1;
  ar::SearchStats stats;
  opt->stats = &stats;
  auto found = co_await ar::search(c.archive(), *opt);
  if (!found) co_return fail("search: " + std::string(store::to_string(found.error())));
  if (!opt->text.empty())
    std::fprintf(
        stderr, "text index: %s, %zu hit(s), %zu match(es) from it, %zu entries read one by one\n",
        stats.indexed ? "used" : "none yet", stats.index_hits, stats.from_index, stats.scanned);
  for (const auto& e : *found) {
    std::string rcpts;
    for (const auto& r : e.recipients) rcpts += (rcpts.empty() ? "" : ",") + r;
    std::printf("%lld\t%s\t%s\t<%s>\t%s\t%s\n", static_cast<long long>(e.id), when(e.at_us).c_str(),
                e.direction.c_str(), e.envelope_from.c_str(), rcpts.c_str(),
                core::log_safe(e.subject, 200).c_str());
  }
  std::printf("%zu message(s)\n", found->size());
  co_return 0;
}

awaitable<int> do_show(Ctx& c) {
  if (c.args.size() != 1) co_return usage("show takes one journal id");
  const std::int64_t id = std::atoll(c.args[0].c_str());
  if (!co_await audited(c, "archive.view", "journal:" + c.args[0], "")) co_return 1;
  auto e = co_await c.archive().entry(id);
  if (!e || e->purged) co_return fail("journal entry " + c.args[0] + " not found");
  auto raw = co_await c.archive().blob(e->blob_sha256);
  if (!raw || !*raw) co_return fail("message of journal entry " + c.args[0] + " not found");
  std::string rcpts;
  for (const auto& r : e->recipients) rcpts += (rcpts.empty() ? "" : ",") + r;
  std::printf(
      "journal: %lld (%s #%lld)\nat: %s\ndirection: %s\nenvelope-from: <%s>\n"
      "recipients: %s\nauthenticated: %s\nclient-ip: %s\nsha256: %s\n\n",
      static_cast<long long>(e->id), e->chain.c_str(), static_cast<long long>(e->seq),
      when(e->at_us).c_str(), e->direction.c_str(), e->envelope_from.c_str(), rcpts.c_str(),
      e->auth_user.c_str(), e->client_ip.c_str(), ar::to_hex(e->blob_sha256).c_str());
  std::fwrite((*raw)->data(), 1, (*raw)->size(), stdout);
  co_return 0;
}

awaitable<int> do_export(Ctx& c) {
  auto out = take_option(c.args, "--out");
  auto format = take_option(c.args, "--format");
  const bool progress = take_flag(c.args, "--progress") || ::isatty(2);
  std::string described;
  auto opt = search_options(c, described, c.cfg.archive.export_max);
  if (!opt) co_return 2;
  if (!out) co_return usage("export needs --out DIR");
  if (format && *format != "eml" && *format != "mbox") co_return usage("--format eml|mbox");
  if (!c.args.empty()) co_return usage("export: unexpected " + c.args[0]);
  auto key = signing_key(c.cfg);
  if (!key) co_return 1;
  if (!co_await audited(c, "archive.export", *out, described + " format=" + format.value_or("eml")))
    co_return 1;
  auto found = co_await ar::search(c.archive(), *opt);
  if (!found) co_return fail("export: " + std::string(store::to_string(found.error())));
  std::string error;
  auto n = co_await ar::export_messages(
      c.archive(), *found, *out,
      format.value_or("eml") == "mbox" ? ar::ExportFormat::mbox : ar::ExportFormat::eml, *key,
      progress ? progress_bar("export") : nullptr, error);
  if (!n)
    co_return fail("export: " + (error.empty() ? std::string(store::to_string(n.error())) : error));
  std::printf("%zu message(s) exported to %s with a signed manifest\n", *n, out->c_str());
  co_return 0;
}

awaitable<int> do_purge(Ctx& c) {
  const bool dry = take_flag(c.args, "--dry-run");
  if (!c.args.empty()) co_return usage("purge takes [--dry-run]");
  auto n = co_await ar::purge(c.archive(), ar::index_path(c.cfg), c.who(), dry);
  if (!n) co_return fail("purge: " + std::string(store::to_string(n.error())));
  std::printf(dry ? "%lld journal entries may be purged\n" : "%lld journal entries purged\n",
              static_cast<long long>(*n));
  co_return 0;
}

awaitable<int> do_policy(Ctx& c) {
  if (c.args.empty()) co_return usage("policy list|set|remove");
  const std::string verb = c.args[0];
  if (verb == "list" && c.args.size() == 1) {
    auto ps = co_await c.archive().policies();
    if (!ps) co_return fail("policy: " + std::string(store::to_string(ps.error())));
    for (const auto& p : *ps)
      std::printf("%s\t%s\t%s\n", p.scope.c_str(), p.value.c_str(),
                  p.years == 0 ? "permanent" : (std::to_string(p.years) + " years").c_str());
    co_return 0;
  }
  store::RetentionPolicy p;
  if (verb == "set" && c.args.size() == 4) {
    p.scope = c.args[1];
    p.value = c.args[2];
    p.years = std::atoi(c.args[3].c_str());
    if (c.args[3].find_first_not_of("0123456789") != std::string::npos || p.years > 1000)
      co_return usage("YEARS: 0 (permanent) to 1000");
  } else if (verb == "remove" && c.args.size() == 3) {
    p.scope = c.args[1];
    p.value = c.args[2];
    p.years = -1;
  } else {
    co_return usage("policy list | set SCOPE VALUE YEARS | remove SCOPE VALUE");
  }
  if (p.scope != "default" && p.scope != "domain" && p.scope != "unit" && p.scope != "group")
    co_return usage("SCOPE: default, domain, unit or group");
  if (p.scope == "default") p.value = "";
  if (p.scope != "unit") p.value = core::fold_vietnamese(p.value);
  auto r = co_await c.archive().set_policy(c.who(), p);
  if (!r) co_return fail("policy: " + std::string(store::to_string(r.error())));
  std::printf("policy %s %s: %s\n", p.scope.c_str(), p.value.c_str(),
              p.years < 0 ? "removed" : "set");
  co_return 0;
}

awaitable<int> do_hold(Ctx& c) {
  if (c.args.empty()) co_return usage("hold list|add|release");
  const std::string verb = c.args[0];
  c.args.erase(c.args.begin());
  if (verb == "list") {
    auto hs = co_await c.archive().holds();
    if (!hs) co_return fail("hold: " + std::string(store::to_string(hs.error())));
    for (const auto& h : *hs)
      std::printf("%lld\t%s\t%s\taccount=%s\tunit=%s\tfrom=%s\tto=%s\tquery=%s\tby %s\n",
                  static_cast<long long>(h.id), h.released ? "released" : "active", h.name.c_str(),
                  h.account.c_str(), h.unit.c_str(), h.from_us ? when(*h.from_us).c_str() : "-",
                  h.to_us ? when(*h.to_us).c_str() : "-", h.query.c_str(), h.created_by.c_str());
    co_return 0;
  }
  if (verb == "release" && c.args.size() == 1) {
    auto r = co_await c.archive().release_hold(c.who(), std::atoll(c.args[0].c_str()));
    if (!r) co_return fail("hold " + c.args[0] + ": " + std::string(store::to_string(r.error())));
    std::printf("hold %s released\n", c.args[0].c_str());
    co_return 0;
  }
  if (verb != "add") co_return usage("hold list | add NAME ... | release ID");
  store::LegalHold h;
  auto account = take_option(c.args, "--account");
  auto unit = take_option(c.args, "--unit");
  auto from = take_option(c.args, "--from");
  auto to = take_option(c.args, "--to");
  auto query = take_option(c.args, "--query");
  if (c.args.size() != 1) co_return usage("hold add takes one NAME");
  h.name = c.args[0];
  if (query) {
    // A word is what the text index keeps: letters and digits (any non-ASCII byte is a letter's).
    const bool has_word = std::any_of(query->begin(), query->end(), [](unsigned char ch) {
      return ch >= 0x80 || std::isalnum(ch);
    });
    if (!has_word) co_return usage("--query needs at least one word");
    h.query = *query;
  }
  if (account) h.account = core::fold_vietnamese(*account);
  if (unit) h.unit = *unit;
  if (from && !(h.from_us = parse_date(*from))) co_return usage("--from expects a date");
  if (to && !(h.to_us = parse_date(*to))) co_return usage("--to expects a date");
  auto id = co_await c.archive().add_hold(c.who(), h);
  if (!id) co_return fail("hold: " + std::string(store::to_string(id.error())));
  std::printf("hold %lld added\n", static_cast<long long>(*id));
  co_return 0;
}

awaitable<int> do_audit(Ctx& c) {
  store::ArchiveStore::AuditFilter f;
  auto from = take_option(c.args, "--from");
  auto to = take_option(c.args, "--to");
  auto who = take_option(c.args, "--actor");
  auto target = take_option(c.args, "--target");
  auto action = take_option(c.args, "--action");
  auto limit = take_option(c.args, "--limit");
  const bool json = take_flag(c.args, "--json");
  if (!c.args.empty()) co_return usage("audit: unexpected " + c.args[0]);
  if (from && !(f.from_us = parse_date(*from))) co_return usage("--from expects a date");
  if (to && !(f.to_us = parse_date(*to))) co_return usage("--to expects a date");
  f.actor = who.value_or("");
  f.target = target.value_or("");
  f.action_prefix = action.value_or("");
  long long wanted = limit ? std::atoll(limit->c_str()) : 1000;
  if (wanted <= 0) co_return usage("--limit expects a positive number");
  long long shown = 0;
  while (shown < wanted) {
    f.limit = static_cast<int>(std::min<long long>(wanted - shown, 5000));
    auto rows = co_await c.archive().audit_query(f);
    if (!rows) co_return fail("audit: " + std::string(store::to_string(rows.error())));
    if (rows->empty()) break;
    for (const auto& a : *rows) {
      if (json)
        std::printf(
            "{\"seq\":%lld,\"at\":\"%s\",\"actor\":\"%s\",\"source\":\"%s\",\"action\":"
            "\"%s\",\"target\":\"%s\",\"detail\":\"%s\",\"ok\":%s,\"hash\":\"%s\"}\n",
            static_cast<long long>(a.seq), when(a.at_us).c_str(),
            core::log_safe(a.actor, 200).c_str(), core::log_safe(a.source, 200).c_str(),
            core::log_safe(a.action, 100).c_str(), core::log_safe(a.target, 300).c_str(),
            core::log_safe(a.detail, 500).c_str(), a.ok ? "true" : "false",
            ar::to_hex(a.hash).c_str());
      else
        std::printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", static_cast<long long>(a.seq),
                    when(a.at_us).c_str(), a.actor.c_str(), a.source.c_str(), a.action.c_str(),
                    a.target.c_str(), a.detail.c_str(), a.ok ? "ok" : "failed");
      f.after_seq = a.seq;
      ++shown;
    }
  }
  co_return 0;
}

awaitable<int> do_audit_prune(Ctx& c) {
  const unsigned days = c.cfg.archive.audit_retention_days;
  auto n = co_await c.archive().audit_prune(c.who(), static_cast<int>(days));
  if (!n) co_return fail("audit-prune: " + std::string(store::to_string(n.error())));
  std::printf("%lld audit entries older than %u days deleted\n", static_cast<long long>(*n), days);
  co_return 0;
}

int verify_export_cmd(std::vector<std::string> args) {
  auto key = take_option(args, "--public-key");
  if (args.size() != 1 || !key) return usage("verify-export DIR --public-key HEX|FILE");
  auto k = public_key_arg(*key);
  if (!k) return usage("--public-key expects 64 hex digits or a file holding them");
  auto problems = ar::verify_export(args[0], *k);
  for (const auto& p : problems) std::printf("TAMPERED: %s\n", p.c_str());
  if (!problems.empty()) return 1;
  std::printf("export verified: manifest signature and every message hash match\n");
  return 0;
}

struct Verb {
  std::string_view name;
  awaitable<int> (*run)(Ctx&);
};
constexpr Verb kVerbs[] = {
    {"verify", do_verify}, {"checkpoint", do_checkpoint}, {"public-key", do_public_key},
    {"stats", do_stats},   {"search", do_search},         {"show", do_show},
    {"export", do_export}, {"purge", do_purge},           {"policy", do_policy},
    {"hold", do_hold},     {"audit", do_audit},           {"audit-prune", do_audit_prune},
};

}  // namespace

int cmd_archive(std::vector<std::string> args) {
  auto config_flag = take_option(args, "--config");
  if (args.empty() || args[0] == "help") {
    std::fputs(kArchiveUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "verify-export") return verify_export_cmd({args.begin() + 1, args.end()});
  const Verb* verb = nullptr;
  for (const auto& v : kVerbs)
    if (args[0] == v.name) verb = &v;
  if (!verb) return usage("unknown verb '" + args[0] + "'");
  auto cfg = load_config_or_report(config_path(config_flag));
  if (!cfg) return 1;
  core::LogConfig quiet = cfg->log;
  quiet.level = "warn";
  core::init_logging(quiet);
  auto target = database_target(*cfg, /*stop_adopted=*/false);
  if (!target) return 1;
  asio::io_context io;
  return run_to_completion(io, [&]() -> awaitable<int> {
    store::DatabaseOptions opts;
    opts.url = target->conninfo;
    opts.pool_size = 2;
    opts.statement_timeout = std::chrono::milliseconds(0);
    opts.lock_timeout = cfg->database.lock_timeout;
    auto db = co_await store::Database::open(io.get_executor(), opts);
    if (!db)
      co_return fail("cannot open the database: " + std::string(store::to_string(db.error())));
    auto archive_store = store::archive_of(**db);
    Ctx ctx{**db, *archive_store, *cfg, {args.begin() + 1, args.end()}};
    int rc = co_await verb->run(ctx);
    archive_store.reset();
    (*db)->close();
    co_return rc;
  });
}

}  // namespace govmail::app
