// What the archive journal records of a delivery besides the message (docs/ARCHIVE.md). Every
// MailboxStore::deliver is journaled in its own transaction (migration 0017) as "internal" with
// the recipients' addresses; deliver_journaled adds what only the front end knows (SMTP: the
// direction, the authenticated user, the client IP, every RCPT TO as given, bcc included).
// IMAP APPEND is not journaled: a client filing its own copy is not mail accepted for delivery.
#pragma once
#include <string>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "store/error.hpp"
#include "store/types.hpp"

namespace govmail::store {

class MailboxStore;

struct JournalInfo {
  std::string direction = "internal";  // "in" (MX), "out" (submission), "internal"
  std::string auth_user;               // the authenticated submitter, empty on MX
  std::string client_ip;
  std::vector<std::string> recipients;  // RCPT TO as given; empty: the accounts' and remote ones
};

// MailboxStore::deliver with the journal entry's details (companions are journaled as internal).
awaitable<Result<DeliveryResult>> deliver_journaled(MailboxStore& store, Delivery delivery,
                                                    JournalInfo journal);

}  // namespace govmail::store
