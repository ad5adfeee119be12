// Shared fixture of the store's PostgreSQL tests: a fresh database, an io_context on two threads,
// and run(coroutine) that waits for the result on the test thread.
#pragma once
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/asio.hpp"
#include "store/database.hpp"
#include "store/directory.hpp"
#include "store/mailbox_store.hpp"
#include "test_db.hpp"

namespace govmail::store::testing {

inline std::string sample_message(int n, std::size_t body_bytes = 200);

class StoreTest : public ::testing::Test {
 protected:
  StoreTest() : work_(asio::make_work_guard(io_)) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~StoreTest() override {
    for (auto& d : dbs_) d->close();
    dbs_.clear();
    db_.reset();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  void SetUp() override { db_ = open_db(); }

  // Starts a coroutine on the io_context (use_future needs default-constructible results).
  template <class T>
  std::future<T> spawn(awaitable<T> a) {
    auto p = std::make_shared<std::promise<T>>();
    auto f = p->get_future();
    asio::co_spawn(io_, fulfil(p, std::move(a)), asio::detached);
    return f;
  }
  // Runs a coroutine on the io_context and returns its result.
  template <class T>
  T run(awaitable<T> a) {
    return spawn(std::move(a)).get();
  }

  std::shared_ptr<Database> open_db(std::size_t pool = 8, std::size_t delivery_batch_max = 32,
                                    IngestForms ingest_forms = {}) {
    DatabaseOptions o;
    o.url = tdb_.url();
    o.ingest_forms = std::move(ingest_forms);
    o.pool_size = pool;
    o.delivery_batch_max = delivery_batch_max;
    auto r = run(Database::open(io_.get_executor(), o));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : to_string(r.error()));
    if (!r.ok()) return nullptr;
    dbs_.push_back(*r);
    return *r;
  }

  MailboxStore& store() { return db_->mailboxes(); }
  Directory& dir() { return db_->directory(); }

  Account add_account(const std::string& address, std::uint64_t quota = 0) {
    auto domain = address.substr(address.find('@') + 1);
    (void)run(dir().add_domain(domain));  // exists after the first
    NewAccount n;
    n.address = address;
    n.display_name = "Test";
    n.password_hash = "$argon2id$test";
    n.quota_bytes = quota;
    auto a = run(dir().add_account(n));
    EXPECT_TRUE(a.ok());
    return *a;
  }

  Mailbox mailbox(AccountId account, const std::string& name) {
    auto m = run(store().get_mailbox(account, name));
    EXPECT_TRUE(m.ok()) << name;
    return *m;
  }

  AppendResult append(AccountId account, MailboxId mailbox, const std::string& raw,
                      Flags flags = {}) {
    AppendRequest req;
    req.raw = std::make_shared<const std::string>(raw);
    req.flags = std::move(flags);
    auto r = run(store().append(account, mailbox, std::move(req)));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : to_string(r.error()));
    return r.ok() ? *r : AppendResult{};
  }

  // `writers` coroutines each deliver `each` messages of the same size to the account's INBOX
  // at once; every answer lands in `results`; returns how many were accepted.
  std::int64_t deliver_concurrently(Database& db, AccountId account, int writers, int each,
                                    std::size_t body_bytes,
                                    std::vector<Result<DeliveryResult>>& results) {
    auto writer = [&db, account, each,
                   body_bytes](int w) -> awaitable<std::vector<Result<DeliveryResult>>> {
      std::vector<Result<DeliveryResult>> out;
      for (int i = 0; i < each; ++i) {
        Delivery d;
        d.raw =
            std::make_shared<const std::string>(sample_message(10000 + w * 100 + i, body_bytes));
        d.local = {{account, std::nullopt}};
        out.push_back(co_await db.mailboxes().deliver(std::move(d)));
      }
      co_return out;
    };
    std::vector<std::future<std::vector<Result<DeliveryResult>>>> futures;
    for (int w = 0; w < writers; ++w) futures.push_back(spawn(writer(w)));
    std::int64_t ok = 0;
    for (auto& f : futures)
      for (auto& r : f.get()) {
        ok += r.ok() ? 1 : 0;
        results.push_back(std::move(r));
      }
    return ok;
  }

  template <class T>
  static awaitable<void> fulfil(std::shared_ptr<std::promise<T>> p, awaitable<T> a) {
    p->set_value(co_await std::move(a));
  }

  std::string q(const std::string& sql) { return tdb_.query_one(sql); }
  std::int64_t qi(const std::string& sql) { return std::stoll(q(sql)); }

  // Frees what expunges queued (message_release_queue) now, instead of waiting for the
  // background sweeper; rows that sweeper holds are gone when it commits.
  void drain_release_queue() {
    for (int i = 0; i < 200; ++i) {
      (void)qi("SELECT govmail_sweep_messages(1000)");
      if (qi("SELECT count(*) FROM message_release_queue") == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "message_release_queue never emptied";
  }

  govmail::test::TestDatabase tdb_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  std::vector<std::shared_ptr<Database>> dbs_;
  std::shared_ptr<Database> db_;
};

inline std::string sample_message(int n, std::size_t body_bytes) {
  std::string m =
      "From: Nguyễn Văn A <a@example.gov.vn>\r\nTo: b@example.gov.vn\r\n"
      "Subject: Công văn số " +
      std::to_string(n) + "\r\nMessage-ID: <m" + std::to_string(n) +
      "@example.gov.vn>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n\r\n";
  while (m.size() < body_bytes)
    m += "Kính gửi các xã, phường. Nội dung số " + std::to_string(n) + "\r\n";
  return m;
}

}  // namespace govmail::store::testing
