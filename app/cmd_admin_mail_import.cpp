// govmail admin import-mail ADDRESS PATH [--mailbox NAME] [--progress]
// Moves existing mail into an account: PATH is an mbox file or a Maildir (Maildir++ folders
// become mailboxes). Messages go through the store's append (byte-exact after CRLF line ends,
// flags and arrival time kept), several at once so that group commit writes them in batches.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "admin/import_run.hpp"
#include "admin/mail_import.hpp"
#include "admin_cli.hpp"
#include "core/asio.hpp"
#include "runtime.hpp"
#include "store/mailbox_store.hpp"

namespace govmail::app {
namespace {

namespace fs = std::filesystem;
constexpr int kInFlight = 16;  // appends at once: enough to fill a group commit
constexpr std::size_t kChunk = 1 << 20;

// Where the messages come from: next() gives them one at a time (the whole mbox is never in
// memory); total() is known up front for the progress bar.
class Source {
 public:
  virtual ~Source() = default;
  virtual std::optional<admin::ImportedMessage> next() = 0;
  virtual std::size_t total() const = 0;
  virtual std::vector<std::string> folders() const = 0;  // every mailbox it will fill
  std::vector<std::string> problems;                     // what was not imported, and why
  std::size_t skipped = 0;                               // messages left out (too big, unreadable)
};

class MboxSource final : public Source {
 public:
  MboxSource(const fs::path& path, std::size_t max_bytes, std::string folder)
      : in_(path, std::ios::binary), splitter_(max_bytes), folder_(std::move(folder)) {
    total_ = count_separators(path);
  }
  std::optional<admin::ImportedMessage> next() override {
    while (true) {
      if (auto m = splitter_.take()) {
        m->folder = folder_;
        return m;
      }
      if (done_) return std::nullopt;
      std::string buf(kChunk, '\0');
      in_.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.resize(static_cast<std::size_t>(in_.gcount()));
      if (buf.empty()) {
        splitter_.finish();
        done_ = true;
        skipped += splitter_.too_big;
        for (auto line : splitter_.skipped_lines)
          problems.push_back("message at line " + std::to_string(line) +
                             " is over limits.max_message_bytes: skipped");
      } else {
        splitter_.feed(buf);
      }
    }
  }
  std::size_t total() const override { return total_; }
  std::vector<std::string> folders() const override { return {folder_}; }

 private:
  static std::size_t count_separators(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string buf(kChunk, '\0');
    std::size_t n = 0;
    char prev = '\n';
    std::string carry;
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
      std::string_view s(buf.data(), static_cast<std::size_t>(in.gcount()));
      std::string joined = carry + std::string(s);
      for (std::size_t i = 0; i + 5 <= joined.size(); ++i)
        if ((i == 0 ? prev : joined[i - 1]) == '\n' && joined.compare(i, 5, "From ") == 0) ++n;
      // Keep the last 4 bytes: a separator may straddle two chunks.
      std::size_t keep = std::min<std::size_t>(4, joined.size());
      prev = joined.size() > keep ? joined[joined.size() - keep - 1] : prev;
      carry = joined.substr(joined.size() - keep);
    }
    return n;
  }

  std::ifstream in_;
  admin::MboxSplitter splitter_;
  std::string folder_;
  std::size_t total_ = 0;
  bool done_ = false;
};

class MaildirSource final : public Source {
 public:
  MaildirSource(const fs::path& root, std::size_t max_bytes)
      : files_(admin::scan_maildir(root)), max_bytes_(max_bytes) {}
  std::optional<admin::ImportedMessage> next() override {
    while (next_ < files_.size()) {
      const auto& f = files_[next_++];
      std::error_code ec;
      auto size = fs::file_size(f.path, ec);
      if (ec || size > max_bytes_) {
        ++skipped;
        problems.push_back(f.path.string() +
                           (ec ? ": cannot read" : ": over limits.max_message_bytes: skipped"));
        continue;
      }
      std::ifstream in(f.path, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      if (!in) {
        ++skipped;
        problems.push_back(f.path.string() + ": cannot read");
        continue;
      }
      admin::ImportedMessage m;
      m.folder = f.folder;
      m.raw = admin::to_crlf(text.str());
      m.flags = f.flags;
      auto mtime = fs::last_write_time(f.path, ec);
      if (!ec)
        m.internal_date = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::file_clock::to_sys(mtime).time_since_epoch())
                              .count();
      return m;
    }
    return std::nullopt;
  }
  std::size_t total() const override { return files_.size(); }
  std::vector<std::string> folders() const override {
    std::vector<std::string> out;
    for (const auto& f : files_)
      if (out.empty() || out.back() != f.folder) out.push_back(f.folder);
    return out;
  }

 private:
  std::vector<admin::MaildirFile> files_;
  std::size_t max_bytes_;
  std::size_t next_ = 0;
};

struct ImportState {
  AdminContext* c = nullptr;
  store::AccountId account = 0;
  Source* source = nullptr;
  admin::ProgressBar* bar = nullptr;
  std::map<std::string, store::MailboxId> mailboxes;  // folder -> id, made on first use
  std::map<std::string, std::size_t> per_folder;
  std::size_t imported = 0, failed = 0, taken = 0;
  int running = 0;
  std::optional<asio::steady_timer> all_done;
  std::string fatal;  // the database went away: stop
};

awaitable<std::optional<store::MailboxId>> mailbox_for(ImportState& st, const std::string& folder) {
  if (auto it = st.mailboxes.find(folder); it != st.mailboxes.end()) co_return it->second;
  auto& store = st.c->db.mailboxes();
  auto m = co_await store.get_mailbox(st.account, folder);
  if (!m && m.error() == store::StoreError::not_found) {
    m = co_await store.create_mailbox(st.account, folder, store::SpecialUse::none);
    // Subscribed, as it was where it came from: clients that show subscribed folders only
    // would hide it otherwise.
    if (m) {
      std::string name = m->name;  // named: GCC 12 and temporaries in co_await (NOTES)
      (void)co_await store.set_subscribed(st.account, std::move(name), true);
    }
  }
  if (!m && m.error() == store::StoreError::exists)
    m = co_await store.get_mailbox(st.account, folder);
  if (!m) {
    st.source->problems.push_back("mailbox \"" + folder + "\": " + store_error(m.error(), "it"));
    co_return std::nullopt;
  }
  st.mailboxes[folder] = m->id;
  co_return m->id;
}

// One of kInFlight workers: takes messages until the source is empty.
awaitable<void> import_worker(ImportState& st) {
  while (st.fatal.empty()) {
    auto msg = st.source->next();
    if (!msg) break;
    ++st.taken;
    auto mailbox = co_await mailbox_for(st, msg->folder);
    store::Result<store::AppendResult> r = store::unexpected(store::StoreError::not_found);
    if (mailbox) {
      store::AppendRequest req;
      req.raw = std::make_shared<const std::string>(std::move(msg->raw));
      req.flags = std::move(msg->flags);
      req.internal_date = msg->internal_date;
      r = co_await st.c->db.mailboxes().append(st.account, *mailbox, std::move(req));
    }
    if (r) {
      ++st.imported;
      ++st.per_folder[msg->folder];
    } else {
      ++st.failed;
      if (mailbox)
        st.source->problems.push_back("message " + std::to_string(st.taken) + ": " +
                                      store_error(r.error(), "append"));
      if (r.error() == store::StoreError::unavailable) st.fatal = "the database is unavailable";
      if (r.error() == store::StoreError::over_quota) st.fatal = "the account is over its quota";
    }
    st.bar->update("importing", st.imported + st.failed, std::max(st.source->total(), st.taken));
  }
}

void worker_done(ImportState* st, std::exception_ptr e) {
  if (e) st->fatal = "internal error";
  if (--st->running == 0) st->all_done->cancel();
}

std::unique_ptr<Source> open_source(const fs::path& path, std::size_t max_bytes,
                                    const std::optional<std::string>& mailbox, std::string& why) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec))
    return std::make_unique<MboxSource>(path, max_bytes, mailbox.value_or("INBOX"));
  if (fs::is_directory(path, ec)) {
    if (mailbox) {
      why = "--mailbox is for an mbox file (a Maildir's folders name their mailboxes)";
      return nullptr;
    }
    auto src = std::make_unique<MaildirSource>(path, max_bytes);
    if (src->total() == 0 && !admin::is_maildir(path)) {
      why = path.string() + " is neither an mbox file nor a Maildir (no cur/ and new/)";
      return nullptr;
    }
    return src;
  }
  why = "cannot read " + path.string();
  return nullptr;
}

}  // namespace

awaitable<int> mail_import(AdminContext& c) {
  auto mailbox = take_option(c.args, "--mailbox");
  bool force_progress = take_flag(c.args, "--progress");
  if (c.args.size() != 2)
    co_return admin_usage_error("import-mail ADDRESS (MBOX|MAILDIR) [--mailbox NAME] [--progress]");
  auto account = co_await find_account_or_report(c, c.args[0]);
  if (!account) co_return 1;
  c.audit_target = account->address;
  std::string why;
  auto source = open_source(c.args[1], c.cfg.limits.max_message_bytes, mailbox, why);
  if (!source) co_return admin_fail(why);
  // Thousands of appends, each in its own transaction (one audit entry each would queue them all
  // on the audit chain's head): this entry commits first, so that nothing is imported unrecorded;
  // the dispatcher records the outcome after. A named entry: GCC 12 and co_await temporaries.
  store::AuditEntry begun{
      0, 0, c.actor, c.source, "import-mail.start", c.audit_target, "from " + c.args[1], true};
  auto written = co_await c.admin().audit(std::move(begun));
  if (!written) co_return admin_fail("cannot write the audit log: nothing imported");

  admin::ProgressBar bar(stderr, force_progress);
  ImportState st;
  st.c = &c;
  st.account = account->id;
  st.source = source.get();
  st.bar = &bar;
  auto ex = co_await asio::this_coro::executor;
  st.all_done.emplace(ex, std::chrono::steady_clock::time_point::max());
  // Mailboxes first: a worker that waited for one would let a later message overtake it, and
  // messages must take UIDs in the order of the source (group commit keeps the order in which
  // appends arrive; only messages parsed off-thread, 1 MiB and up, may still overtake).
  for (const auto& folder : source->folders()) (void)co_await mailbox_for(st, folder);
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kInFlight; ++i) {
    ++st.running;
    asio::co_spawn(ex, import_worker(st), [p = &st](std::exception_ptr e) { worker_done(p, e); });
  }
  boost::system::error_code ec;
  co_await st.all_done->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  bar.finish();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  for (const auto& p : source->problems) std::fprintf(stderr, "%s\n", p.c_str());
  for (const auto& [folder, n] : st.per_folder) std::printf("%8zu  %s\n", n, folder.c_str());
  std::printf("imported %zu messages into %s in %.1f s (%.0f/s); %zu not imported\n", st.imported,
              account->address.c_str(), secs, secs > 0 ? double(st.imported) / secs : 0.0,
              st.failed + source->skipped);
  c.audit_detail =
      "imported " + std::to_string(st.imported) + " messages from " + c.args[1] +
      (source->problems.empty() ? ""
                                : ", " + std::to_string(source->problems.size()) + " problems");
  if (!st.fatal.empty()) co_return admin_fail(st.fatal + ": import stopped");
  co_return st.failed + source->skipped == 0 ? 0 : 1;
}

}  // namespace govmail::app
