// Plain data types of the mail model shared by every front end. No libpq, no Asio.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace govmail::store {

using DomainId = std::int64_t;
using AccountId = std::int64_t;
using MailboxId = std::int64_t;
using MessageId = std::int64_t;
using Uid = std::uint32_t;
using ModSeq = std::uint64_t;
using UnixTime = std::int64_t;  // seconds since the epoch, UTC

// IMAP system flags as a bit set (\Recent is per-session in IMAP and not stored).
enum SystemFlag : std::uint16_t {
  kSeen = 1 << 0,
  kAnswered = 1 << 1,
  kFlagged = 1 << 2,
  kDeleted = 1 << 3,
  kDraft = 1 << 4,
};

struct Flags {
  std::uint16_t system = 0;
  std::vector<std::string> keywords;  // case-insensitive atoms, stored as given, sorted, unique
  bool operator==(const Flags&) const = default;
};

enum class FlagOp { add, remove, replace };

enum class SpecialUse { none, sent, drafts, trash, junk, archive };

enum class AccountStatus { active, suspended, deleted };

struct Domain {
  DomainId id = 0;
  std::string name;  // lower-case ASCII (IDNA A-label for non-ASCII domains)
  std::optional<DomainId> alias_of;
};

struct Account {
  AccountId id = 0;
  DomainId domain_id = 0;
  std::string address;  // local@domain, lower-case
  std::string display_name;
  AccountStatus status = AccountStatus::active;
  std::uint64_t quota_bytes = 0;  // 0 = unlimited
  std::uint64_t used_bytes = 0;
  std::uint64_t used_messages = 0;
  bool must_change_password = false;
  std::optional<std::string> unit_code;  // official administrative unit code
  std::string position;
};

// What AuthService needs to verify a login; never logged.
struct Credentials {
  AccountId account_id = 0;
  std::string address;
  AccountStatus status = AccountStatus::active;
  std::string password_hash;                     // argon2id crypt string
  std::vector<std::string> app_password_hashes;  // argon2id crypt strings
  std::uint64_t credentials_version = 0;         // bumped on password or status change
};

struct NewAccount {
  std::string address;
  std::string display_name;
  std::string password_hash;
  std::uint64_t quota_bytes = 0;
  bool must_change_password = false;
  std::optional<std::string> unit_code;
  std::string position;
};

struct Mailbox {
  MailboxId id = 0;
  AccountId account_id = 0;
  std::string name;  // full UTF-8 path, '/' separated, "INBOX" for the inbox
  std::optional<MailboxId> parent_id;
  SpecialUse special_use = SpecialUse::none;
  std::uint32_t uidvalidity = 0;
  Uid uidnext = 1;
  ModSeq highestmodseq = 0;
  std::uint32_t messages = 0;
  std::uint32_t unseen = 0;
  std::uint64_t size_bytes = 0;
  // Messages with a UID from here on are recent for no session yet (RFC 3501 \Recent).
  std::uint64_t first_recent_uid = 1;
};

// UIDs [first, next) that became recent for the session that claimed them; empty when
// first == next.
struct RecentClaim {
  std::uint64_t first = 0;
  std::uint64_t next = 0;
};

// One message in one mailbox.
struct MailboxEntry {
  Uid uid = 0;
  ModSeq modseq = 0;
  Flags flags;
  MessageId message_id = 0;
  std::uint32_t size = 0;  // RFC822.SIZE: bytes of the stored message
  UnixTime internal_date = 0;
  std::int64_t thread_id = 0;
};

// The parse computed once at ingest. JSON documents (see store/mime.hpp for their shape).
struct MessageMeta {
  MailboxEntry entry;
  std::string envelope_json;
  std::string bodystructure_json;
  std::string blob_sha256;  // lower-case hex
  // With MetaParts::forms_version: the stored IMAP renderings of that version, where stored
  // (MailboxStore::save_imap_forms).
  std::optional<std::string> imap_envelope, imap_bodystructure, imap_header;
};

// IMAP renderings of a message to store (MailboxStore::save_imap_forms); absent ones are left
// as stored.
struct ImapForms {
  MessageId message = 0;
  std::optional<std::string> envelope, bodystructure, header;
};

// Renders a message's ImapForms at ingest, so that no FETCH has to (the IMAP front end's,
// imap/stored_forms.hpp; DatabaseOptions::ingest_forms). `render` gets the raw message and the
// JSON documents the store keeps for it (store/mime.hpp); `message` is left for the store.
struct IngestForms {
  std::int32_t version = 0;  // of the renderer (MetaParts::forms_version); 0: none at ingest
  std::function<ImapForms(std::string_view raw, std::string_view envelope_json,
                          std::string_view bodystructure_json)>
      render;
  // Optional: given each new message's renderings (`message` set) once its delivery committed,
  // before anyone is told of it (the IMAP message cache: new mail is listed soon after it
  // arrives, and a bulk import leaves the mailboxes it filled ready to list).
  std::function<void(const ImapForms&)> stored;
};

struct AppendRequest {
  std::shared_ptr<const std::string> raw;  // the message exactly as received
  Flags flags;
  std::optional<UnixTime> internal_date;  // now when absent
  // Claim \Recent up to the new message in the same transaction (an IMAP4rev1 session that has
  // the target mailbox selected read-write): AppendResult::recent is what it claimed.
  bool claim_recent = false;
};

struct AppendResult {
  MailboxId mailbox_id = 0;
  std::uint32_t uidvalidity = 0;
  Uid uid = 0;
  ModSeq modseq = 0;  // the account's modseq, moved by exactly one by this append
  MessageId message_id = 0;
  RecentClaim recent;  // with AppendRequest::claim_recent; empty when another session was first
};

struct LocalRecipient {
  AccountId account_id = 0;
  std::optional<MailboxId> mailbox_id;  // INBOX when absent
};

struct RemoteRecipient {
  std::string address;
  std::string dsn_notify;  // RFC 3461 NOTIFY=, empty when not given
  std::string dsn_orcpt;   // RFC 3461 ORCPT=
};

// One inbound message for many recipients: committed in one transaction, blob stored once.
struct Delivery {
  std::shared_ptr<const std::string> raw;
  std::string envelope_from;  // reverse-path, empty for <>
  std::vector<LocalRecipient> local;
  std::vector<RemoteRecipient> remote;
  std::string dsn_envid;  // RFC 3461 ENVID=
  std::string dsn_ret;    // RFC 3461 RET= (FULL or HDRS)
  // Messages committed in the same transaction as this one, all or none: the delivery status
  // report about it (SMTP 250 must mean the report is durable too). Without companions of their
  // own.
  std::vector<Delivery> companions;
};

struct DeliveryResult {
  MessageId message_id = 0;
  std::vector<AppendResult> local;  // in the order of Delivery::local
  std::optional<std::int64_t> outbound_id;
  std::vector<DeliveryResult> companions;  // in the order of Delivery::companions
};

struct UidMapping {
  std::uint32_t uidvalidity = 0;
  std::vector<Uid> source;
  std::vector<Uid> destination;
};

// The modseq step a write made in one mailbox: `prior` is the mailbox's HIGHESTMODSEQ just before
// the write (read under the mailbox's lock, so no other change lies between) and `modseq` the one
// the write set. A reader that knew `prior` knows the mailbox up to `modseq` once it has applied
// the write's own result. Both 0 when the write changed nothing.
struct ModSeqStep {
  ModSeq prior = 0;
  ModSeq modseq = 0;
};

struct Expunged {
  std::vector<Uid> uids;  // ascending
  ModSeqStep step;
};

// What IMAP SELECT needs of every entry.
struct EntryState {
  Uid uid = 0;
  ModSeq modseq = 0;
  std::uint16_t flags = 0;  // system flags
};

struct MailboxChanges {
  ModSeq highestmodseq = 0;
  std::vector<MailboxEntry> changed;  // added or flag-changed since the given modseq
  std::vector<Uid> expunged;          // expunged since the given modseq
  // The change log was pruned past the given modseq (database.change_log_keep): `expunged` may
  // lack some; what is gone is every UID below the mailbox's next that it no longer holds.
  bool expunged_unknown = false;
};

// Account-wide change feed (JMAP /changes): one row per change, ordered by modseq.
struct ChangeRecord {
  enum class Kind {
    mailbox_created,
    mailbox_renamed,
    mailbox_deleted,
    message_added,
    message_flags,
    message_expunged
  };
  ModSeq modseq = 0;
  Kind kind = Kind::message_added;
  MailboxId mailbox_id = 0;
  Uid uid = 0;
  MessageId message_id = 0;
};

struct Quota {
  std::uint64_t limit_bytes = 0;  // 0 = unlimited
  std::uint64_t used_bytes = 0;
  std::uint64_t used_messages = 0;
};

// A closed interval of UIDs; `last` may be UINT32_MAX for "*".
struct UidRange {
  Uid first = 1;
  Uid last = UINT32_MAX;
};
using UidSet = std::vector<UidRange>;

// Raised to subscribers when a mailbox changed in this or any other govmail process.
struct MailboxEvent {
  AccountId account_id = 0;
  MailboxId mailbox_id = 0;
  ModSeq modseq = 0;  // the mailbox's HIGHESTMODSEQ after the change; 0 when not known
};

// Raised to subscribers when an account's credentials, status or address changed (any govmail
// process): accounts.credentials_version after the change. account_id 0: any account may have
// changed (the notification connection was lost). credentials_version 0: not said.
struct AccountChange {
  AccountId account_id = 0;
  std::uint64_t credentials_version = 0;
};

}  // namespace govmail::store
