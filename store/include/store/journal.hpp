// What the archive journal records of a delivery besides the message (docs/ARCHIVE.md). Every
// MailboxStore::deliver is journaled in its own transaction (migration 0017) as "internal" with
// the recipients' addresses; deliver_journaled adds what only the front end knows (SMTP: the
// direction, the authenticated user, the client IP, every RCPT TO as given, bcc included).
// IMAP APPEND is not journaled: a client filing its own copy is not mail accepted for delivery.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
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

// What a journal entry's content hash covers (migration 0027): everything but its place in the
// chain and its time, which the chain's link adds.
struct JournalContent {
  std::string_view direction, envelope_from;
  const std::vector<std::string>* recipients = nullptr;
  std::string_view auth_user, client_ip;
  std::string_view blob_sha256;  // raw 32 bytes
  std::int64_t size = 0;
  std::string_view subject, from_address, message_id_hdr;
};

// The canonical form ("GMJ2" and length-prefixed fields, as govmail_journal_content in SQL),
// whose SHA-256 is the entry's content_hash: the delivery computes it, `archive verify`
// recomputes it from the stored row.
std::string journal_content_canon(const JournalContent& c);

// MailboxStore::deliver with the journal entry's details (companions are journaled as internal).
awaitable<Result<DeliveryResult>> deliver_journaled(MailboxStore& store, Delivery delivery,
                                                    JournalInfo journal);

}  // namespace govmail::store
