// Mailboxes and messages of one account. Every call names the account: a mailbox id that belongs
// to another account answers not_found, exactly as a mailbox that does not exist.
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "store/error.hpp"
#include "store/types.hpp"

namespace govmail::store {

class MailboxStore {
 public:
  virtual ~MailboxStore() = default;

  // --- mailboxes
  virtual awaitable<Result<std::vector<Mailbox>>> list_mailboxes(AccountId account) = 0;
  virtual awaitable<Result<Mailbox>> get_mailbox(AccountId account, std::string name) = 0;
  virtual awaitable<Result<Mailbox>> get_mailbox(AccountId account, MailboxId id) = 0;
  // The mailbox and the state of all its entries (UID order), in one snapshot (IMAP SELECT).
  // With `claim_recent`, the messages no session claimed yet become recent for the caller
  // (`claimed`), atomically across processes (an IMAP4rev1 SELECT).
  struct Opened {
    Mailbox mailbox;
    std::vector<EntryState> entries;
    RecentClaim claimed;
  };
  virtual awaitable<Result<Opened>> open_mailbox(AccountId account, std::string name,
                                                 bool claim_recent = false) = 0;
  // Claims the messages of `mailbox` no session claimed yet, as open_mailbox does: those that
  // arrived while a session had the mailbox selected.
  virtual awaitable<Result<RecentClaim>> claim_recent(AccountId account, MailboxId mailbox) = 0;
  // Creates missing parents too. exists if the name is taken; invalid for a bad name.
  virtual awaitable<Result<Mailbox>> create_mailbox(AccountId account, std::string name,
                                                    SpecialUse use = SpecialUse::none) = 0;
  // Renames the mailbox and its children. Renaming INBOX moves its messages (RFC 3501).
  virtual awaitable<Result<void>> rename_mailbox(AccountId account, MailboxId id,
                                                 std::string new_name) = 0;
  // Deletes the mailbox and its messages. INBOX and a mailbox with children are refused with
  // invalid (delete the children first).
  virtual awaitable<Result<void>> delete_mailbox(AccountId account, MailboxId id) = 0;
  // Subscriptions are names, apart from the mailboxes (RFC 3501 6.3.6): a subscription
  // outlives its mailbox; INBOX and a new special-use mailbox are subscribed when made, other
  // mailboxes when asked; a renamed one keeps its subscription.
  virtual awaitable<Result<std::vector<std::string>>> list_subscriptions(AccountId account) = 0;
  // Subscribing twice, or unsubscribing a name that is not subscribed, is no error.
  virtual awaitable<Result<void>> set_subscribed(AccountId account, std::string name, bool on) = 0;

  // --- messages in
  // Into `mailbox`, or the account's INBOX when absent (no lookup by name needed).
  virtual awaitable<Result<AppendResult>> append(AccountId account,
                                                 std::optional<MailboxId> mailbox,
                                                 AppendRequest req) = 0;
  // MULTIAPPEND (RFC 3502): every message or none, in one transaction, results in order. One
  // request is append(). The default (test doubles) takes one request only.
  virtual awaitable<Result<std::vector<AppendResult>>> append_all(AccountId account,
                                                                  std::optional<MailboxId> mailbox,
                                                                  std::vector<AppendRequest> reqs);
  // Parses once, stores the blob once, one entry per local recipient, queues the remote ones,
  // all in one transaction: nothing is visible or acknowledged before it is durable.
  // Quota policy: if any local recipient would go over quota the whole delivery is refused
  // (over_quota) and nothing is stored; the SMTP layer checks quota at RCPT time so that this
  // only happens in a race. Threading: a message joins the thread (per account) of an earlier
  // message of that account named in its In-Reply-To/References, else starts its own.
  virtual awaitable<Result<DeliveryResult>> deliver(Delivery delivery) = 0;

  // --- messages out
  // Without `internal_date`, MailboxEntry::internal_date is 0 and the messages are not read:
  // the entries alone cost a third (a 2,000-message FETCH 1:* of flags and envelopes).
  virtual awaitable<Result<std::vector<MailboxEntry>>> list_entries(AccountId account,
                                                                    MailboxId mailbox, UidSet uids,
                                                                    bool internal_date) = 0;
  awaitable<Result<std::vector<MailboxEntry>>> list_entries(AccountId account, MailboxId mailbox,
                                                            UidSet uids);
  // Which JSON documents fetch_meta returns (the others come back empty): each costs the
  // database a jsonb-to-text conversion per message. With forms_version (non-zero), the stored
  // IMAP renderings of that version come too (the header block only with `header`), and the
  // envelope and bodystructure documents only for messages that lack that rendering, unless
  // bodystructure_always. With forms_version and without `dated`, MailboxEntry::internal_date
  // is 0 and blob_sha256 empty, and a message whose renderings are stored is not read at all:
  // the messages rows (with their JSON documents) are the biggest of the three.
  struct MetaParts {
    bool envelope = true;
    bool bodystructure = true;
    std::int32_t forms_version = 0;
    bool header = false;
    bool bodystructure_always = false;
    bool dated = true;
  };
  virtual awaitable<Result<std::vector<MessageMeta>>> fetch_meta(AccountId account,
                                                                 MailboxId mailbox, UidSet uids,
                                                                 MetaParts parts) = 0;
  awaitable<Result<std::vector<MessageMeta>>> fetch_meta(AccountId account, MailboxId mailbox,
                                                         UidSet uids);
  // list_entries with the whole raw message of the first entries (UID order) up to `raw_bytes`
  // in total, always the first one: a FETCH of a few whole messages in one round trip.
  struct EntryWithRaw {
    MailboxEntry entry;
    std::optional<std::string> raw;
  };
  virtual awaitable<Result<std::vector<EntryWithRaw>>> list_entries_with_raws(
      AccountId account, MailboxId mailbox, UidSet uids, std::uint64_t raw_bytes) = 0;
  // Raw bytes of a message, or a range of them (BODY[]<partial>, section fetches).
  virtual awaitable<Result<std::string>> fetch_raw(AccountId account, MessageId message,
                                                   std::uint64_t offset = 0,
                                                   std::optional<std::uint64_t> length = {}) = 0;
  // Raw messages, several in one round trip; messages of other accounts are left out. With
  // `part` header, only each message's header (through the blank line that ends it): what a
  // client's message list asks for (BODY.PEEK[HEADER.FIELDS (...)] of 1:*).
  struct Raw {
    MessageId message = 0;
    std::string data;
  };
  // header: through the blank line; preview: the header and the first kPreviewBodyBytes of the
  // body (enough for a JMAP preview when the text comes first, as it nearly always does).
  enum class RawPart { whole, header, preview };
  static constexpr std::size_t kPreviewBodyBytes = 32 * 1024;
  virtual awaitable<Result<std::vector<Raw>>> fetch_raws(AccountId account,
                                                         std::vector<MessageId> messages,
                                                         RawPart part = RawPart::whole) = 0;

  // Stores IMAP renderings (of renderer `version`) of the account's messages; forms of other
  // versions are replaced, and of messages the account does not hold, ignored.
  virtual awaitable<Result<void>> save_imap_forms(AccountId account, std::int32_t version,
                                                  std::vector<ImapForms> forms) = 0;

  // --- changes
  // Returns the entries changed; with unchanged_since, entries modified after it are left alone
  // and reported in `conflicts` (CONDSTORE).
  struct FlagUpdate {
    std::vector<MailboxEntry> updated;  // internal_date is not read (0)
    std::vector<Uid> conflicts;
    std::vector<MailboxEntry> unchanged;  // named, not in conflict, already as asked
    ModSeqStep step;                      // zero when nothing was updated
  };
  virtual awaitable<Result<FlagUpdate>> set_flags(AccountId account, MailboxId mailbox, UidSet uids,
                                                  FlagOp op, Flags flags,
                                                  std::optional<ModSeq> unchanged_since = {}) = 0;
  virtual awaitable<Result<UidMapping>> copy(AccountId account, MailboxId from, UidSet uids,
                                             MailboxId to) = 0;
  virtual awaitable<Result<UidMapping>> move(AccountId account, MailboxId from, UidSet uids,
                                             MailboxId to) = 0;
  // Expunges \Deleted messages (all of them, or only those in `uids`).
  // Copies are charged to the quota at full size (as Dovecot does); a move is not.
  virtual awaitable<Result<Expunged>> expunge(AccountId account, MailboxId mailbox,
                                              std::optional<UidSet> uids = {}) = 0;

  // --- the POP3 maildrop lock (RFC 1939 section 8), across processes: a lease on the mailbox
  // held by `holder` (a random token per session) until `ttl` from now. Taking it again with the
  // same holder renews it. False when another holder's lease has not expired.
  virtual awaitable<Result<bool>> lease_mailbox(AccountId account, MailboxId mailbox,
                                                std::string holder, std::chrono::seconds ttl) = 0;
  virtual awaitable<Result<void>> release_lease(AccountId account, MailboxId mailbox,
                                                std::string holder) = 0;
  // The POP3 UPDATE state: expunges the entries in `uids` whatever their flags, exactly as
  // expunge() does (change log, counters, notification), and releases the lease, in one
  // transaction. conflict, with nothing expunged, when `holder` no longer holds the lease.
  virtual awaitable<Result<Expunged>> expunge_leased(AccountId account, MailboxId mailbox,
                                                     std::string holder, UidSet uids) = 0;

  virtual awaitable<Result<MailboxChanges>> changes_since(AccountId account, MailboxId mailbox,
                                                          ModSeq since) = 0;
  // Ordered by modseq; a modseq group is never cut in two, so the answer may exceed max_records
  // by the rest of its last group (resume from the last record's modseq). StoreError::conflict
  // when the log was pruned past `since` (database.change_log_keep).
  virtual awaitable<Result<std::vector<ChangeRecord>>> account_changes_since(
      AccountId account, ModSeq since, std::size_t max_records) = 0;

  virtual awaitable<Result<Quota>> quota(AccountId account) = 0;
};

}  // namespace govmail::store
