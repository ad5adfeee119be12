// Announces committed mailbox changes: at once to the subscribers of this process, and to every
// other govmail process with NOTIFY, sent in batches from outside the writing transactions.
// Why not NOTIFY inside them: PostgreSQL serialises the commits of all transactions that NOTIFY
// under one lock held through the WAL flush, so every durable delivery paid its own fsync
// (~250 commits/s here, whatever the concurrency). Batched, the writers group-commit again.
// The cost: a process that dies between COMMIT and the batch leaves other processes to learn
// of that change at their next poll or event (IMAP sessions re-read their mailbox state anyway).
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "core/awaitable_fwd.hpp"
#include "pg/pg.hpp"
#include "store/types.hpp"

namespace govmail::store {

class ChangeNotifier {
 public:
  using LocalDispatch = std::function<void(const MailboxEvent&)>;
  ChangeNotifier(Executor ex, std::shared_ptr<pg::Pool> pool, std::string origin,
                 LocalDispatch local);
  ~ChangeNotifier();

  // Thread-safe; call after the change committed.
  void changed(AccountId account, MailboxId mailbox, ModSeq modseq);
  void stop();

  // Payload "account:mailbox:modseq:origin"; origin tells a process its own announcements.
  static std::string payload(const MailboxEvent& ev, const std::string& origin);
  struct Parsed {
    MailboxEvent event;
    std::string origin;
  };
  static std::optional<Parsed> parse(std::string_view payload);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace govmail::store
