#include "outbound_pg.hpp"

#include <openssl/rand.h>

#include "core/asio.hpp"
#include "query.hpp"
#include "sql/outbound_sql.hpp"

namespace govmail::store {

using detail::Params;
using detail::run;

std::string_view to_string(RecipientStatus s) {
  switch (s) {
    case RecipientStatus::queued:
      return "queued";
    case RecipientStatus::deferred:
      return "deferred";
    case RecipientStatus::delivered:
      return "delivered";
    case RecipientStatus::bounced:
      return "bounced";
  }
  return "unknown";
}

namespace {

std::int64_t claim_token() {
  std::int64_t t = 0;
  while (t == 0)
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&t), sizeof t) != 1) t = 0;
  return t;
}

ClaimedRecipient parse_claimed(const pg::Rows& r, int i) {
  ClaimedRecipient c;
  c.queue_id = r.get_int(i, 0);
  c.ordinal = static_cast<int>(r.get_int(i, 1));
  c.address = std::string(r.get(i, 2));
  c.dsn_notify = std::string(r.get(i, 3));
  c.dsn_orcpt = std::string(r.get(i, 4));
  c.attempts = static_cast<int>(r.get_int(i, 5));
  c.warned = r.get_bool(i, 6);
  c.message_id = r.get_int(i, 7);
  c.envelope_from = std::string(r.get(i, 8));
  c.dsn_envid = std::string(r.get(i, 9));
  c.dsn_ret = std::string(r.get(i, 10));
  c.created_at = r.get_int(i, 11);
  return c;
}

ReportItem parse_report(const pg::Rows& r, int i) {
  ReportItem x;
  x.queue_id = r.get_int(i, 0);
  x.ordinal = static_cast<int>(r.get_int(i, 1));
  x.address = std::string(r.get(i, 2));
  x.dsn_orcpt = std::string(r.get(i, 3));
  x.report = std::string(r.get(i, 4));
  x.reply = std::string(r.get(i, 5));
  x.host = std::string(r.get(i, 6));
  x.attempts = static_cast<int>(r.get_int(i, 7));
  x.message_id = r.get_int(i, 8);
  x.envelope_from = std::string(r.get(i, 9));
  x.dsn_envid = std::string(r.get(i, 10));
  x.dsn_ret = std::string(r.get(i, 11));
  x.created_at = r.get_int(i, 12);
  return x;
}

QueueEntryView parse_entry_view(const pg::Rows& r, int i) {
  QueueEntryView e;
  e.id = r.get_int(i, 0);
  e.envelope_from = std::string(r.get(i, 1));
  e.created_at = r.get_int(i, 2);
  if (!r.is_null(i, 3)) e.finished_at = r.get_int(i, 3);
  e.size = static_cast<std::uint64_t>(r.get_int(i, 4));
  e.subject = std::string(r.get(i, 5));
  return e;
}

QueueRecipientView parse_recipient_view(const pg::Rows& r, int i) {
  QueueRecipientView v;
  v.ordinal = static_cast<int>(r.get_int(i, 1));
  v.address = std::string(r.get(i, 2));
  v.status = static_cast<RecipientStatus>(r.get_int(i, 3));
  v.attempts = static_cast<int>(r.get_int(i, 4));
  v.next_attempt = r.get_int(i, 5);
  v.in_delivery = r.get_bool(i, 6);
  v.host = std::string(r.get(i, 7));
  v.reply = std::string(r.get(i, 8));
  v.report = std::string(r.get(i, 9));
  return v;
}

DkimKey parse_dkim(const pg::Rows& r, int i) {
  DkimKey k;
  k.id = r.get_int(i, 0);
  k.domain = std::string(r.get(i, 1));
  k.selector = std::string(r.get(i, 2));
  k.algorithm = std::string(r.get(i, 3));
  k.private_pem = std::string(r.get(i, 4));
  k.public_b64 = std::string(r.get(i, 5));
  k.active = r.get_bool(i, 6);
  k.created_at = r.get_int(i, 7);
  return k;
}

}  // namespace

awaitable<Result<Claim>> PgOutboundQueue::claim(int limit, std::chrono::seconds lease) {
  Claim out;
  out.token = claim_token();
  Params p;
  p.num(limit).num(lease.count()).num(out.token);
  auto rows = co_await run(*pool_, sql::kOutboundClaim, p, "outbound claim");
  if (!rows) co_return unexpected(rows.error());
  for (int i = 0; i < rows->size(); ++i) out.recipients.push_back(parse_claimed(*rows, i));
  co_return out;
}

awaitable<Result<int>> PgOutboundQueue::record(std::int64_t token,
                                               std::vector<AttemptOutcome> outcomes) {
  if (outcomes.empty()) co_return 0;
  std::vector<std::int64_t> claims, queue, ordinal, status, delay;
  std::vector<std::string> reply, host, report;
  for (auto& o : outcomes) {
    claims.push_back(o.claim ? o.claim : token);
    queue.push_back(o.queue_id);
    ordinal.push_back(o.ordinal);
    status.push_back(static_cast<std::int64_t>(o.status));
    delay.push_back(o.retry_in.count());
    reply.push_back(std::move(o.reply));
    host.push_back(std::move(o.host));
    report.push_back(std::move(o.report));
  }
  Params p;
  p.num_array(claims).num_array(queue).num_array(ordinal).num_array(status).num_array(delay);
  p.text_array(reply).text_array(host).text_array(report);
  auto rows = co_await run(*pool_, sql::kOutboundRecord, p, "outbound record");
  if (!rows) co_return unexpected(rows.error());
  co_return static_cast<int>(rows->get_int(0, 0));
}

awaitable<Result<std::vector<std::pair<std::int64_t, int>>>> PgOutboundQueue::renew(
    std::int64_t token, std::vector<std::pair<std::int64_t, int>> recipients,
    std::chrono::seconds lease) {
  std::vector<std::int64_t> queue, ordinal;
  for (auto [q, o] : recipients) {
    queue.push_back(q);
    ordinal.push_back(o);
  }
  Params p;
  p.num(token).num_array(queue).num_array(ordinal).num(lease.count());
  auto rows = co_await run(*pool_, sql::kOutboundRenew, p, "outbound renew");
  if (!rows) co_return unexpected(rows.error());
  std::vector<std::pair<std::int64_t, int>> held;
  for (int i = 0; i < rows->size(); ++i)
    held.push_back({rows->get_int(i, 0), static_cast<int>(rows->get_int(i, 1))});
  co_return held;
}

awaitable<Result<void>> PgOutboundQueue::release(
    std::int64_t token, std::vector<std::pair<std::int64_t, int>> recipients) {
  if (recipients.empty()) co_return Result<void>{};
  std::vector<std::int64_t> queue, ordinal;
  for (auto [q, o] : recipients) {
    queue.push_back(q);
    ordinal.push_back(o);
  }
  auto rows =
      co_await run(*pool_, sql::kOutboundRelease,
                   Params().num(token).num_array(queue).num_array(ordinal), "outbound release");
  if (!rows) co_return unexpected(rows.error());
  co_return Result<void>{};
}

awaitable<Result<std::shared_ptr<const std::string>>> PgOutboundQueue::message(MessageId id) {
  auto rows = co_await run(*pool_, sql::kOutboundMessage, Params().num(id), "outbound message");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  co_return std::make_shared<const std::string>(rows->get_bytea(0, 0));
}

awaitable<Result<std::vector<std::shared_ptr<const std::string>>>> PgOutboundQueue::small_messages(
    std::vector<MessageId> ids, std::uint64_t max_bytes) {
  std::vector<std::int64_t> list(ids.begin(), ids.end());
  auto rows = co_await run(*pool_, sql::kOutboundMessages,
                           Params().num_array(list).num(static_cast<std::int64_t>(max_bytes)),
                           "outbound messages");
  if (!rows) co_return unexpected(rows.error());
  std::vector<std::shared_ptr<const std::string>> out(ids.size());
  for (int i = 0; i < rows->size() && static_cast<std::size_t>(i) < out.size(); ++i)
    if (!rows->is_null(i, 0))
      out[static_cast<std::size_t>(i)] = std::make_shared<const std::string>(rows->get_bytea(i, 0));
  co_return out;
}

awaitable<Result<int>> PgOutboundQueue::take_reports(int limit, ReportSender send) {
  int taken = 0;
  std::optional<StoreError> send_error;
  pg::TxBody<void> body = [&](pg::Connection& c) -> awaitable<pg::PgResultOr<void>> {
    taken = 0;
    auto rows = co_await c.exec(sql::kOutboundReportsDue, Params().num(limit).span());
    if (!rows) co_return unexpected(rows.error());
    if (rows->size() == 0) co_return pg::PgResultOr<void>{};
    std::vector<ReportItem> items;
    std::vector<std::int64_t> queue, ordinal;
    for (int i = 0; i < rows->size(); ++i) {
      items.push_back(parse_report(*rows, i));
      queue.push_back(items.back().queue_id);
      ordinal.push_back(items.back().ordinal);
    }
    if (auto sent = co_await send(std::move(items)); !sent) {
      send_error = sent.error();
      co_return unexpected(pg::PgError{"GMRP0", "report not sent", false});
    }
    auto cleared = co_await c.exec(sql::kOutboundReportsClear,
                                   Params().num_array(queue).num_array(ordinal).span());
    if (!cleared) co_return unexpected(cleared.error());
    taken = static_cast<int>(queue.size());
    co_return pg::PgResultOr<void>{};
  };
  auto done = co_await pg::transaction(*pool_, std::move(body), 1);
  if (send_error) co_return unexpected(*send_error);
  if (!done) co_return unexpected(detail::map_error(done.error(), "outbound reports"));
  co_return taken;
}

awaitable<Result<int>> PgOutboundQueue::prune(std::chrono::seconds age, int limit) {
  auto rows = co_await run(*pool_, sql::kOutboundPrune, Params().num(age.count()).num(limit),
                           "outbound prune");
  if (!rows) co_return unexpected(rows.error());
  co_return static_cast<int>(rows->get_int(0, 0));
}

awaitable<Result<void>> PgOutboundQueue::attach_recipients(std::vector<QueueEntryView>& entries) {
  if (entries.empty()) co_return Result<void>{};
  std::vector<std::int64_t> ids;
  for (const auto& e : entries) ids.push_back(e.id);
  auto rows = co_await run(*pool_, sql::kOutboundRecipients, Params().num_array(ids),
                           "outbound recipients");
  if (!rows) co_return unexpected(rows.error());
  std::size_t e = 0;
  for (int i = 0; i < rows->size(); ++i) {
    const auto qid = rows->get_int(i, 0);
    while (e < entries.size() && entries[e].id != qid) ++e;
    if (e == entries.size()) break;  // ids and rows are both in id order
    entries[e].recipients.push_back(parse_recipient_view(*rows, i));
  }
  co_return Result<void>{};
}

awaitable<Result<std::vector<QueueEntryView>>> PgOutboundQueue::list(bool include_finished,
                                                                     int limit) {
  auto rows = co_await run(*pool_, sql::kOutboundList,
                           Params().boolean(include_finished).num(limit), "outbound list");
  if (!rows) co_return unexpected(rows.error());
  std::vector<QueueEntryView> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(parse_entry_view(*rows, i));
  if (auto r = co_await attach_recipients(out); !r) co_return unexpected(r.error());
  co_return out;
}

awaitable<Result<QueueEntryView>> PgOutboundQueue::show(std::int64_t id) {
  auto rows = co_await run(*pool_, sql::kOutboundEntry, Params().num(id), "outbound show");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  std::vector<QueueEntryView> one{parse_entry_view(*rows, 0)};
  if (auto r = co_await attach_recipients(one); !r) co_return unexpected(r.error());
  co_return std::move(one.front());
}

awaitable<Result<int>> PgOutboundQueue::retry(std::int64_t id) {
  auto entry = co_await show(id);
  if (!entry) co_return unexpected(entry.error());
  auto rows = co_await run(*pool_, sql::kOutboundRetry, Params().num(id), "outbound retry");
  if (!rows) co_return unexpected(rows.error());
  co_return static_cast<int>(rows->affected());
}

awaitable<Result<void>> PgOutboundQueue::remove(std::int64_t id) {
  auto rows = co_await run(*pool_, sql::kOutboundDelete, Params().num(id), "outbound delete");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  co_return Result<void>{};
}

awaitable<Result<QueueStats>> PgOutboundQueue::stats() {
  auto rows = co_await run(*pool_, sql::kOutboundStats, Params(), "outbound stats");
  if (!rows) co_return unexpected(rows.error());
  QueueStats s;
  s.pending_recipients = rows->get_int(0, 0);
  s.pending_messages = rows->get_int(0, 1);
  s.oldest_age_seconds = rows->get_int(0, 2);
  s.reports_owed = rows->get_int(0, 3);
  co_return s;
}

awaitable<Result<DkimKey>> PgOutboundQueue::add_dkim_key(DkimKey key) {
  Params p;
  p.text(key.domain).text(key.selector).text(key.algorithm).text(key.private_pem);
  p.text(key.public_b64);
  auto rows = co_await run(*pool_, sql::kDkimAdd, p, "dkim add");
  if (!rows) co_return unexpected(rows.error());
  key.id = rows->get_int(0, 0);
  key.created_at = rows->get_int(0, 1);
  key.active = true;
  co_return key;
}

awaitable<Result<std::vector<DkimKey>>> PgOutboundQueue::dkim_keys(std::string domain) {
  auto rows = co_await run(*pool_, sql::kDkimList, Params().text(std::move(domain)), "dkim list");
  if (!rows) co_return unexpected(rows.error());
  std::vector<DkimKey> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(parse_dkim(*rows, i));
  co_return out;
}

awaitable<Result<bool>> PgOutboundQueue::replace_dkim_private_key(std::int64_t id,
                                                                  std::string expected,
                                                                  std::string replacement) {
  Params p;
  p.num(id).text(std::move(expected)).text(std::move(replacement));
  auto rows = co_await run(*pool_, sql::kDkimReplacePrivate, p, "dkim replace private key");
  if (!rows) co_return unexpected(rows.error());
  co_return rows->size() == 1;
}

}  // namespace govmail::store
