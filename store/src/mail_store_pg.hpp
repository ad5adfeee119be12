// MailStore on PostgreSQL (migration 0016 for the JMAP-only records).
#pragma once
#include <memory>
#include <mutex>
#include <unordered_map>

#include "pg/pg.hpp"
#include "store/mail_store.hpp"

namespace govmail::store {

class PgMailStore final : public MailStore {
 public:
  explicit PgMailStore(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

  awaitable<Result<ModSeq>> state(AccountId account) override;
  awaitable<Result<std::vector<EmailRecord>>> emails(AccountId account, std::vector<MessageId> ids,
                                                     Meta meta) override;
  awaitable<Result<void>> set_previews(AccountId account, std::vector<MessageId> ids,
                                       std::vector<std::string> previews) override;
  awaitable<Result<EmailQueryPage>> query_email_page(AccountId account, EmailFilter filter,
                                                     std::vector<EmailSortKey> sort,
                                                     std::int64_t offset,
                                                     std::int64_t limit) override;
  awaitable<Result<std::vector<EmailQueryRow>>> query_emails(AccountId account, EmailFilter filter,
                                                             std::vector<EmailSortKey> sort,
                                                             bool collapse_threads) override;
  awaitable<Result<std::vector<EmailQueryRow>>> thread_emails(
      AccountId account, std::vector<std::int64_t> thread_ids) override;
  awaitable<Result<std::vector<ThreadCounts>>> thread_counts(AccountId account) override;
  awaitable<Result<std::vector<EmailQueryRow>>> threads_of(AccountId account,
                                                           std::vector<MessageId> ids) override;
  awaitable<Result<std::vector<MessageId>>> added_before(AccountId account, ModSeq since,
                                                         std::vector<MessageId> ids) override;
  awaitable<Result<VacationResponse>> vacation(AccountId account) override;
  awaitable<Result<void>> set_vacation(AccountId account, VacationResponse v) override;
  awaitable<Result<IdentitySettings>> identity(AccountId account) override;
  awaitable<Result<void>> set_identity(AccountId account, IdentitySettings s) override;
  awaitable<Result<std::vector<ExtraIdentity>>> extra_identities(AccountId account) override;
  awaitable<Result<std::int64_t>> add_identity(AccountId account, std::string email,
                                               IdentitySettings s) override;
  awaitable<Result<void>> update_identity(AccountId account, std::int64_t id,
                                          IdentitySettings s) override;
  awaitable<Result<void>> destroy_identity(AccountId account, std::int64_t id) override;
  awaitable<Result<std::optional<VacationResponse>>> claim_vacation_reply(
      AccountId account, std::string sender, std::int64_t resend_after_seconds) override;
  awaitable<Result<EmailSubmissionRecord>> add_submission(
      AccountId account, EmailSubmissionRecord rec,
      std::optional<std::int64_t> outbound_id) override;
  awaitable<Result<std::vector<EmailSubmissionRecord>>> submissions(
      AccountId account, std::vector<std::int64_t> ids) override;

 private:
  // The number of distinct messages in a mailbox, from the cache when `seen` (the mailbox's
  // HIGHESTMODSEQ read with the page) is the modseq it was counted at: every change of a
  // mailbox's entries moves its HIGHESTMODSEQ, so such an entry is exact. Counting 10,000
  // entries took 6.5 ms of PostgreSQL time per webmail page (bench/jmap, PROFILE=1).
  awaitable<Result<std::int64_t>> mailbox_total(AccountId account, MailboxId mailbox,
                                                std::optional<ModSeq> seen);

  struct CountedTotal {
    ModSeq modseq = 0;
    std::int64_t total = 0;
  };
  std::shared_ptr<pg::Pool> pool_;
  std::mutex totals_mutex_;
  std::unordered_map<MailboxId, CountedTotal> totals_;  // bounded: cleared when it grows large
};

// The SQL of an Email/query (exposed for tests): parameters are appended to `params` from $2 on
// ($1 is the account).
struct EmailQuerySql {
  std::string sql;
  std::vector<std::string> params;  // text form, in order from $2
  // Set for one mailbox's newest-first page: its third column is then the mailbox's
  // HIGHESTMODSEQ, and the total is PgMailStore::mailbox_total's.
  std::optional<MailboxId> whole_mailbox;
  // A statement of fixed text, prepared once a connection (planning the newest-first page took
  // longer than running it: 0.18 vs 0.06-0.1 ms); else `sql` is planned every time.
  const pg::Statement* prepared = nullptr;
};
// With `page` (offset, limit; not with collapse_threads): a third column counts every match
// (or, with whole_mailbox set, is the mailbox's HIGHESTMODSEQ), and a fourth is the account's
// modseq in the same snapshot (EmailQueryPage::account_modseq).
EmailQuerySql email_query_sql(const EmailFilter& filter, const std::vector<EmailSortKey>& sort,
                              bool collapse_threads,
                              std::optional<std::pair<std::int64_t, std::int64_t>> page = {});

}  // namespace govmail::store
