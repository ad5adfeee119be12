// govmail queue list|show|retry|delete and govmail admin dkim generate|list: the outbound
// queue for the IT staff on call, and the DKIM keys outbound mail is signed with.
#include <ctime>

#include "admin_cli.hpp"
#include "commands.hpp"
#include "core/asio.hpp"
#include "runtime.hpp"
#include "smtp/dkim.hpp"
#include "smtp/dkim_vault.hpp"
#include "store/admin_audited.hpp"
#include "store/outbound.hpp"

namespace govmail::app {
namespace {

std::string when(std::int64_t unix_time) {
  if (unix_time <= 0) return "-";
  std::time_t t = unix_time;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

std::optional<std::int64_t> parse_id(const std::vector<std::string>& args) {
  if (args.size() != 1) return std::nullopt;
  auto n = parse_count(args[0]);
  if (!n || *n == 0) return std::nullopt;
  return static_cast<std::int64_t>(*n);
}

void print_entry_line(const store::QueueEntryView& e) {
  int pending = 0, delivered = 0, bounced = 0, attempts = 0;
  std::string last;
  for (const auto& r : e.recipients) {
    attempts = std::max(attempts, r.attempts);
    if (r.status == store::RecipientStatus::delivered)
      ++delivered;
    else if (r.status == store::RecipientStatus::bounced)
      ++bounced;
    else
      ++pending;
    if (r.status == store::RecipientStatus::deferred && !r.reply.empty()) last = r.reply;
  }
  std::printf("%lld\t%s\t<%s>\t%llu bytes\t%d pending, %d delivered, %d bounced\t%d attempts",
              static_cast<long long>(e.id), when(e.created_at).c_str(), e.envelope_from.c_str(),
              static_cast<unsigned long long>(e.size), pending, delivered, bounced, attempts);
  if (!last.empty()) std::printf("\t%s", last.substr(0, 120).c_str());
  std::printf("\n");
}

}  // namespace

awaitable<int> queue_list(AdminContext& c) {
  const bool all = take_flag(c.args, "--all");
  auto limit_text = take_option(c.args, "--limit");
  if (!c.args.empty()) co_return admin_usage_error("queue list takes [--all] [--limit N]");
  auto limit = limit_text ? parse_count(*limit_text) : std::optional<std::uint64_t>(1000);
  if (!limit) co_return admin_usage_error("--limit expects a number");
  auto stats = co_await c.db.outbound().stats();
  if (!stats) co_return admin_fail(store_error(stats.error(), "queue"));
  std::printf("queue: %lld recipients pending in %lld messages, oldest %lld s, %lld reports owed\n",
              static_cast<long long>(stats->pending_recipients),
              static_cast<long long>(stats->pending_messages),
              static_cast<long long>(stats->oldest_age_seconds),
              static_cast<long long>(stats->reports_owed));
  auto entries = co_await c.db.outbound().list(all, static_cast<int>(*limit));
  if (!entries) co_return admin_fail(store_error(entries.error(), "queue"));
  for (const auto& e : *entries) print_entry_line(e);
  co_return 0;
}

awaitable<int> queue_show(AdminContext& c) {
  auto id = parse_id(c.args);
  if (!id) co_return admin_usage_error("queue show takes one queue ID");
  auto e = co_await c.db.outbound().show(*id);
  if (!e) co_return admin_fail(store_error(e.error(), "queue entry " + c.args[0]));
  std::printf("id: %lld\nfrom: <%s>\nqueued: %s\nfinished: %s\nsize: %llu\nsubject: %s\n",
              static_cast<long long>(e->id), e->envelope_from.c_str(), when(e->created_at).c_str(),
              e->finished_at ? when(*e->finished_at).c_str() : "-",
              static_cast<unsigned long long>(e->size), e->subject.c_str());
  for (const auto& r : e->recipients) {
    std::printf("recipient: <%s>\tstatus: %s%s\tattempts: %d", r.address.c_str(),
                std::string(store::to_string(r.status)).c_str(),
                r.in_delivery ? " (being delivered)" : "", r.attempts);
    if (r.status == store::RecipientStatus::queued || r.status == store::RecipientStatus::deferred)
      std::printf("\tnext: %s", when(r.next_attempt).c_str());
    if (!r.host.empty()) std::printf("\thost: %s", r.host.c_str());
    if (!r.reply.empty()) std::printf("\treply: %s", r.reply.c_str());
    if (!r.report.empty()) std::printf("\treport owed: %s", r.report.c_str());
    std::printf("\n");
  }
  co_return 0;
}

awaitable<int> queue_retry(AdminContext& c) {
  auto id = parse_id(c.args);
  if (!id) co_return admin_usage_error("queue retry takes one queue ID");
  c.audit_target = "queue:" + c.args[0];
  auto e = co_await c.db.outbound().show(*id);
  if (!e) co_return admin_fail(store_error(e.error(), "queue entry " + c.args[0]));
  c.audit_detail = "from <" + e->envelope_from + ">: pending recipients due now";
  auto n = co_await store::audited::queue_retry(c.db, *id, c.entry());
  if (!n) co_return admin_fail(store_error(n.error(), "queue entry " + c.args[0]));
  c.audit_written = true;
  std::printf("queue entry %lld: %d recipient(s) due now\n", static_cast<long long>(*id), *n);
  co_return 0;
}

awaitable<int> queue_delete(AdminContext& c) {
  auto id = parse_id(c.args);
  if (!id) co_return admin_usage_error("queue delete takes one queue ID");
  c.audit_target = "queue:" + c.args[0];
  auto e = co_await c.db.outbound().show(*id);
  if (e) c.audit_detail = "from <" + e->envelope_from + ">";
  auto r = co_await store::audited::queue_delete(c.db, *id, c.entry());
  if (!r) co_return admin_fail(store_error(r.error(), "queue entry " + c.args[0]));
  c.audit_written = true;
  std::printf("queue entry %lld deleted (no report is sent)\n", static_cast<long long>(*id));
  co_return 0;
}

awaitable<int> dkim_generate(AdminContext& c) {
  auto selector = take_option(c.args, "--selector");
  auto algorithm = take_option(c.args, "--algorithm");
  if (c.args.size() != 1) co_return admin_usage_error("dkim generate takes one DOMAIN");
  const std::string domain = admin::normalise_address(c.args[0]);
  c.audit_target = domain;
  auto domains = co_await c.db.directory().list_domains();
  if (!domains) co_return admin_fail(store_error(domains.error(), "domains"));
  bool known = false;
  for (const auto& d : *domains) known = known || d.name == domain;
  if (!known) co_return admin_fail("domain " + domain + " not found (govmail admin domain add)");
  auto alg = smtp::dkim::parse_algorithm(algorithm.value_or("rsa"));
  if (!alg) co_return admin_usage_error("--algorithm expects rsa or ed25519");
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[16];
  std::strftime(stamp, sizeof stamp, "%Y%m", &tm);
  const std::string sel = selector.value_or(
      std::string(*alg == smtp::dkim::Algorithm::ed25519_sha256 ? "ed" : "rsa") + stamp);
  if (sel.empty() || sel.size() > 63 ||
      sel.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
    co_return admin_usage_error("--selector expects [a-z0-9-], 1..63 characters");
  // The key that `govmail serve` will open it with; stored keys from before sealing are sealed.
  auto master = co_await smtp::dkim::prepare_keys(c.cfg.outbound, c.db.outbound());
  if (!master) co_return admin_fail("DKIM keys: " + master.error());
  if (!*master)
    co_return admin_fail(
        "outbound.dkim_master_key_file is not set: DKIM private keys are stored sealed under "
        "a master key kept outside the database (see conf/production.example.toml)");
  auto pair = smtp::dkim::generate_key(*alg);
  if (!pair) co_return admin_fail("key generation failed: " + pair.error());
  store::DkimKey key;
  key.domain = domain;
  key.selector = sel;
  key.algorithm = std::string(smtp::dkim::to_string(*alg));
  key.private_pem = smtp::dkim::seal_private_key(**master, domain, sel, pair->private_pem);
  key.public_b64 = pair->public_b64;
  c.audit_detail = "selector " + sel + " " + std::string(smtp::dkim::to_string(*alg));
  auto added = co_await store::audited::add_dkim_key(c.db, std::move(key), c.entry());
  if (!added) co_return admin_fail(store_error(added.error(), "DKIM selector " + sel));
  c.audit_written = true;
  std::printf("DKIM key %s for %s is now the active signing key. Publish this TXT record:\n\n",
              sel.c_str(), domain.c_str());
  std::printf("%s._domainkey.%s. IN TXT \"%s\"\n", sel.c_str(), domain.c_str(),
              smtp::dkim::dns_txt_record(*pair).c_str());
  co_return 0;
}

awaitable<int> dkim_list(AdminContext& c) {
  if (c.args.size() > 1) co_return admin_usage_error("dkim list takes [DOMAIN]");
  std::string domain = c.args.empty() ? "" : c.args[0];  // named: GCC 12 (NOTES)
  auto keys = co_await c.db.outbound().dkim_keys(std::move(domain));
  if (!keys) co_return admin_fail(store_error(keys.error(), "DKIM keys"));
  for (const auto& k : *keys) {
    auto alg = smtp::dkim::parse_algorithm(k.algorithm);
    smtp::dkim::KeyPair pub{alg.value_or(smtp::dkim::Algorithm::rsa_sha256), "", k.public_b64};
    std::printf("%s\t%s\t%s\t%s\t%s._domainkey.%s. IN TXT \"%s\"\n", k.domain.c_str(),
                k.selector.c_str(), k.algorithm.c_str(), k.active ? "active" : "old",
                k.selector.c_str(), k.domain.c_str(), smtp::dkim::dns_txt_record(pub).c_str());
  }
  co_return 0;
}

// `govmail queue ...` is `govmail admin queue ...`: the same database set-up and audit log.
int cmd_queue(std::vector<std::string> args) {
  args.insert(args.begin(), "queue");
  return cmd_admin(std::move(args));
}

}  // namespace govmail::app
