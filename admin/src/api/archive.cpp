// The archive for auditors and province admins (docs/ARCHIVE.md): journal search, one entry,
// signed export, and the audit log. Every call is audited by the dispatcher (its entry written
// before the answer leaves; refused with 503 when it cannot be).
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "admin/archive.hpp"
#include "api.hpp"
#include "core/asio.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "store/archive.hpp"
#include "store/database.hpp"

namespace govmail::admin::api {
namespace {

bool is_date(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  int month = std::stoi(s.substr(5, 2)), day = std::stoi(s.substr(8, 2));
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

// A bounded text parameter: nullopt when absent or empty.
std::optional<std::string> text_param(const Call& c, std::string_view key) {
  auto v = c.query(key);
  if (!v || v->empty()) return std::nullopt;
  return v->substr(0, 256);
}

std::optional<std::int64_t> day_us(const std::optional<std::string>& d) {
  if (!d || !is_date(*d)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(d->substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(d->substr(5, 2)) - 1;
  tm.tm_mday = std::stoi(d->substr(8, 2));
  return static_cast<std::int64_t>(::timegm(&tm)) * 1000000;
}

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

json entry_json(const store::JournalEntry& e) {
  return {{"id", e.id},
          {"chain", e.chain},
          {"seq", e.seq},
          {"at_us", e.at_us},
          {"direction", e.direction},
          {"envelope_from", core::log_safe(e.envelope_from, 320)},
          {"recipients", e.recipients},
          {"auth_user", e.auth_user},
          {"client_ip", e.client_ip},
          {"sha256", archive::to_hex(e.blob_sha256)},
          {"size", e.size},
          {"subject", core::log_safe(e.subject, 998)},
          {"hash", archive::to_hex(e.hash)}};
}

// The search parameters shared by journal search and export: participant=, since=, until=
// (YYYY-MM-DD), text= (Vietnamese folding), limit= (at most
// archive.search_results_max, or archive.export_max for an export).
std::optional<HttpResponse> search_params(Call& c, archive::SearchOptions& opt,
                                          std::size_t results_max) {
  auto since = text_param(c, "since"), until = text_param(c, "until");
  if ((since && !is_date(*since)) || (until && !is_date(*until)))
    return fail(400, "since and until are dates: YYYY-MM-DD");
  opt.query.from_us = day_us(since);
  opt.query.to_us = day_us(until);
  opt.query.participant = core::fold_vietnamese(text_param(c, "participant").value_or(""));
  opt.text = text_param(c, "text").value_or("");
  opt.scan_max = c.s.cfg.archive.search_scan_max;
  opt.results_max = results_max;
  opt.index_dir = archive::index_path(c.s.cfg);
  if (auto limit = c.query("limit")) {
    if (limit->empty() || limit->size() > 9 ||
        limit->find_first_not_of("0123456789") != std::string::npos)
      return fail(400, "limit: a whole number");
    opt.results_max = std::min<std::size_t>(std::stoul(*limit), opt.results_max);
  }
  c.target = "archive";
  c.detail = "participant=" + opt.query.participant + " since=" + since.value_or("") +
             " until=" + until.value_or("") + " text=" + opt.text;
  return std::nullopt;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

// GET archive/journal?participant=&since=&until=&text=&limit=: the journal (every message
// delivered, whatever the mailboxes did with it since), text matched with Vietnamese folding.
awaitable<HttpResponse> journal_search(Call& c) {
  archive::SearchOptions opt;
  if (auto bad = search_params(c, opt, c.s.cfg.archive.search_results_max)) co_return *bad;
  auto store = store::archive_of(*c.s.db);
  auto found = co_await archive::search(*store, opt);
  if (!found) co_return store_fail(found.error(), "archive search");
  json out = json::array();
  for (const auto& e : *found) out.push_back(entry_json(e));
  c.detail += " -> " + std::to_string(found->size()) + " messages";
  co_return ok(out);
}

// GET archive/export?participant=&since=&until=&text=&limit=: what `govmail archive export
// --format mbox` writes, in one answer: {"manifest": the manifest.json text, "signature": hex
// (Ed25519 over it, the checkpoint key), "mbox_base64", "messages"}. Written as files they pass
// `govmail archive verify-export DIR --public-key KEY`. The messages together are at most
// http.body_max (past it: 413, narrow the query).
awaitable<HttpResponse> journal_export(Call& c) {
  archive::SearchOptions opt;
  if (auto bad = search_params(c, opt, c.s.cfg.archive.export_max)) co_return *bad;
  auto store = store::archive_of(*c.s.db);
  auto found = co_await archive::search(*store, opt);
  if (!found) co_return store_fail(found.error(), "archive export");
  std::uint64_t bytes = 0;
  for (const auto& e : *found) bytes += e.size;
  if (bytes > c.s.cfg.http.body_max)
    co_return fail(413, "the export is larger than http.body_max: narrow the query");
  std::string error;
  auto key = archive::load_or_create_key(archive::key_path(c.s.cfg), error);
  if (!key) co_return fail(500, "the archive signing key cannot be read");
  namespace fs = std::filesystem;
  const fs::path dir =
      c.s.cfg.server.var_dir / "tmp" / ("export-" + std::to_string(std::random_device{}()));
  std::error_code ec;
  fs::create_directories(dir, ec);
  auto n = co_await archive::export_messages(*store, *found, dir, archive::ExportFormat::mbox, *key,
                                             nullptr, error);
  json out;
  if (n)
    out = {{"manifest", slurp(dir / "manifest.json")},
           {"signature", slurp(dir / "manifest.sig")},
           {"mbox_base64", base64(slurp(dir / "messages.mbox"))},
           {"messages", *n}};
  fs::remove_all(dir, ec);
  if (!n) co_return fail(500, "export failed: " + error);
  c.detail += " -> " + std::to_string(*n) + " messages exported";
  co_return ok(out);
}

// GET archive/journal/:id: one journal entry and its message (raw, base64).
awaitable<HttpResponse> journal_view(Call& c) {
  const std::string& id = c.params.at(0);
  c.target = "journal:" + id;
  if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos)
    co_return fail(404, "journal entry not found");
  auto store = store::archive_of(*c.s.db);
  auto e = co_await store->entry(std::stoll(id));
  if (!e || e->purged) co_return fail(404, "journal entry not found");
  auto raw = co_await store->blob(e->blob_sha256);
  if (!raw || !*raw) co_return fail(404, "journal entry not found");
  json out = entry_json(*e);
  out["raw_base64"] = base64(**raw);
  co_return ok(out);
}

// GET audit/log?since=&until=&actor=&target=&action=&after=&limit=: the audit log by time,
// actor, target and action prefix, in chain order with each entry's hash (export: page with
// after= the last seq).
awaitable<HttpResponse> audit_query(Call& c) {
  store::ArchiveStore::AuditFilter f;
  auto since = text_param(c, "since"), until = text_param(c, "until");
  if ((since && !is_date(*since)) || (until && !is_date(*until)))
    co_return fail(400, "since and until are dates: YYYY-MM-DD");
  f.from_us = day_us(since);
  f.to_us = day_us(until);
  f.actor = text_param(c, "actor").value_or("");
  f.target = text_param(c, "target").value_or("");
  f.action_prefix = text_param(c, "action").value_or("");
  auto number = [&](std::string_view key, std::int64_t dflt) -> std::optional<std::int64_t> {
    auto v = c.query(key);
    if (!v) return dflt;
    if (v->empty() || v->size() > 18 || v->find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    return std::stoll(*v);
  };
  auto after = number("after", 0), limit = number("limit", 1000);
  if (!after || !limit || *limit == 0 || *limit > 5000)
    co_return fail(400, "after: a seq; limit: 1 to 5000");
  f.after_seq = *after;
  f.limit = static_cast<int>(*limit);
  auto store = store::archive_of(*c.s.db);
  auto rows = co_await store->audit_query(f);
  if (!rows) co_return store_fail(rows.error(), "audit log");
  json out = json::array();
  for (const auto& a : *rows)
    out.push_back({{"seq", a.seq},
                   {"at_us", a.at_us},
                   {"actor", core::log_safe(a.actor, 320)},
                   {"source", core::log_safe(a.source, 320)},
                   {"action", a.action},
                   {"target", core::log_safe(a.target, 320)},
                   {"detail", core::log_safe(a.detail, 1000)},
                   {"ok", a.ok},
                   {"hash", archive::to_hex(a.hash)}});
  co_return ok(out);
}

}  // namespace govmail::admin::api
