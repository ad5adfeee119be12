// The account-wide view of mail that JMAP (RFC 8621) serves: an Email is one message of one
// account, whatever mailboxes hold it (mailbox_entries rows of the same messages.id), so IMAP
// and JMAP always read the same rows. Writes go through MailboxStore (set_flags, copy, move,
// expunge, append): this interface only reads, plus the few JMAP-only records (vacation
// response, submissions).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "store/error.hpp"
#include "store/types.hpp"

namespace govmail::store {

// One message of the account with every mailbox entry that holds it.
struct EmailRecord {
  struct Entry {
    MailboxId mailbox_id = 0;
    Uid uid = 0;
    Flags flags;
  };
  MessageId id = 0;
  std::int64_t thread_id = 0;
  std::uint64_t size = 0;
  UnixTime received_at = 0;
  std::vector<Entry> entries;  // by mailbox id
  std::string blob_sha256;     // lower-case hex of the raw message's SHA-256
  std::string envelope_json;   // empty unless asked (store/mime.hpp shapes)
  std::string bodystructure_json;
  std::optional<std::string> preview;  // cached JMAP preview, when asked with meta and computed
  ModSeq account_modseq = 0;  // the account's modseq in the snapshot the record was read in
};

// Email/query filter (RFC 8621 4.4.1) as a tree: a condition or an operator over children.
struct EmailFilter {
  enum class Op { condition, all_of, any_of, none_of };
  Op op = Op::condition;
  std::vector<EmailFilter> children;
  std::optional<MailboxId> in_mailbox;
  std::vector<MailboxId> in_mailbox_other_than;
  std::optional<UnixTime> before, after;
  std::optional<std::uint64_t> min_size, max_size;
  // Keywords in JMAP form, lower-case ("$seen", "$flagged", custom ones).
  std::optional<std::string> has_keyword, not_keyword;
  std::optional<std::string> all_in_thread_have_keyword, some_in_thread_have_keyword,
      none_in_thread_have_keyword;
  std::optional<bool> has_attachment;
  // Substring matches, ASCII case-insensitive (ILIKE). `text` = from/to/cc/bcc/subject/body;
  // the body text is index_queue.search_text, so only while the message is queued. JMAP does
  // not use these: it resolves its text conditions through search/ into message_ids.
  std::optional<std::string> text, from, to, cc, bcc, subject, body;
  std::optional<std::string> header_name;
  std::optional<std::string> header_value;  // absent: the header merely exists
  // Only these messages: text conditions resolved by the caller through search/ (JMAP
  // Email/query verifies the index's candidates and hands the store the result).
  std::optional<std::vector<MessageId>> message_ids;
};

enum class EmailSort { received_at, size, from, to, subject, sent_at };
struct EmailSortKey {
  EmailSort key = EmailSort::received_at;
  bool ascending = false;
};

struct EmailQueryRow {
  MessageId id = 0;
  std::int64_t thread_id = 0;
};

// One page of an Email/query: `limit` rows from `offset`, and how many match in all.
struct EmailQueryPage {
  std::vector<EmailQueryRow> rows;
  std::int64_t total = 0;
  // The account's modseq in the snapshot the page was read in; none when the page is empty.
  std::optional<ModSeq> account_modseq;
};

struct ThreadCounts {
  MailboxId mailbox_id = 0;
  std::uint32_t total_threads = 0;
  std::uint32_t unread_threads = 0;
};

struct VacationResponse {
  bool is_enabled = false;
  std::optional<UnixTime> from_date, to_date;
  std::optional<std::string> subject, text_body, html_body;
  std::int64_t period = 1;
};

// The user's edits of the account's own JMAP identity; state 1 and no edits when none.
struct IdentitySettings {
  std::optional<std::string> name;
  std::optional<std::string> reply_to_json, bcc_json;  // JMAP EmailAddress[] as JSON text
  std::string text_signature, html_signature;
  std::int64_t state = 1;      // the account's identity state: moves with every identity change
  std::int64_t own_state = 1;  // the state at which this (the account's own) identity changed
};

// An identity the user added for another address it may send as (RFC 8621 6.3 create). A
// destroyed one is kept as a tombstone (destroyed_state) for Identity/changes.
struct ExtraIdentity {
  std::int64_t id = 0;
  std::string email;
  IdentitySettings settings;  // name always set; state fields unused
  std::int64_t created_state = 0, updated_state = 0;
  std::optional<std::int64_t> destroyed_state;
};

struct EmailSubmissionRecord {
  std::int64_t id = 0;
  MessageId email_id = 0;
  std::int64_t thread_id = 0;
  std::string identity_id;
  std::string envelope_json;
  UnixTime send_at = 0;
};

class MailStore {
 public:
  virtual ~MailStore() = default;

  // The account's MODSEQ: every change of any mailbox or message moves it (JMAP state).
  virtual awaitable<Result<ModSeq>> state(AccountId account) = 0;
  // What emails() reads besides the entries: nothing, the cached preview, or the preview and
  // the JSON documents (envelope, bodystructure; their text form is the costly part).
  enum class Meta { none = 0, preview = 1, all = 2 };
  // Messages of the account among `ids` (others are left out), with their entries.
  virtual awaitable<Result<std::vector<EmailRecord>>> emails(AccountId account,
                                                             std::vector<MessageId> ids,
                                                             Meta meta) = 0;
  // Caches the JMAP previews of messages of the account (previews[i] of ids[i]); a preview
  // already cached stays.
  virtual awaitable<Result<void>> set_previews(AccountId account, std::vector<MessageId> ids,
                                               std::vector<std::string> previews) = 0;
  // Every message matching `filter`, sorted (ties: newest id first); with `collapse_threads`
  // only the first of each thread.
  virtual awaitable<Result<std::vector<EmailQueryRow>>> query_emails(AccountId account,
                                                                     EmailFilter filter,
                                                                     std::vector<EmailSortKey> sort,
                                                                     bool collapse_threads) = 0;
  // One page of query_emails without collapsed threads: PostgreSQL sorts for the page only
  // (top-N) and counts the rest, instead of returning every match.
  virtual awaitable<Result<EmailQueryPage>> query_email_page(AccountId account, EmailFilter filter,
                                                             std::vector<EmailSortKey> sort,
                                                             std::int64_t offset,
                                                             std::int64_t limit) = 0;
  // The messages of each thread, oldest first (receivedAt, then id); unknown threads absent.
  virtual awaitable<Result<std::vector<EmailQueryRow>>> thread_emails(
      AccountId account, std::vector<std::int64_t> thread_ids) = 0;
  virtual awaitable<Result<std::vector<ThreadCounts>>> thread_counts(AccountId account) = 0;
  // Thread ids of messages (also expunged ones still in the change log), for Thread/changes.
  virtual awaitable<Result<std::vector<EmailQueryRow>>> threads_of(AccountId account,
                                                                   std::vector<MessageId> ids) = 0;
  // Those of `ids` that were already in the account at `since` (an add in the change log at or
  // before it): Email/changes tells created from updated with it.
  virtual awaitable<Result<std::vector<MessageId>>> added_before(AccountId account, ModSeq since,
                                                                 std::vector<MessageId> ids) = 0;

  virtual awaitable<Result<VacationResponse>> vacation(AccountId account) = 0;
  virtual awaitable<Result<void>> set_vacation(AccountId account, VacationResponse v) = 0;
  // Claims the right to answer `sender` in the current period of an enabled, in-date vacation
  // response: the response when this is the first time, nullopt otherwise (or none active).
  virtual awaitable<Result<std::optional<VacationResponse>>> claim_vacation_reply(
      AccountId account, std::string sender, std::int64_t resend_after_seconds) = 0;

  virtual awaitable<Result<IdentitySettings>> identity(AccountId account) = 0;
  // Stores `s` (its state ignored) and moves the state by one.
  virtual awaitable<Result<void>> set_identity(AccountId account, IdentitySettings s) = 0;
  // The identities the user added, tombstones included, oldest first.
  virtual awaitable<Result<std::vector<ExtraIdentity>>> extra_identities(AccountId account) = 0;
  // Adds one (the caller checked the account may send as `email`); returns its id.
  virtual awaitable<Result<std::int64_t>> add_identity(AccountId account, std::string email,
                                                       IdentitySettings s) = 0;
  // not_found when the account has no such live identity.
  virtual awaitable<Result<void>> update_identity(AccountId account, std::int64_t id,
                                                  IdentitySettings s) = 0;
  virtual awaitable<Result<void>> destroy_identity(AccountId account, std::int64_t id) = 0;

  virtual awaitable<Result<EmailSubmissionRecord>> add_submission(
      AccountId account, EmailSubmissionRecord rec, std::optional<std::int64_t> outbound_id) = 0;
  virtual awaitable<Result<std::vector<EmailSubmissionRecord>>> submissions(
      AccountId account, std::vector<std::int64_t> ids) = 0;  // empty ids: all
};

}  // namespace govmail::store
