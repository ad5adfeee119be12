// Canonical hashes, the checkpoint key and `govmail archive verify`.
#include "admin/archive.hpp"

#include <sodium.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <set>
#include <span>
#include <unordered_set>

#include "core/asio.hpp"
#include "store/journal.hpp"

namespace govmail::admin::archive {
namespace {

// "5:hello": the SQL govmail_lp.
void lp(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string seq_name(const std::string& chain, std::int64_t seq) {
  return chain + " #" + std::to_string(seq);
}

}  // namespace

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::string journal_content_hash(const store::JournalEntry& e) {
  const store::JournalContent content{.direction = e.direction,
                                      .envelope_from = e.envelope_from,
                                      .recipients = &e.recipients,
                                      .auth_user = e.auth_user,
                                      .client_ip = e.client_ip,
                                      .blob_sha256 = e.blob_sha256,
                                      .size = e.size,
                                      .subject = e.subject,
                                      .from_address = e.from_address,
                                      .message_id_hdr = e.message_id_hdr};
  return sha256(store::journal_content_canon(content));
}

std::string journal_hash(const store::JournalEntry& e) {
  if (!e.content_hash.empty()) {
    // "GMJ2" (migration 0027): the link covers the content's hash, recomputed here from the row.
    std::string link = "GMJ2";
    lp(link, e.chain);
    lp(link, std::to_string(e.at_us));
    link += journal_content_hash(e);
    return sha256(e.prev_hash, link);
  }
  std::string c = "GMJ1";
  c.reserve(256 + e.subject.size());
  lp(c, e.chain);
  lp(c, std::to_string(e.at_us));
  lp(c, e.direction);
  lp(c, e.envelope_from);
  lp(c, std::to_string(e.recipients.size()));
  for (const auto& r : e.recipients) lp(c, r);
  lp(c, e.auth_user);
  lp(c, e.client_ip);
  lp(c, to_hex(e.blob_sha256));
  lp(c, std::to_string(e.size));
  lp(c, e.subject);
  lp(c, e.from_address);
  lp(c, e.message_id_hdr);
  return sha256(e.prev_hash, c);
}

std::string audit_hash(const store::AuditRecord& a) {
  std::string c = "GMA1";
  lp(c, std::to_string(a.at_us));
  lp(c, a.actor);
  lp(c, a.source);
  lp(c, a.action);
  lp(c, a.target);
  lp(c, a.detail);
  lp(c, a.ok ? "t" : "f");
  return sha256(a.prev_hash, c);
}

// ---- keys and signatures ---------------------------------------------------------------------

std::filesystem::path key_path(const core::Config& cfg) {
  if (!cfg.archive.signing_key_file.empty()) return cfg.archive.signing_key_file;
  return cfg.server.var_dir / "archive-signing.key";
}

std::optional<SigningKey> load_or_create_key(const std::filesystem::path& file,
                                             std::string& error) {
  if (sodium_init() < 0) {
    error = "libsodium failed to initialise";
    return std::nullopt;
  }
  SigningKey key;
  std::ifstream in(file);
  if (in) {
    std::string hex;
    in >> hex;
    auto sk = from_hex(hex);
    if (!sk || sk->size() != crypto_sign_SECRETKEYBYTES) {
      error = "archive signing key " + file.string() + " is not a hex Ed25519 secret key";
      return std::nullopt;
    }
    key.secret_key = *sk;
    key.public_key = key.secret_key.substr(crypto_sign_SECRETKEYBYTES - crypto_sign_PUBLICKEYBYTES);
    return key;
  }
  key.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  key.secret_key.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(key.public_key.data()),
                      reinterpret_cast<unsigned char*>(key.secret_key.data()));
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  const auto old = ::umask(077);  // the secret key: owner only
  std::ofstream out(file);
  out << to_hex(key.secret_key) << "\n";
  out.close();
  ::umask(old);
  if (!out) {
    error = "cannot write archive signing key " + file.string();
    return std::nullopt;
  }
  return key;
}

std::string sign(const SigningKey& key, std::string_view message) {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       reinterpret_cast<const unsigned char*>(key.secret_key.data()));
  return sig;
}

bool signature_ok(std::string_view public_key, std::string_view message,
                  std::string_view signature) {
  if (sodium_init() < 0) return false;
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES)
    return false;
  return crypto_sign_verify_detached(
             reinterpret_cast<const unsigned char*>(signature.data()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(),
             reinterpret_cast<const unsigned char*>(public_key.data())) == 0;
}

std::string checkpoint_message(const store::Checkpoint& c) {
  return "govmail-archive-checkpoint-v1\n" + c.chain + "\n" + std::to_string(c.seq) + "\n" +
         to_hex(c.hash) + "\n" + std::to_string(c.at_us) + "\n";
}

awaitable<store::Result<int>> checkpoint(store::ArchiveStore& store, const SigningKey& key) {
  auto heads = co_await store.heads();
  if (!heads) co_return store::unexpected(heads.error());
  // The first key to sign is pinned; a replaced key file signs nothing (conflict).
  auto pinned = co_await store.pin_public_key(key.public_key);
  if (!pinned) co_return store::unexpected(pinned.error());
  if (*pinned != key.public_key) co_return store::unexpected(store::StoreError::conflict);
  auto done = co_await store.checkpoints();
  if (!done) co_return store::unexpected(done.error());
  std::map<std::string, std::int64_t> last;
  for (const auto& c : *done) last[c.chain] = std::max(last[c.chain], c.seq);
  int n = 0;
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  for (const auto& h : *heads) {
    if (h.seq == 0 || last[h.chain] >= h.seq) continue;
    store::Checkpoint c{0, h.chain, h.seq, h.hash, now, key.public_key, {}};
    c.signature = sign(key, checkpoint_message(c));
    if (auto ok = co_await store.add_checkpoint(c); !ok) co_return store::unexpected(ok.error());
    ++n;
  }
  co_return n;
}

// ---- verify ----------------------------------------------------------------------------------

namespace {

struct ChainCheck {
  store::ArchiveStore& store;
  const VerifyOptions& opt;
  VerifyReport& report;
  std::int64_t& done;
  std::int64_t total;
  std::unordered_set<std::string> blobs_seen;

  void problem(std::string text) { report.problems.push_back(std::move(text)); }

  // Why an entry's link to its predecessor is broken: it belongs elsewhere, or one is missing.
  awaitable<store::Result<void>> diagnose_link(const store::JournalEntry& e) {
    auto at = co_await store.find_hash(e.chain, e.prev_hash);
    if (!at) co_return store::unexpected(at.error());
    if (*at)
      problem(seq_name(e.chain, e.seq) + " (id " + std::to_string(e.id) +
              ") reordered: it was written after " + seq_name(e.chain, **at) +
              ", which is not its predecessor now");
    else
      problem(seq_name(e.chain, e.seq) + " (id " + std::to_string(e.id) +
              "): the entry before it was removed or altered (link to its predecessor broken)");
    co_return store::Result<void>{};
  }

  // Blobs read ahead of the entry being checked, by hash: one statement per kBlobBatchBytes
  // (by the entries' sizes) instead of one round trip per message, so that hashing runs at
  // the speed PostgreSQL reads the blobs.
  static constexpr std::int64_t kBlobBatchBytes = 8 << 20;
  std::map<std::string, std::string> fetched;

  // `rest`: the page's entries from the one being checked on; its blob is always read.
  awaitable<store::Result<void>> fetch_ahead(std::span<const store::JournalEntry> rest) {
    std::vector<std::string> want;
    std::unordered_set<std::string> wanted;
    std::int64_t bytes = 0;
    for (const auto& r : rest) {
      const bool first = &r == &rest.front();
      if (!first && (r.purged || r.missing || blobs_seen.count(r.blob_sha256))) continue;
      if (!wanted.insert(r.blob_sha256).second) continue;
      if (!first && bytes + r.size > kBlobBatchBytes) break;
      want.push_back(r.blob_sha256);
      bytes += r.size;
    }
    const auto start = std::chrono::steady_clock::now();
    auto got = co_await store.blobs(std::move(want));
    report.blob_read_seconds += seconds_since(start);
    if (!got) co_return store::unexpected(got.error());
    fetched = std::move(*got);
    co_return store::Result<void>{};
  }

  awaitable<store::Result<void>> check_blob(std::span<const store::JournalEntry> rest) {
    const store::JournalEntry& e = rest.front();
    if (!blobs_seen.insert(e.blob_sha256).second) co_return store::Result<void>{};
    auto it = fetched.find(e.blob_sha256);
    if (it == fetched.end()) {
      auto f = co_await fetch_ahead(rest);
      if (!f) co_return store::unexpected(f.error());
      it = fetched.find(e.blob_sha256);
    }
    ++report.blobs;
    if (it == fetched.end()) {
      problem(seq_name(e.chain, e.seq) + " (id " + std::to_string(e.id) + "): message blob " +
              to_hex(e.blob_sha256) + " missing");
    } else {
      report.blob_bytes += it->second.size();
      const auto start = std::chrono::steady_clock::now();
      const bool altered = sha256(it->second) != e.blob_sha256;
      report.blob_hash_seconds += seconds_since(start);
      if (altered)
        problem(seq_name(e.chain, e.seq) + " (id " + std::to_string(e.id) + "): message blob " +
                to_hex(e.blob_sha256) + " altered (its bytes no longer hash to it)");
      fetched.erase(it);
    }
    co_return store::Result<void>{};
  }

  // One entry against the previous one; false once this chain has a problem (first one named).
  // `rest`: the page's entries from this one on (blobs are read ahead in batches).
  awaitable<store::Result<bool>> check(std::span<const store::JournalEntry> rest,
                                       std::int64_t& expect_seq, std::string& expect_prev,
                                       bool check_link) {
    const store::JournalEntry& e = rest.front();
    const std::size_t before = report.problems.size();
    if (e.missing) {
      problem(seq_name(e.chain, e.seq) + " (id " + std::to_string(e.id) +
              ") removed (its journal row is gone, its link remains)");
    } else if (e.seq != expect_seq) {
      if (e.seq > expect_seq)
        problem(seq_name(e.chain, expect_seq) +
                (e.seq - expect_seq > 1 ? " to #" + std::to_string(e.seq - 1) : std::string()) +
                " removed (the chain goes on at #" + std::to_string(e.seq) + ")");
      else
        problem(seq_name(e.chain, e.seq) + " (id " + std::to_string(e.id) + ") out of sequence");
    } else if (e.purged) {
      auto ok = co_await store.is_purge_audit(e.purge_audit_id);
      if (!ok) co_return store::unexpected(ok.error());
      if (!*ok)
        problem(seq_name(e.chain, e.seq) + " (id " + std::to_string(e.id) +
                ") altered: marked purged without an archive.purge audit entry");
    } else if (journal_hash(e) != e.hash ||
               (!e.content_hash.empty() && journal_content_hash(e) != e.content_hash)) {
      problem(seq_name(e.chain, e.seq) + " (id " + std::to_string(e.id) +
              ") altered: its content does not match its hash");
    }
    if (report.problems.size() == before && check_link && e.prev_hash != expect_prev) {
      auto d = co_await diagnose_link(e);
      if (!d) co_return store::unexpected(d.error());
    }
    if (report.problems.size() == before && opt.blobs && !e.purged) {
      auto b = co_await check_blob(rest);
      if (!b) co_return store::unexpected(b.error());
    }
    expect_seq = e.seq + 1;
    expect_prev = e.hash;
    co_return report.problems.size() == before;
  }

  awaitable<store::Result<void>> journal_chain(const store::ChainHead& head,
                                               const std::vector<store::Checkpoint>& cps) {
    std::int64_t first = 1, last = head.seq;
    if (opt.from_us) {
      auto s = co_await store.seq_at(head.chain, *opt.from_us, true);
      if (!s) co_return store::unexpected(s.error());
      first = *s == 0 ? head.seq + 1 : *s;
    }
    if (opt.to_us) {
      auto s = co_await store.seq_at(head.chain, *opt.to_us, false);
      if (!s) co_return store::unexpected(s.error());
      last = *s;
    }
    const std::size_t start = report.problems.size();
    std::map<std::int64_t, const store::Checkpoint*> at_seq;
    for (const auto& c : cps)
      if (c.chain == head.chain) at_seq[c.seq] = &c;
    std::int64_t expect_seq = first;
    std::string expect_prev(32, '\0');
    bool link = first == 1;  // a range starts from its first entry's own link
    bool clean = true;
    std::int64_t after = first - 1;
    while (clean && after < last) {
      auto page = co_await store.journal_page(head.chain, after, opt.page);
      if (!page) co_return store::unexpected(page.error());
      if (page->empty()) break;
      const std::span<const store::JournalEntry> entries(*page);
      for (std::size_t i = 0; i < entries.size(); ++i) {
        const store::JournalEntry& e = entries[i];
        if (e.seq > last) break;
        auto ok = co_await check(entries.subspan(i), expect_seq, expect_prev, link);
        if (!ok) co_return store::unexpected(ok.error());
        link = true;
        ++report.entries;
        if (opt.progress) opt.progress(++done, total);
        if (auto c = at_seq.find(e.seq); c != at_seq.end() && c->second->hash != e.hash)
          problem(seq_name(e.chain, e.seq) + " (id " + std::to_string(e.id) +
                  ") differs from its signed checkpoint of " + std::to_string(c->second->at_us));
        if (!*ok || report.problems.size() > start) {
          clean = false;
          break;
        }
      }
      after = page->back().seq;
    }
    if (clean && expect_seq <= last)
      problem(seq_name(head.chain, expect_seq) + " to #" + std::to_string(last) +
              " removed (the chain head says #" + std::to_string(head.seq) + ")");
    if (clean && !opt.from_us && !opt.to_us)
      for (const auto& [seq, c] : at_seq)
        if (seq > head.seq)
          problem(seq_name(head.chain, head.seq + 1) + " to #" + std::to_string(seq) +
                  " removed (a signed checkpoint covers #" + std::to_string(seq) + ")");
    co_return store::Result<void>{};
  }

  awaitable<store::Result<void>> audit_chain(const store::ChainHead& head) {
    const std::size_t start = report.problems.size();
    std::int64_t expect_seq = head.floor_seq;
    std::string expect_prev = head.floor_hash;
    std::int64_t after = head.floor_seq - 1;
    for (;;) {
      auto page = co_await store.audit_page(after, opt.page);
      if (!page) co_return store::unexpected(page.error());
      if (page->empty()) break;
      for (const auto& a : *page) {
        ++report.audit_entries;
        if (opt.progress) opt.progress(++done, total);
        std::string where = seq_name("audit", a.seq) + " (id " + std::to_string(a.id) + ")";
        if (a.seq != expect_seq) {
          problem(seq_name("audit", expect_seq) + " removed (the audit chain goes on at #" +
                  std::to_string(a.seq) + ")");
        } else if (audit_hash(a) != a.hash) {
          problem(where + " altered: its content does not match its hash");
        } else if (a.prev_hash != expect_prev) {
          problem(where + ": link to its predecessor broken (reordered, or one removed)");
        }
        if (report.problems.size() > start) co_return store::Result<void>{};
        expect_seq = a.seq + 1;
        expect_prev = a.hash;
      }
      after = page->back().seq;
    }
    if (expect_seq <= head.seq)
      problem(seq_name("audit", expect_seq) + " to #" + std::to_string(head.seq) + " removed");
    co_return store::Result<void>{};
  }
};

}  // namespace

awaitable<store::Result<VerifyReport>> verify(store::ArchiveStore& store, VerifyOptions opt) {
  VerifyReport report;
  auto heads = co_await store.heads();
  if (!heads) co_return store::unexpected(heads.error());
  auto cps = co_await store.checkpoints();
  if (!cps) co_return store::unexpected(cps.error());
  if (opt.trusted_public_key.empty()) {
    auto pinned = co_await store.pinned_public_key();
    if (!pinned) co_return store::unexpected(pinned.error());
    opt.trusted_public_key = pinned->value_or("");
  }
  for (const auto& c : *cps) {
    ++report.checkpoints;
    if (opt.trusted_public_key.empty()) {
      report.problems.push_back("checkpoint " + std::to_string(c.id) + " of " +
                                seq_name(c.chain, c.seq) +
                                ": no public key pinned to check it against");
      continue;
    }
    if (!signature_ok(c.public_key, checkpoint_message(c), c.signature))
      report.problems.push_back("checkpoint " + std::to_string(c.id) + " of " +
                                seq_name(c.chain, c.seq) + ": bad signature");
    else if (c.public_key != opt.trusted_public_key)
      report.problems.push_back("checkpoint " + std::to_string(c.id) + " of " +
                                seq_name(c.chain, c.seq) + ": signed by an unknown key " +
                                to_hex(c.public_key));
  }
  std::int64_t total = 0, done = 0;
  for (const auto& h : *heads) total += h.seq - (h.chain == "audit" ? h.floor_seq - 1 : 0);
  for (const auto& h : *heads) {
    ChainCheck check{store, opt, report, done, total, {}, {}};
    store::Result<void> r;
    if (h.chain == "audit")
      r = co_await check.audit_chain(h);
    else
      r = co_await check.journal_chain(h, *cps);
    if (!r) co_return store::unexpected(r.error());
  }
  // heads() linked every entry whose transaction had ended: one still without a link was
  // written behind the chain's cursor (or before 0030 without being chained).
  auto stray = co_await store.unchained_entry();
  if (!stray) co_return store::unexpected(stray.error());
  if (*stray)
    report.problems.push_back("journal entry id " + std::to_string(**stray) +
                              " is in no chain (written behind the chain's cursor)");
  co_return report;
}

}  // namespace govmail::admin::archive
