// The store's entry point: a bounded pool of async libpq connections on the io_context,
// migrations applied at open, and cross-process change notifications (LISTEN/NOTIFY).
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/awaitable_fwd.hpp"
#include "store/error.hpp"
#include "store/types.hpp"

namespace govmail::store {

struct DatabaseOptions {
  std::string url;             // libpq conninfo or postgresql:// URL
  std::size_t pool_size = 16;  // connections at most
  std::chrono::milliseconds acquire_timeout{5000};
  std::chrono::milliseconds reconnect_delay{500};
  // Per pool connection; 0 = no limit (core::DatabaseConfig).
  std::chrono::milliseconds statement_timeout{30000};
  std::chrono::milliseconds lock_timeout{10000};
  std::chrono::milliseconds idle_in_transaction_timeout{60000};
  std::size_t delivery_batch_max = 32;      // group commit per target set (core::DatabaseConfig)
  bool durable_flag_changes = false;        // core::DatabaseConfig
  std::chrono::seconds change_log_keep{0};  // core::DatabaseConfig; 0 = never pruned
  // Protocol logins to the audit log (core::ArchiveConfig, store/login_audit.hpp).
  std::chrono::milliseconds login_audit_flush{1000};
  std::size_t login_audit_queue_max = 10000;
  bool apply_migrations = true;  // false: refuse to run on an out-of-date schema
  IngestForms ingest_forms;      // IMAP renderings stored with each new message
};

class Database;
class AdminStore;
class Directory;
class MailboxStore;
class OutboundQueue;
class MtaStsCache;
class MailStore;
class JmapStore;
class SearchQueue;

// Subscription handle: unsubscribes when destroyed.
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  Subscription(Subscription&& o) noexcept : cancel_(std::exchange(o.cancel_, {})) {}
  Subscription& operator=(Subscription&& o) noexcept {
    reset();
    cancel_ = std::exchange(o.cancel_, {});
    return *this;
  }
  ~Subscription() { reset(); }
  void reset() {
    if (cancel_) std::exchange(cancel_, {})();
  }

 private:
  std::function<void()> cancel_;
};

class Database {
 public:
  // Connects, applies migrations (under an advisory lock, so that several processes may start at
  // once) and starts the notification listener. Fails with a clear error when the database schema
  // is newer than this binary.
  static awaitable<Result<std::shared_ptr<Database>>> open(Executor ex, DatabaseOptions opts);
  ~Database();

  Directory& directory();
  MailboxStore& mailboxes();
  AdminStore& admin();          // administration only (admin CLI and API)
  OutboundQueue& outbound();    // remote recipients, delivery reports, DKIM keys
  MtaStsCache& mta_sts();       // MTA-STS policies of recipient domains (RFC 8461)
  MailStore& mail();            // the account-wide view JMAP mail serves (store/mail_store.hpp)
  JmapStore& jmap();            // JMAP login tokens and uploads (migration 0015)
  SearchQueue& search_queue();  // the search indexer's queue (search/, migration 0014)

  // Called (on the io_context) for every committed change of a mailbox, whichever govmail
  // process made it, within about a second. After the notification connection was lost and
  // re-established, every subscriber is called once with modseq 0 (changes may have been missed:
  // re-read the mailbox).
  Subscription subscribe_mailbox(MailboxId mailbox, std::function<void(const MailboxEvent&)> fn);
  // Like subscribe_mailbox, for every mailbox of the account (JMAP push). After a lost
  // notification connection: called once with a MailboxEvent of all zeros.
  Subscription subscribe_account_mailboxes(AccountId account,
                                           std::function<void(const MailboxEvent&)> fn);
  // Called when an account's credentials or status changed (to flush auth caches and end the
  // sessions opened with the old ones). Account id 0 means "any account may have changed"
  // (after a lost notification connection): flush all.
  Subscription subscribe_account_changes(std::function<void(const AccountChange&)> fn);

  // Records a successful protocol login (accounts.last_login_at: at most once in 10 minutes per
  // account and process, once a minute in SQL) without making the login wait: `govmail admin
  // account unused` relies on it.
  void note_login(AccountId account);

  // Schema version this binary applies, and the one found in the database.
  static int binary_schema_version();
  awaitable<Result<int>> schema_version();

  // Stops the listener and closes every connection.
  void close();

  struct Impl;
  explicit Database(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace govmail::store
