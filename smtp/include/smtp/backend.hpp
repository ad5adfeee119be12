// What an SMTP session needs from the rest of govmail: the directory, password checks and
// delivery. The session decides policy; the backend only answers questions and stores. Tests
// drive sessions with a backend of their own; production uses make_store_backend().
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "core/auth.hpp"
#include "core/awaitable_fwd.hpp"
#include "store/directory.hpp"
#include "store/error.hpp"
#include "store/journal.hpp"
#include "store/types.hpp"
#include "store/vacation.hpp"

namespace govmail::store {
class Database;
}

namespace govmail::smtp {

class Backend {
 public:
  virtual ~Backend() = default;
  // A domain we receive mail for (a domain or an alias domain in the directory).
  virtual awaitable<store::Result<bool>> is_local_domain(std::string domain) = 0;
  // Accounts an address reaches, with quota; not_found for an unknown address.
  virtual awaitable<store::Result<store::RecipientResolution>> resolve_recipient(
      std::string address) = 0;
  virtual awaitable<store::Result<bool>> may_send_as(store::AccountId account,
                                                     std::string address) = 0;
  virtual awaitable<core::AuthResult> authenticate(std::string user, std::string password,
                                                   std::string remote_ip) = 0;
  // The account's Junk mailbox (special use \\Junk), for mail a DMARC policy quarantines;
  // nullopt when it has none (then INBOX).
  virtual awaitable<store::Result<std::optional<store::MailboxId>>> junk_mailbox(
      store::AccountId account) = 0;
  // Returns after COMMIT (MailboxStore::deliver).
  virtual awaitable<store::Result<store::DeliveryResult>> deliver(store::Delivery delivery) = 0;
  // The same, with what the archive journal records of the SMTP transaction (store/journal.hpp).
  // A backend without a journal delivers as deliver() does.
  virtual awaitable<store::Result<store::DeliveryResult>> deliver_journaled(
      store::Delivery delivery, store::JournalInfo journal) {
    (void)journal;
    return deliver(std::move(delivery));
  }
  // After a delivery committed: the vacation responses of its recipients
  // (store::send_vacation_replies). A backend without vacation responses sends none.
  virtual awaitable<void> send_vacation_replies(store::VacationDelivery delivery);
};

// The backend on the store and AuthService (both must outlive it).
std::shared_ptr<Backend> make_store_backend(std::shared_ptr<store::Database> db,
                                            core::AuthService& auth);

}  // namespace govmail::smtp
