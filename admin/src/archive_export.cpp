// Auditor search and signed exports of the archive (docs/ARCHIVE.md).
#include <algorithm>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <type_traits>

#include "admin/archive.hpp"
#include "core/asio.hpp"
#include "core/text.hpp"
#include "search/archive_index.hpp"
#include "store/mime.hpp"

namespace govmail::admin::archive {
namespace {

std::string read_file(const std::filesystem::path& p, bool& ok) {
  std::ifstream in(p, std::ios::binary);
  ok = static_cast<bool>(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool write_file(const std::filesystem::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  return static_cast<bool>(out);
}

// mboxrd: a line that starts with ">*From " gets one more '>' (and loses it when read back), so
// quoting is exactly reversible and the message hash survives the mbox.
bool from_line(std::string_view s, std::size_t i) {
  while (i < s.size() && s[i] == '>') ++i;
  return s.substr(i, 5) == "From ";
}

std::string mbox_quote(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() + 64);
  for (std::size_t i = 0; i < raw.size();) {
    if (from_line(raw, i)) out += '>';
    const std::size_t nl = raw.find('\n', i);
    const std::size_t end = nl == std::string_view::npos ? raw.size() : nl + 1;
    out.append(raw.substr(i, end - i));
    i = end;
  }
  return out;
}

std::string mbox_unquote(std::string_view quoted) {
  std::string out;
  out.reserve(quoted.size());
  for (std::size_t i = 0; i < quoted.size();) {
    if (quoted[i] == '>' && from_line(quoted, i)) ++i;
    const std::size_t nl = quoted.find('\n', i);
    const std::size_t end = nl == std::string_view::npos ? quoted.size() : nl + 1;
    out.append(quoted.substr(i, end - i));
    i = end;
  }
  return out;
}

}  // namespace

std::string fold_for_search(std::string_view text) {
  return core::fold_vietnamese(text);
}

bool text_matches(std::string_view folded_haystack, std::string_view query) {
  const std::string q = fold_for_search(query);
  std::istringstream words(q);
  std::string w;
  bool any = false;
  while (words >> w) {
    any = true;
    if (folded_haystack.find(w) == std::string_view::npos) return false;
  }
  return any;
}

std::string entry_text(const store::JournalEntry& e, std::string_view body) {
  std::string h = e.subject + '\n' + e.from_address + '\n' + e.envelope_from + '\n';
  for (const auto& r : e.recipients) h += r + '\n';
  h += body;
  return h;
}

namespace {

// Reads and parses each candidate of `q` (at most opt.scan_max), keeping the ones whose text
// holds every word: entries the text index has not reached, or all of them without an index.
awaitable<store::Result<std::size_t>> scan(store::ArchiveStore& store, const SearchOptions& opt,
                                           store::JournalQuery q,
                                           std::vector<store::JournalEntry>& out) {
  std::size_t scanned = 0;
  while (scanned < opt.scan_max && out.size() < opt.results_max) {
    q.limit = static_cast<int>(std::min<std::size_t>(500, opt.scan_max - scanned));
    auto page = co_await store.search(q);
    if (!page) co_return store::unexpected(page.error());
    if (page->empty()) break;
    for (auto& e : *page) {
      ++scanned;
      q.after_id = e.id;
      bool match = opt.text.empty();
      if (!match) {
        auto raw = co_await store.blob(e.blob_sha256);
        if (!raw) co_return store::unexpected(raw.error());
        std::string body = *raw ? store::parse_message(**raw).search_text : std::string();
        match = text_matches(fold_for_search(entry_text(e, body)), opt.text);
      }
      if (match) out.push_back(std::move(e));
      if (out.size() >= opt.results_max) break;
    }
  }
  co_return scanned;
}

// The index's matches that pass the SQL filters (participants, dates, not purged).
awaitable<store::Result<void>> indexed(store::ArchiveStore& store, const SearchOptions& opt,
                                       std::vector<std::int64_t> ids,
                                       std::vector<store::JournalEntry>& out) {
  store::JournalQuery q = opt.query;
  if (q.ids) {  // only some entries asked for (a purge's candidates): the index's among them
    std::sort(ids.begin(), ids.end());
    std::vector<std::int64_t> wanted = *q.ids, both;
    std::sort(wanted.begin(), wanted.end());
    std::set_intersection(ids.begin(), ids.end(), wanted.begin(), wanted.end(),
                          std::back_inserter(both));
    ids = std::move(both);
  }
  q.ids = std::move(ids);
  while (out.size() < opt.results_max) {
    q.limit = 500;
    auto page = co_await store.search(q);
    if (!page) co_return store::unexpected(page.error());
    for (auto& e : *page) {
      q.after_id = e.id;
      if (out.size() < opt.results_max) out.push_back(std::move(e));
    }
    if (page->size() < 500) break;
  }
  co_return store::Result<void>{};
}

}  // namespace

awaitable<store::Result<std::vector<store::JournalEntry>>> search(store::ArchiveStore& store,
                                                                  SearchOptions opt) {
  SearchStats local;
  SearchStats& stats = opt.stats ? *opt.stats : local;
  std::vector<store::JournalEntry> out;
  std::optional<search::ArchiveCursor> cursor;
  std::optional<std::vector<std::int64_t>> ids;
  // The cursors before the matches: an entry indexed in between is found twice, not missed.
  if (!opt.text.empty() && !opt.index_dir.empty()) cursor = search::archive_cursor(opt.index_dir);
  if (cursor) {
    auto ours = co_await index_is_of(store, *cursor);
    if (!ours) co_return store::unexpected(ours.error());
    if (!*ours) cursor.reset();  // another database's index: read every candidate instead
  }
  if (cursor) ids = search::archive_matches(opt.index_dir, opt.text, opt.scan_max);
  store::JournalQuery rest = opt.query;  // what is read one by one
  if (ids) {
    stats.indexed = true;
    stats.index_hits = ids->size();
    auto r = co_await indexed(store, opt, *ids, out);
    if (!r) co_return store::unexpected(r.error());
    stats.from_index = out.size();
    rest.only_above = true;
    for (const auto& [chain, mark] : *cursor) {
      rest.above_chains.push_back(chain);
      rest.above_seqs.push_back(mark.seq);
    }
  }
  std::vector<store::JournalEntry> scanned;
  auto n = co_await scan(store, opt, rest, scanned);
  if (!n) co_return store::unexpected(n.error());
  stats.scanned = *n;
  // Both lists ascend by id and the index holds no entry past its cursors: merge, then cut.
  std::vector<store::JournalEntry> all;
  all.reserve(out.size() + scanned.size());
  std::merge(std::make_move_iterator(out.begin()), std::make_move_iterator(out.end()),
             std::make_move_iterator(scanned.begin()), std::make_move_iterator(scanned.end()),
             std::back_inserter(all), [](const auto& a, const auto& b) { return a.id < b.id; });
  // An entry indexed between reading the cursors and the matches comes from both.
  all.erase(std::unique(all.begin(), all.end(),
                        [](const auto& a, const auto& b) { return a.id == b.id; }),
            all.end());
  if (all.size() > opt.results_max) all.resize(opt.results_max);
  co_return all;
}

namespace {

// The entries with their chain positions: one delivered within the last second may not be
// linked yet (migration 0030); linked now and read again.
awaitable<store::Result<std::vector<store::JournalEntry>>> linked(
    store::ArchiveStore& store, std::vector<store::JournalEntry> entries) {
  if (std::none_of(entries.begin(), entries.end(), [](const auto& e) { return e.chain.empty(); }))
    co_return entries;
  auto n = co_await store.link_journal(50'000);
  if (!n) co_return store::unexpected(n.error());
  for (auto& e : entries) {
    if (!e.chain.empty()) continue;
    auto again = co_await store.entry(e.id);
    if (!again) co_return store::unexpected(again.error());
    e = std::move(*again);
  }
  co_return entries;
}

}  // namespace

awaitable<store::Result<std::size_t>> export_messages(
    store::ArchiveStore& store, const std::vector<store::JournalEntry>& found,
    const std::filesystem::path& dir, ExportFormat format, const SigningKey& key,
    const std::function<void(std::int64_t, std::int64_t)>& progress, std::string& error) {
  auto entries_linked = co_await linked(store, found);
  if (!entries_linked) co_return store::unexpected(entries_linked.error());
  const std::vector<store::JournalEntry>& entries = *entries_linked;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    error = "cannot create " + dir.string() + ": " + ec.message();
    co_return store::unexpected(store::StoreError::invalid);
  }
  nlohmann::json manifest;
  manifest["format"] = format == ExportFormat::eml ? "eml" : "mbox";
  manifest["public_key"] = to_hex(key.public_key);
  manifest["messages"] = nlohmann::json::array();
  std::ofstream mbox;
  std::uint64_t offset = 0;
  if (format == ExportFormat::mbox) mbox.open(dir / "messages.mbox", std::ios::binary);
  std::size_t n = 0;
  for (const auto& e : entries) {
    auto raw = co_await store.blob(e.blob_sha256);
    if (!raw) co_return store::unexpected(raw.error());
    if (!*raw) {
      error = "message blob of journal entry " + std::to_string(e.id) + " missing";
      co_return store::unexpected(store::StoreError::not_found);
    }
    nlohmann::json m = {{"journal_id", e.id},
                        {"chain", e.chain},
                        {"seq", e.seq},
                        {"entry_hash", to_hex(e.hash)},
                        {"sha256", to_hex(sha256(**raw))},
                        {"size", (*raw)->size()},
                        {"at_us", e.at_us},
                        {"direction", e.direction},
                        {"envelope_from", e.envelope_from},
                        {"recipients", e.recipients},
                        {"subject", e.subject}};
    if (format == ExportFormat::eml) {
      char name[32];
      std::snprintf(name, sizeof name, "%06zu.eml", n + 1);
      if (!write_file(dir / name, **raw)) {
        error = "cannot write " + (dir / name).string();
        co_return store::unexpected(store::StoreError::invalid);
      }
      m["file"] = name;
    } else {
      const std::string sep = "From " +
                              (e.envelope_from.empty() ? "MAILER-DAEMON" : e.envelope_from) +
                              " Thu Jan  1 00:00:00 1970\n";
      const std::string body = mbox_quote(**raw);
      mbox << sep << body << "\n";
      m["file"] = "messages.mbox";
      m["offset"] = offset + sep.size();
      m["length"] = body.size();
      offset += sep.size() + body.size() + 1;
    }
    manifest["messages"].push_back(std::move(m));
    ++n;
    if (progress) progress(static_cast<std::int64_t>(n), static_cast<std::int64_t>(entries.size()));
  }
  if (format == ExportFormat::mbox && !mbox.flush()) {
    error = "cannot write " + (dir / "messages.mbox").string();
    co_return store::unexpected(store::StoreError::invalid);
  }
  const std::string text = manifest.dump(1);
  if (!write_file(dir / "manifest.json", text) ||
      !write_file(dir / "manifest.sig", to_hex(sign(key, text)) + "\n")) {
    error = "cannot write the manifest in " + dir.string();
    co_return store::unexpected(store::StoreError::invalid);
  }
  co_return n;
}

namespace {

// A member of `o` as T, the default when absent; nullopt when present with another type.
template <class T>
std::optional<T> field(const nlohmann::json& o, const char* key, T dflt) {
  auto it = o.find(key);
  if (it == o.end()) return dflt;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return std::nullopt;
  } else if constexpr (std::is_unsigned_v<T>) {
    if (!it->is_number_unsigned()) return std::nullopt;
  } else {
    if (!it->is_number_integer()) return std::nullopt;
  }
  return it->get<T>();
}

}  // namespace

bool within(std::uint64_t offset, std::uint64_t length, std::uint64_t size) {
  return offset <= size && length <= size - offset;
}

std::optional<Manifest> parse_manifest(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto messages = j.find("messages");
  auto format = field<std::string>(j, "format", "eml");
  if (messages == j.end() || !messages->is_array() || !format ||
      (*format != "eml" && *format != "mbox"))
    return std::nullopt;
  Manifest out;
  out.mbox = *format == "mbox";
  for (const auto& m : *messages) {
    if (!m.is_object()) return std::nullopt;
    auto file = field<std::string>(m, "file", ""), chain = field<std::string>(m, "chain", "");
    auto hash = field<std::string>(m, "sha256", "");
    auto seq = field<std::int64_t>(m, "seq", 0);
    auto offset = field<std::uint64_t>(m, "offset", 0),
         length = field<std::uint64_t>(m, "length", 0);
    if (!file || !chain || !hash || !seq || !offset || !length) return std::nullopt;
    out.messages.push_back({*file, *chain, *hash, *seq, *offset, *length});
  }
  return out;
}

std::vector<std::string> verify_export(const std::filesystem::path& dir,
                                       std::string_view public_key) {
  std::vector<std::string> problems;
  bool ok = false;
  const std::string text = read_file(dir / "manifest.json", ok);
  if (!ok) return {"manifest.json missing"};
  std::string sig_hex = read_file(dir / "manifest.sig", ok);
  if (!ok) return {"manifest.sig missing"};
  while (!sig_hex.empty() && std::isspace(static_cast<unsigned char>(sig_hex.back())))
    sig_hex.pop_back();
  auto sig = from_hex(sig_hex);
  if (!sig || !signature_ok(public_key, text, *sig))
    return {"manifest.json: signature does not verify with the given public key"};
  auto manifest = parse_manifest(text);
  if (!manifest) return {"manifest.json is not a manifest"};
  std::string mbox;
  if (manifest->mbox) {
    mbox = read_file(dir / "messages.mbox", ok);
    if (!ok) return {"messages.mbox missing"};
  }
  for (const auto& m : manifest->messages) {
    const std::string where = m.file + " (journal " + m.chain + " #" + std::to_string(m.seq) + ")";
    std::string raw;
    if (manifest->mbox) {
      if (!within(m.offset, m.length, mbox.size())) {
        problems.push_back(where + ": cut short");
        continue;
      }
      raw = mbox_unquote(std::string_view(mbox).substr(m.offset, m.length));
    } else {
      if (m.file.empty() || m.file == "." || m.file == ".." ||
          m.file.find('/') != std::string::npos) {
        problems.push_back("manifest names a bad file: " + m.file);
        continue;
      }
      raw = read_file(dir / m.file, ok);
      if (!ok) {
        problems.push_back(where + ": missing");
        continue;
      }
    }
    if (to_hex(sha256(raw)) != m.sha256)
      problems.push_back(where + ": altered (hash differs from the signed manifest)");
  }
  return problems;
}

}  // namespace govmail::admin::archive
