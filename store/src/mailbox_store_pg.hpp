// MailboxStore on PostgreSQL: thin C++ over the schema's plpgsql functions (store/migrations).
#pragma once
#include <memory>

#include "change_notifier.hpp"
#include "delivery_batcher.hpp"
#include "pg/pg.hpp"
#include "store/journal.hpp"
#include "store/mailbox_store.hpp"
#include "store/mime.hpp"

namespace govmail::core {
class WorkerPool;
}

namespace govmail::store {

// Messages at least this big are parsed and hashed on the worker pool, not on the io thread.
inline constexpr std::size_t kParseOffThreadBytes = 1u << 20;
// Largest message the store accepts (bytea holds up to 1 GB; protocols set lower limits).
inline constexpr std::size_t kMaxMessageBytes = 256u << 20;

// Validates and normalises a mailbox name: '/' separated, no empty component, no control
// characters or IMAP wildcards, and a first component "inbox" in any case becomes "INBOX".
Result<std::string> normalise_mailbox_name(std::string_view name);

class PgMailboxStore final : public MailboxStore {
 public:
  // `workers` (may be null) runs parses of big messages; `notifier` announces committed changes.
  // `delivery_batch_max`: see DeliveryBatcher (1 = every delivery in its own transaction).
  // `durable_flag_changes`: see core::DatabaseConfig.
  PgMailboxStore(std::shared_ptr<pg::Pool> pool, std::shared_ptr<core::WorkerPool> workers,
                 std::shared_ptr<ChangeNotifier> notifier, std::size_t delivery_batch_max = 1,
                 bool durable_flag_changes = false, IngestForms ingest_forms = {});

  awaitable<Result<std::vector<Mailbox>>> list_mailboxes(AccountId account) override;
  awaitable<Result<Mailbox>> get_mailbox(AccountId account, std::string name) override;
  awaitable<Result<Mailbox>> get_mailbox(AccountId account, MailboxId id) override;
  awaitable<Result<Opened>> open_mailbox(AccountId account, std::string name,
                                         bool claim_recent) override;
  awaitable<Result<RecentClaim>> claim_recent(AccountId account, MailboxId mailbox) override;
  awaitable<Result<Mailbox>> create_mailbox(AccountId account, std::string name,
                                            SpecialUse use) override;
  awaitable<Result<void>> rename_mailbox(AccountId account, MailboxId id,
                                         std::string new_name) override;
  awaitable<Result<void>> delete_mailbox(AccountId account, MailboxId id) override;
  awaitable<Result<std::vector<std::string>>> list_subscriptions(AccountId account) override;
  awaitable<Result<void>> set_subscribed(AccountId account, std::string name, bool on) override;

  awaitable<Result<AppendResult>> append(AccountId account, std::optional<MailboxId> mailbox,
                                         AppendRequest req) override;
  awaitable<Result<std::vector<AppendResult>>> append_all(AccountId account,
                                                          std::optional<MailboxId> mailbox,
                                                          std::vector<AppendRequest> reqs) override;
  awaitable<Result<DeliveryResult>> deliver(Delivery delivery) override;
  awaitable<Result<DeliveryResult>> deliver(Delivery delivery, const JournalInfo& journal);

  using MailboxStore::list_entries;
  awaitable<Result<std::vector<MailboxEntry>>> list_entries(AccountId account, MailboxId mailbox,
                                                            UidSet uids,
                                                            bool internal_date) override;
  awaitable<Result<std::vector<EntryWithRaw>>> list_entries_with_raws(
      AccountId account, MailboxId mailbox, UidSet uids, std::uint64_t raw_bytes) override;
  using MailboxStore::fetch_meta;
  awaitable<Result<std::vector<MessageMeta>>> fetch_meta(AccountId account, MailboxId mailbox,
                                                         UidSet uids, MetaParts parts) override;
  awaitable<Result<std::string>> fetch_raw(AccountId account, MessageId message,
                                           std::uint64_t offset,
                                           std::optional<std::uint64_t> length) override;
  awaitable<Result<std::vector<Raw>>> fetch_raws(AccountId account, std::vector<MessageId> messages,
                                                 RawPart part) override;
  awaitable<Result<void>> save_imap_forms(AccountId account, std::int32_t version,
                                          std::vector<ImapForms> forms) override;

  awaitable<Result<FlagUpdate>> set_flags(AccountId account, MailboxId mailbox, UidSet uids,
                                          FlagOp op, Flags flags,
                                          std::optional<ModSeq> unchanged_since) override;
  awaitable<Result<UidMapping>> copy(AccountId account, MailboxId from, UidSet uids,
                                     MailboxId to) override;
  awaitable<Result<UidMapping>> move(AccountId account, MailboxId from, UidSet uids,
                                     MailboxId to) override;
  awaitable<Result<Expunged>> expunge(AccountId account, MailboxId mailbox,
                                      std::optional<UidSet> uids) override;

  awaitable<Result<bool>> lease_mailbox(AccountId account, MailboxId mailbox, std::string holder,
                                        std::chrono::seconds ttl) override;
  awaitable<Result<void>> release_lease(AccountId account, MailboxId mailbox,
                                        std::string holder) override;
  awaitable<Result<Expunged>> expunge_leased(AccountId account, MailboxId mailbox,
                                             std::string holder, UidSet uids) override;

  awaitable<Result<MailboxChanges>> changes_since(AccountId account, MailboxId mailbox,
                                                  ModSeq since) override;
  awaitable<Result<std::vector<ChangeRecord>>> account_changes_since(
      AccountId account, ModSeq since, std::size_t max_records) override;

  awaitable<Result<Quota>> quota(AccountId account) override;

 private:
  struct Target {
    AccountId account;
    std::optional<MailboxId> mailbox;
  };
  // One message to ingest and what it is stored with; views into the caller's data.
  struct IngestItem {
    const Delivery* delivery;
    std::uint16_t flags;
    const std::vector<std::string>* keywords;
    std::optional<UnixTime> internal_date;
    const JournalInfo* journal;
  };
  // The one ingest path of append(), append_all() and deliver(): one result per item, all in
  // one transaction when there are several. `last` is the last item's statement (kDeliver, or
  // kDeliverClaim for an append that claims \Recent), the others' kDeliver.
  awaitable<Result<std::vector<DeliveryResult>>> ingest(const std::vector<IngestItem>& items,
                                                        const pg::Statement& last);
  awaitable<Result<DeliveryResult>> deliver_with(const Delivery& d, const JournalInfo& journal);
  awaitable<Result<UidMapping>> copy_or_move(AccountId account, MailboxId from, UidSet uids,
                                             MailboxId to, bool move);

  std::shared_ptr<pg::Pool> pool_;
  std::shared_ptr<core::WorkerPool> workers_;
  std::shared_ptr<ChangeNotifier> notifier_;
  DeliveryBatcher batcher_;
  bool durable_flag_changes_;
  IngestForms ingest_forms_;
};

}  // namespace govmail::store
