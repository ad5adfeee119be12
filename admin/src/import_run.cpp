#include "admin/import_run.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "admin/hash_feed.hpp"
#include "core/asio.hpp"
#include "core/auth.hpp"

namespace govmail::admin {
namespace {

// Created exclusively with mode 0600: an existing file (another run's passwords) is never
// overwritten, and nobody else can read it even for a moment.
class CredentialsFile {
 public:
  ~CredentialsFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!keep_ && !path_.empty()) ::unlink(path_.c_str());
  }
  std::string open(const std::filesystem::path& path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0) return "cannot create " + path.string() + ": " + std::strerror(errno);
    path_ = path;
    ::fchmod(fd_, 0600);  // whatever the umask
    return {};
  }
  std::string write_all(const std::string& text) {
    for (std::size_t at = 0; at < text.size();) {
      auto n = ::write(fd_, text.data() + at, text.size() - at);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return "cannot write " + path_.string() + ": " + std::strerror(errno);
      at += static_cast<std::size_t>(n);
    }
    if (::fsync(fd_) != 0) return "cannot sync " + path_.string() + ": " + std::strerror(errno);
    return {};
  }
  void keep() { keep_ = true; }

 private:
  int fd_ = -1;
  std::filesystem::path path_;
  bool keep_ = false;
};

std::string audit_detail(const ImportPlan& plan, bool skip_bad) {
  return "created=" + std::to_string(plan.created) + " updated=" + std::to_string(plan.updated) +
         " unchanged=" + std::to_string(plan.unchanged) +
         " skipped=" + std::to_string(skip_bad ? plan.bad.size() : 0);
}

}  // namespace

awaitable<ImportOutcome> run_import(store::AdminStore& admin, ImportRequest req,
                                    ImportProgress progress) {
  ImportOutcome out;
  auto records = parse_csv(req.csv_text);
  auto ctx = co_await load_import_context(admin, req.options.domain);
  if (!ctx) {
    out.error = "cannot read the directory: " + std::string(store::to_string(ctx.error()));
    co_return out;
  }
  out.plan = plan_import(records, *ctx, req.options);
  auto& plan = out.plan;
  if (!plan.bad.empty() && !req.skip_bad) {
    out.error = std::to_string(plan.bad.size()) + " bad row(s): nothing applied (--skip-bad " +
                "applies the good rows)";
    co_return out;
  }
  if (req.dry_run || (plan.created == 0 && plan.updated == 0)) co_return out;
  if (plan.created > 0 && !req.credentials && !req.credentials_in_outcome) {
    out.error = "accounts would be created: give --credentials FILE for their passwords";
    co_return out;
  }
  CredentialsFile creds;
  if (plan.created > 0 && req.credentials)
    if (auto e = creds.open(*req.credentials); !e.empty()) {
      out.error = e;
      co_return out;
    }

  std::vector<std::string> passwords;
  for (std::size_t i = 0; i < plan.created; ++i) passwords.push_back(core::random_password());
  store::ImportBatch batch;
  std::string text = "address,full_name,unit_code,password\n";
  std::size_t k = 0;
  for (const auto& p : plan.accounts) {
    if (p.change == RowChange::create) {
      store::NewAccount a;  // password_hash comes from the feed below, batch by batch
      a.address = p.address;
      a.display_name = p.full_name;
      a.quota_bytes = p.quota_bytes;
      a.must_change_password = true;
      a.unit_code = p.unit_code;
      a.position = p.position;
      batch.creates.push_back(std::move(a));
      text += csv_line({p.address, p.full_name, p.unit_code, passwords[k]}) + "\n";
      ++k;
    } else if (p.change == RowChange::update) {
      batch.updates.push_back({p.id, p.full_name, p.unit_code, p.position, p.quota_bytes});
    }
    for (const auto& g : p.new_groups) batch.memberships.emplace_back(p.address, g);
  }
  if (plan.created > 0 && req.credentials)
    if (auto e = creds.write_all(text); !e.empty()) {
      out.error = e;
      co_return out;
    }
  batch.audit = {0,
                 0,
                 req.actor,
                 req.source,
                 "import.apply",
                 req.options.domain,
                 audit_detail(plan, req.skip_bad),
                 true};
  // Hashing starts now on every core; the transaction writes each batch as soon as its hashes
  // are ready, so only the last batch and the COMMIT come after the last hash.
  auto t0 = std::chrono::steady_clock::now();
  const std::size_t total = passwords.size();
  HashFeed feed(std::move(passwords), req.opslimit, req.memlimit, req.hash_threads);
  batch.hashes = [&](std::size_t from, std::size_t to) {
    return feed.take(from, to, [&](std::size_t n) {
      if (progress.update) progress.update("hashing", n, total);
    });
  };
  std::function<void(std::size_t)> on_batch;  // named: GCC 12 mishandles co_await temporaries
  auto r = co_await admin.apply_import(std::move(batch), std::move(on_batch));
  auto end = std::chrono::steady_clock::now();
  auto hashed_at = feed.done() < total ? end : total == 0 ? t0 : feed.finished_at();
  out.hash_seconds = std::chrono::duration<double>(hashed_at - t0).count();
  out.apply_seconds = std::chrono::duration<double>(end - hashed_at).count();
  if (!r) {
    out.error =
        "the import failed and nothing was applied: " + std::string(store::to_string(r.error()));
    co_return out;
  }
  creds.keep();
  if (req.credentials_in_outcome && plan.created > 0) out.credentials_csv = std::move(text);
  out.applied = true;
  co_return out;
}

ProgressBar::ProgressBar(std::FILE* out, bool force)
    : out_(out), enabled_(force || ::isatty(::fileno(out))) {}

void ProgressBar::update(std::string_view phase, std::size_t done, std::size_t total) {
  if (!enabled_ || total == 0) return;
  auto now = std::chrono::steady_clock::now();
  if (phase != phase_) {
    if (drawn_) std::fputc('\n', out_);
    phase_ = std::string(phase);
    start_ = now;
  } else if (done < total && now - last_ < std::chrono::milliseconds(100)) {
    return;
  }
  last_ = now;
  constexpr int kWidth = 30;
  int filled = static_cast<int>(kWidth * done / total);
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
  long eta = rate > 0 ? static_cast<long>(static_cast<double>(total - done) / rate) : -1;
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(out_, "\r%-9s [%s] %3d%% %zu/%zu %.0f/s ETA %s", phase_.c_str(), bar.c_str(),
               static_cast<int>(100 * done / total), done, total, rate,
               eta < 0 ? "--:--"
                       : (std::to_string(eta / 60) + "m" + (eta % 60 < 10 ? "0" : "") +
                          std::to_string(eta % 60) + "s")
                             .c_str());
  std::fflush(out_);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (drawn_) std::fputc('\n', out_);
  drawn_ = false;
  phase_.clear();
}

}  // namespace govmail::admin
