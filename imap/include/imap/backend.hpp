// What an IMAP session needs from the rest of govmail: password checks, the mailbox store and
// change notifications. Production uses make_store_backend(); tests may bring their own.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "core/auth.hpp"
#include "core/awaitable_fwd.hpp"
#include "store/database.hpp"
#include "store/mailbox_store.hpp"

namespace govmail::search {
class Index;
}

namespace govmail::imap {

class MessageCache;

class Backend {
 public:
  // `cache`: the message cache to share (imap/stored_forms.hpp: the one the store fills at
  // ingest); a new one when null.
  explicit Backend(std::shared_ptr<MessageCache> cache = nullptr);
  virtual ~Backend();
  virtual awaitable<core::AuthResult> authenticate(std::string user, std::string password,
                                                   std::string remote_ip) = 0;
  virtual store::MailboxStore& mailboxes() = 0;
  // The full-text index for SEARCH text keys; null: every message is read (the slow path).
  virtual search::Index* search_index() { return nullptr; }
  // Called on the io_context (any thread) for every committed change of the mailbox.
  virtual store::Subscription subscribe_mailbox(
      store::MailboxId mailbox, std::function<void(const store::MailboxEvent&)> fn) = 0;

  // mailboxes().changes_since for the untagged updates: a delivery wakes every session of the
  // mailbox at once (thousands in IDLE), and the callers that ask about one mailbox from one
  // modseq within a millisecond share one query. Only callers that arrive before the query is
  // sent share it, so each answer is taken after the change that woke its caller.
  awaitable<store::Result<store::MailboxChanges>> shared_changes_since(store::AccountId account,
                                                                       store::MailboxId mailbox,
                                                                       store::ModSeq since);

  // ENVELOPE, BODYSTRUCTURE and header blocks of stored messages, shared by the sessions
  // (imap/src/message_cache.hpp); off until given a size (limits.imap_message_cache_bytes).
  MessageCache& message_cache() { return *message_cache_; }

 private:
  struct Flights;
  std::shared_ptr<Flights> flights_;
  std::shared_ptr<MessageCache> message_cache_;
};

// The backend on the store and AuthService (both must outlive it); `cache` as for Backend.
std::shared_ptr<Backend> make_store_backend(std::shared_ptr<store::Database> db,
                                            core::AuthService& auth,
                                            std::shared_ptr<search::Index> search = nullptr,
                                            std::shared_ptr<MessageCache> cache = nullptr);

}  // namespace govmail::imap
