// bench_store: appends generated messages (2 KB - 200 KB, some with base64 attachments,
// Vietnamese text) through the store API with N concurrent writers, then times a 500-recipient
// broadcast. Prints messages/s, MB/s and PostgreSQL commits/s (pg_stat_database deltas).
//
//   bench_store --url "host=... dbname=..." [--messages 10000,100000] [--writers 1,8,64]
//               [--accounts 64] [--broadcast 500]
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/asio.hpp"
#include "store/database.hpp"
#include "store/directory.hpp"
#include "store/mailbox_store.hpp"

using namespace govmail;
using namespace govmail::store;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string url;
  std::vector<int> messages{10000, 100000};
  std::vector<int> writers{1, 8, 64};
  int accounts = 64;
  int broadcast = 500;
};

std::vector<int> int_list(const std::string& s) {
  std::vector<int> v;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) v.push_back(std::stoi(item));
  return v;
}

const char* kVietnamese =
    "Căn cứ Luật Tổ chức chính quyền địa phương, Ủy ban nhân dân tỉnh đề nghị các sở, ban, "
    "ngành và Ủy ban nhân dân các xã, phường triển khai thực hiện nghiêm túc nội dung công văn "
    "này; báo cáo kết quả về Văn phòng trước ngày 30 tháng 6. Trân trọng cảm ơn.\r\n";

std::string base64_block(std::size_t bytes, std::mt19937& rng) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve(bytes + bytes / 76 * 2);
  while (out.size() < bytes) {
    for (int i = 0; i < 76; ++i) out += a[rng() % 64];
    out += "\r\n";
  }
  return out;
}

// A body template per size class; each message gets unique headers, so no two share a blob.
struct Template {
  std::string body;
};

std::vector<Template> make_templates(std::mt19937& rng) {
  std::vector<Template> t;
  const std::size_t sizes[] = {2000, 4000, 8000, 16000, 32000, 64000, 120000, 200000};
  for (std::size_t size : sizes) {
    for (int attach = 0; attach < 2; ++attach) {
      std::string b;
      if (attach) {
        b = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
            "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n";
        for (int i = 0; i < 4; ++i) b += kVietnamese;
        b += "--b1\r\nContent-Type: application/pdf; "
             "name=\"=?utf-8?B?Q8O0bmcgdsSDbiBz4buRIDEyLnBkZg==?=\"\r\n"
             "Content-Disposition: attachment; filename*=utf-8''C%C3%B4ng%20v%C4%83n.pdf\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n";
        b += base64_block(size > b.size() ? size - b.size() : 100, rng);
        b += "--b1--\r\n";
      } else {
        b = "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n";
        while (b.size() < size) b += kVietnamese;
      }
      t.push_back({std::move(b)});
    }
  }
  return t;
}

// Mixed sizes: mostly small, as in real mail; a third of the big ones carry attachments.
const Template& pick(const std::vector<Template>& t, std::mt19937& rng) {
  int r = static_cast<int>(rng() % 100);
  int cls = r < 35   ? 0
            : r < 60 ? 1
            : r < 75 ? 2
            : r < 85 ? 3
            : r < 91 ? 4
            : r < 95 ? 5
            : r < 98 ? 6
                     : 7;
  bool attach = cls >= 3 ? (rng() % 3 == 0) : false;
  return t[cls * 2 + (attach ? 1 : 0)];
}

std::string message(const Template& t, std::int64_t seq) {
  std::string m =
      "From: =?utf-8?B?VsSDbiBwaMOybmcgVULDgU5E?= <vanphong@tinh.gov.vn>\r\n"
      "To: xa@tinh.gov.vn\r\nSubject: =?utf-8?Q?C=C3=B4ng_v=C4=83n_s=E1=BB=91?= " +
      std::to_string(seq) + "\r\nMessage-ID: <bench." + std::to_string(seq) + "." +
      std::to_string(::getpid()) + "@tinh.gov.vn>\r\nDate: Mon, 2 Jun 2025 08:00:00 +0700\r\n";
  m += t.body;
  return m;
}

// pg_stat_database.xact_commit of the bench database (stats are flushed lazily: wait first).
std::int64_t commits(const std::string& url) {
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  PGconn* c = PQconnectdb(url.c_str());
  std::int64_t n = -1;
  if (PQstatus(c) == CONNECTION_OK) {
    PGresult* r = PQexec(c,
                         "SELECT xact_commit FROM pg_stat_database WHERE datname = "
                         "current_database()");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
      n = std::stoll(PQgetvalue(r, 0, 0));
    PQclear(r);
  }
  PQfinish(c);
  return n;
}

template <class T>
T wait(asio::io_context& io, awaitable<T> a) {
  auto p = std::make_shared<std::promise<T>>();
  auto f = p->get_future();
  asio::co_spawn(
      io,
      [](std::shared_ptr<std::promise<T>> p, awaitable<T> a) -> awaitable<void> {
        p->set_value(co_await std::move(a));
      }(p, std::move(a)),
      asio::detached);
  return f.get();
}

struct Run {
  std::atomic<std::int64_t> next{0};
  std::atomic<std::int64_t> bytes{0};
  std::atomic<std::int64_t> failures{0};
};

awaitable<void> writer(MailboxStore& store, const std::vector<Template>& templates,
                       const std::vector<std::pair<AccountId, MailboxId>>& targets, Run& run,
                       std::int64_t total, std::int64_t base_seq, unsigned seed) {
  std::mt19937 rng(seed);
  for (;;) {
    auto i = run.next.fetch_add(1);
    if (i >= total) co_return;
    AppendRequest req;
    req.raw = std::make_shared<const std::string>(message(pick(templates, rng), base_seq + i));
    const auto size = static_cast<std::int64_t>(req.raw->size());
    auto [account, mailbox] = targets[i % targets.size()];
    auto r = co_await store.append(account, mailbox, std::move(req));
    if (r)
      run.bytes += size;
    else
      ++run.failures;
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--url")
      o.url = v;
    else if (k == "--messages")
      o.messages = int_list(v);
    else if (k == "--writers")
      o.writers = int_list(v);
    else if (k == "--accounts")
      o.accounts = std::stoi(v);
    else if (k == "--broadcast")
      o.broadcast = std::stoi(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (o.url.empty()) {
    std::fprintf(stderr,
                 "usage: bench_store --url CONNINFO [--messages 10000,100000] [--writers 1,8,64] "
                 "[--accounts 64] [--broadcast 500]\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) threads.emplace_back([&] { io.run(); });

  int max_writers = *std::max_element(o.writers.begin(), o.writers.end());
  DatabaseOptions dbo;
  dbo.url = o.url;
  dbo.pool_size = static_cast<std::size_t>(std::min(max_writers, 64));
  auto db = wait(io, Database::open(io.get_executor(), dbo));
  if (!db) {
    std::fprintf(stderr, "cannot open the database: %s\n",
                 std::string(to_string(db.error())).c_str());
    return 1;
  }
  auto& store = (*db)->mailboxes();
  auto& dir = (*db)->directory();

  // Accounts of this run, in a domain of their own (runs can share a database).
  std::string domain = "bench" + std::to_string(::getpid()) + ".gov.vn";
  if (!wait(io, dir.add_domain(domain))) return 1;
  auto make_accounts = [&](const std::string& prefix, int n) {
    std::vector<std::pair<AccountId, MailboxId>> v;
    for (int i = 0; i < n; ++i) {
      NewAccount a;
      a.address = prefix + std::to_string(i) + "@" + domain;
      a.password_hash = "$argon2id$bench";
      auto acc = wait(io, dir.add_account(a));
      auto inbox = wait(io, store.get_mailbox(acc->id, std::string("INBOX")));
      v.emplace_back(acc->id, inbox->id);
    }
    return v;
  };
  auto targets = make_accounts("user", o.accounts);

  std::mt19937 rng(42);
  auto templates = make_templates(rng);
  std::printf("bench_store: %d accounts, io threads 2, pool %zu\n", o.accounts, dbo.pool_size);
  std::printf("%10s %8s %10s %10s %10s %12s %8s\n", "messages", "writers", "seconds", "msg/s",
              "MB/s", "commits/s", "failed");
  std::int64_t seq = 0;
  for (int n : o.messages) {
    for (int w : o.writers) {
      Run run;
      std::int64_t before = commits(o.url);
      auto start = Clock::now();
      std::vector<std::future<void>> fs;
      for (int i = 0; i < w; ++i) {
        auto p = std::make_shared<std::promise<void>>();
        fs.push_back(p->get_future());
        asio::co_spawn(io, writer(store, templates, targets, run, n, seq, 1000 + i),
                       [p](std::exception_ptr) { p->set_value(); });
      }
      for (auto& f : fs) f.get();
      double secs = std::chrono::duration<double>(Clock::now() - start).count();
      std::int64_t after = commits(o.url);
      seq += n;
      std::printf("%10d %8d %10.2f %10.0f %10.1f %12.0f %8lld\n", n, w, secs, n / secs,
                  run.bytes / secs / 1e6, (after - before) / secs,
                  static_cast<long long>(run.failures.load()));
      std::fflush(stdout);
    }
  }

  // One circular to many recipients: one transaction, one blob.
  if (o.broadcast > 0) {
    auto recipients = make_accounts("xa", o.broadcast);
    std::printf("broadcast to %d recipients (one delivery, %zu bytes):", o.broadcast,
                message(templates[5], 0).size());
    for (int round = 0; round < 5; ++round) {
      Delivery d;
      d.raw = std::make_shared<const std::string>(message(templates[5], ++seq));
      d.envelope_from = "vanphong@" + domain;
      for (auto& [account, mailbox] : recipients) d.local.push_back({account, std::nullopt});
      auto start = Clock::now();
      auto r = wait(io, store.deliver(std::move(d)));
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      if (r)
        std::printf(" %.1f ms", ms);
      else
        std::printf(" failed (%s)", std::string(to_string(r.error())).c_str());
    }
    std::printf("\n");
  }
  guard.reset();
  (*db)->close();
  io.stop();
  for (auto& t : threads) t.join();
  return 0;
}
