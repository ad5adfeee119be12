#include "search_queue_pg.hpp"

#include <algorithm>
#include <charconv>

#include "core/asio.hpp"
#include "query.hpp"
#include "sql/search_sql.hpp"

namespace govmail::store {

using detail::Params;
using detail::run;

namespace {

std::vector<AccountId> parse_ids(std::string_view csv) {
  std::vector<AccountId> out;
  while (!csv.empty()) {
    auto comma = csv.find(',');
    auto item = csv.substr(0, comma);
    AccountId v = 0;
    if (std::from_chars(item.data(), item.data() + item.size(), v).ec == std::errc())
      out.push_back(v);
    csv = comma == std::string_view::npos ? std::string_view() : csv.substr(comma + 1);
  }
  return out;
}

std::vector<std::int64_t> to_ints(const std::vector<MessageId>& v) {
  return std::vector<std::int64_t>(v.begin(), v.end());
}

}  // namespace

awaitable<Result<bool>> PgSearchQueue::hold_lease(std::string holder, std::int64_t ttl_seconds) {
  auto rows = co_await run(*pool_, sql::kSearchHoldLease,
                           Params().text(std::move(holder)).num(ttl_seconds), "search lease");
  if (!rows) co_return unexpected(rows.error());
  co_return rows->size() == 1;
}

awaitable<Result<void>> PgSearchQueue::drop_lease(std::string holder) {
  auto rows = co_await run(*pool_, sql::kSearchDropLease, Params().text(std::move(holder)),
                           "search lease drop");
  if (!rows) co_return unexpected(rows.error());
  co_return Result<void>{};
}

awaitable<Result<std::vector<IndexJob>>> PgSearchQueue::next_jobs(std::size_t max,
                                                                  std::int64_t after_id) {
  auto rows =
      co_await run(*pool_, sql::kSearchNextJobs,
                   Params().num(static_cast<std::int64_t>(max)).num(after_id), "search next jobs");
  if (!rows) co_return unexpected(rows.error());
  std::vector<IndexJob> out;
  out.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) {
    IndexJob j;
    j.queue_id = rows->get_int(i, 0);
    j.message = rows->get_int(i, 1);
    j.reparse = rows->get(i, 2) == "true";
    j.accounts = parse_ids(rows->get(i, 3));
    j.search_text = std::string(rows->get(i, 4));
    j.internal_date = rows->get_int(i, 5);
    j.size = rows->get_int(i, 6);
    j.envelope_json = std::string(rows->get(i, 7));
    j.header_block = rows->get_bytea(i, 8);
    out.push_back(std::move(j));
  }
  co_return out;
}

awaitable<Result<void>> PgSearchQueue::finish_jobs(std::vector<std::int64_t> ids) {
  auto rows =
      co_await run(*pool_, sql::kSearchFinishJobs, Params().num_array(ids), "search finish jobs");
  if (!rows) co_return unexpected(rows.error());
  co_return Result<void>{};
}

awaitable<Result<std::vector<IndexRemoval>>> PgSearchQueue::next_removals(std::size_t max) {
  auto rows = co_await run(*pool_, sql::kSearchNextRemovals,
                           Params().num(static_cast<std::int64_t>(max)), "search next removals");
  if (!rows) co_return unexpected(rows.error());
  std::vector<IndexRemoval> out;
  for (int i = 0; i < rows->size(); ++i)
    out.push_back(
        {rows->get_int(i, 0), rows->get_int(i, 1), rows->get_int(i, 2), rows->get_bool(i, 3)});
  co_return out;
}

awaitable<Result<void>> PgSearchQueue::finish_removals(std::vector<std::int64_t> ids) {
  auto rows = co_await run(*pool_, sql::kSearchFinishRemovals, Params().num_array(ids),
                           "search finish removals");
  if (!rows) co_return unexpected(rows.error());
  co_return Result<void>{};
}

awaitable<Result<IndexQueueStats>> PgSearchQueue::stats() {
  auto rows = co_await run(*pool_, sql::kSearchStats, Params(), "search stats");
  if (!rows) co_return unexpected(rows.error());
  IndexQueueStats s;
  s.queued = rows->get_int(0, 0);
  s.oldest_age_seconds = rows->get_int(0, 1);
  s.removals = rows->get_int(0, 2);
  s.lease_holder = std::string(rows->get(0, 3));
  co_return s;
}

awaitable<Result<std::string>> PgSearchQueue::index_id() {
  auto rows = co_await run(*pool_, sql::kSearchIndexId, Params(), "search index id");
  if (!rows) co_return unexpected(rows.error());
  co_return std::string(rows->get(0, 0));
}

awaitable<Result<void>> PgSearchQueue::set_index_id(std::string id) {
  auto rows =
      co_await run(*pool_, sql::kSearchSetIndexId, Params().text(std::move(id)), "search index id");
  if (!rows) co_return unexpected(rows.error());
  co_return Result<void>{};
}

awaitable<Result<std::int64_t>> PgSearchQueue::requeue(std::vector<AccountId> accounts) {
  auto rows = co_await run(*pool_, sql::kSearchRequeue, Params().num_array(to_ints(accounts)),
                           "search requeue");
  if (!rows) co_return unexpected(rows.error());
  co_return rows->affected();
}

awaitable<Result<std::int64_t>> PgSearchQueue::queued_for(AccountId account) {
  auto rows = co_await run(*pool_, sql::kSearchQueuedFor, Params().num(account), "search queued");
  if (!rows) co_return unexpected(rows.error());
  co_return rows->get_int(0, 0);
}

awaitable<Result<std::vector<AccountId>>> PgSearchQueue::accounts_with_mail() {
  auto rows = co_await run(*pool_, sql::kSearchAccountsWithMail, Params(), "search accounts");
  if (!rows) co_return unexpected(rows.error());
  std::vector<AccountId> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(rows->get_int(i, 0));
  co_return out;
}

awaitable<Result<std::vector<MessageId>>> PgSearchQueue::pending(AccountId account,
                                                                 std::size_t max) {
  auto rows =
      co_await run(*pool_, sql::kSearchPending,
                   Params().num(account).num(static_cast<std::int64_t>(max) + 1), "search pending");
  if (!rows) co_return unexpected(rows.error());
  std::vector<MessageId> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(rows->get_int(i, 0));
  co_return out;
}

awaitable<Result<std::vector<PendingText>>> PgSearchQueue::pending_texts(
    AccountId account, std::vector<MessageId> messages) {
  auto rows =
      co_await run(*pool_, sql::kSearchPendingTexts,
                   Params().num(account).num_array(to_ints(messages)), "search pending texts");
  if (!rows) co_return unexpected(rows.error());
  std::vector<PendingText> out;
  for (int i = 0; i < rows->size(); ++i) {
    const MessageId id = rows->get_int(i, 0);
    if (!out.empty() && out.back().message == id) continue;  // the row with text comes first
    out.push_back({id, std::string(rows->get(i, 1)), rows->get_bool(i, 2)});
  }
  co_return out;
}

awaitable<Result<std::vector<MessageUid>>> PgSearchQueue::uids_of(AccountId account,
                                                                  MailboxId mailbox,
                                                                  std::vector<MessageId> messages,
                                                                  bool scan_mailbox) {
  Params params;
  params.num(account).num(mailbox);
  if (!scan_mailbox) params.num_array(to_ints(messages));
  // Not co_await inside ?: (GCC 12 miscompiles it).
  const auto& statement = scan_mailbox ? sql::kSearchMailboxUids : sql::kSearchUidsOf;
  auto rows = co_await run(*pool_, statement, std::move(params), "search uids");
  if (!rows) co_return unexpected(rows.error());
  std::vector<MessageUid> out;
  out.reserve(scan_mailbox ? messages.size() : static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) {
    const MessageId id = rows->get_int(i, 0);
    if (scan_mailbox && !std::binary_search(messages.begin(), messages.end(), id)) continue;
    out.push_back({id, static_cast<Uid>(rows->get_int(i, 1))});
  }
  co_return out;
}

}  // namespace govmail::store
