#include "mailbox_store_pg.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <deque>

#include "core/asio.hpp"
#include "core/hex.hpp"
#include "core/sha256.hpp"
#include "core/text.hpp"
#include "core/worker_pool.hpp"
#include "query.hpp"
#include "sql/mailbox_sql.hpp"
#include "store/mime.hpp"

namespace govmail::store {

using detail::Params;
using detail::run;

namespace {

constexpr std::size_t kMaxMailboxName = 1000;
// The journal entry of mail the server makes itself (delivery reports, companions).
const JournalInfo kInternalMail{};

// Rows of a listing statement without ORDER BY (mailbox_sql.hpp) in UID order: as read when the
// plan gave it, which is a check of n steps, else sorted.
template <typename T, typename UidOf>
void in_uid_order(std::vector<T>& rows, UidOf uid_of) {
  auto by_uid = [&](const T& a, const T& b) { return uid_of(a) < uid_of(b); };
  if (!std::is_sorted(rows.begin(), rows.end(), by_uid))
    std::sort(rows.begin(), rows.end(), by_uid);
}

// jsonb refuses \u0000 even escaped; everything else in the parser's JSON is kept as is.
std::string jsonb_safe(std::string json) {
  if (json.empty()) return "{}";
  for (auto p = json.find("\\u0000"); p != std::string::npos; p = json.find("\\u0000", p))
    json.replace(p, 6, "\\ufffd");
  return core::sanitize_utf8(json);
}

Mailbox parse_mailbox(const pg::Rows& r, int i) {
  Mailbox m;
  m.id = r.get_int(i, 0);
  m.account_id = r.get_int(i, 1);
  m.name = std::string(r.get(i, 2));
  if (!r.is_null(i, 3)) m.parent_id = r.get_int(i, 3);
  m.special_use = static_cast<SpecialUse>(r.get_int(i, 4));
  m.uidvalidity = static_cast<std::uint32_t>(r.get_int(i, 5));
  m.uidnext = static_cast<Uid>(r.get_int(i, 6));
  m.highestmodseq = static_cast<ModSeq>(r.get_int(i, 7));
  m.messages = static_cast<std::uint32_t>(r.get_int(i, 8));
  m.unseen = static_cast<std::uint32_t>(r.get_int(i, 9));
  m.size_bytes = static_cast<std::uint64_t>(r.get_int(i, 10));
  m.first_recent_uid = static_cast<std::uint64_t>(r.get_int(i, 11));
  return m;
}

Result<Mailbox> one_mailbox(Result<pg::Rows> rows) {
  if (!rows) return unexpected(rows.error());
  if (rows->size() == 0) return unexpected(StoreError::not_found);
  return parse_mailbox(*rows, 0);
}

Result<void> done(const Result<pg::Rows>& rows) {
  if (!rows) return unexpected(rows.error());
  return {};
}

std::int16_t flag_op_code(FlagOp op) {
  switch (op) {
    case FlagOp::add:
      return 0;
    case FlagOp::remove:
      return 1;
    case FlagOp::replace:
      return 2;
  }
  return 2;
}

constexpr std::uint16_t kAllSystemFlags = kSeen | kAnswered | kFlagged | kDeleted | kDraft;

UnixTime now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// $1 account, $2 mailbox, $3/$4 the UID ranges: the head of every statement on selected entries.
// (Params may be moved: its owned strings live in a deque, whose elements stay where they are.)
Params entries_params(AccountId account, MailboxId mailbox, const UidSet& uids) {
  auto ranges = detail::normalise(uids);
  Params p;
  p.num(account).num(mailbox).num_array(ranges.first).num_array(ranges.last);
  return p;
}

// Parses once and hashes: the costly, linear part of an ingest.
struct Ingested {
  ParsedMessage parsed;
  std::string sha;
  std::string envelope_json, bodystructure_json;  // as stored (jsonb_safe)
  std::int32_t forms_version = 0;                 // 0: no renderings (IngestForms)
  ImapForms forms;
};

}  // namespace

Result<std::string> normalise_mailbox_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxMailboxName || name.front() == '/' || name.back() == '/' ||
      name.find("//") != std::string_view::npos)
    return unexpected(StoreError::invalid);
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f || c == '%' || c == '*') return unexpected(StoreError::invalid);
  std::string out = core::sanitize_utf8(name);
  if (out != name) return unexpected(StoreError::invalid);  // not valid UTF-8
  auto first_end = std::min(out.find('/'), out.size());
  if (first_end == 5) {
    std::string first = out.substr(0, 5);
    for (auto& c : first) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (first == "INBOX") out.replace(0, 5, "INBOX");
  }
  return out;
}

PgMailboxStore::PgMailboxStore(std::shared_ptr<pg::Pool> pool,
                               std::shared_ptr<core::WorkerPool> workers,
                               std::shared_ptr<ChangeNotifier> notifier,
                               std::size_t delivery_batch_max, bool durable_flag_changes,
                               IngestForms ingest_forms)
    : pool_(std::move(pool)),
      workers_(std::move(workers)),
      notifier_(std::move(notifier)),
      batcher_(pool_, delivery_batch_max),
      durable_flag_changes_(durable_flag_changes),
      ingest_forms_(std::move(ingest_forms)) {}

// ---- mailboxes -------------------------------------------------------------------------------

awaitable<Result<std::vector<Mailbox>>> PgMailboxStore::list_mailboxes(AccountId account) {
  auto rows = co_await run(*pool_, sql::kListMailboxes, Params().num(account), "list mailboxes");
  if (!rows) co_return unexpected(rows.error());
  std::vector<Mailbox> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(parse_mailbox(*rows, i));
  co_return out;
}

awaitable<Result<Mailbox>> PgMailboxStore::get_mailbox(AccountId account, std::string name) {
  auto norm = normalise_mailbox_name(name);
  if (!norm) co_return unexpected(StoreError::not_found);
  co_return one_mailbox(
      co_await run(*pool_, sql::kMailboxByName, Params().num(account).text(*norm), "get mailbox"));
}

awaitable<Result<Mailbox>> PgMailboxStore::get_mailbox(AccountId account, MailboxId id) {
  co_return one_mailbox(
      co_await run(*pool_, sql::kMailboxById, Params().num(account).num(id), "get mailbox"));
}

awaitable<Result<MailboxStore::Opened>> PgMailboxStore::open_mailbox(AccountId account,
                                                                     std::string name,
                                                                     bool claim_recent) {
  auto norm = normalise_mailbox_name(name);
  if (!norm) co_return unexpected(StoreError::not_found);
  auto rows = co_await run(*pool_, claim_recent ? sql::kOpenMailboxClaim : sql::kOpenMailbox,
                           Params().num(account).text(*norm), "open mailbox");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  Opened out{parse_mailbox(*rows, 0), {}, {}};
  if (claim_recent && !rows->is_null(0, 13))  // null: nothing to claim
    out.claimed = {static_cast<std::uint64_t>(rows->get_int(0, 13)),
                   static_cast<std::uint64_t>(rows->get_int(0, 14))};
  out.entries.reserve(out.mailbox.messages);
  auto list = rows->get(0, 12);  // "uid modseq flags,uid modseq flags,..."
  const char* p = list.data();
  const char* end = p + list.size();
  auto number = [&](auto& v, char sep) {
    auto r = std::from_chars(p, end, v);
    if (r.ec != std::errc() || (r.ptr != end && *r.ptr != sep)) return false;
    p = r.ptr == end ? end : r.ptr + 1;
    return true;
  };
  while (p < end) {
    EntryState e;
    if (!number(e.uid, ' ') || !number(e.modseq, ' ') || !number(e.flags, ','))
      co_return unexpected(StoreError::temporary);
    out.entries.push_back(e);
  }
  co_return out;
}

awaitable<Result<Mailbox>> PgMailboxStore::create_mailbox(AccountId account, std::string name,
                                                          SpecialUse use) {
  auto norm = normalise_mailbox_name(name);
  if (!norm) co_return unexpected(norm.error());
  auto r = one_mailbox(co_await run(*pool_, sql::kCreateMailbox,
                                    Params().num(account).text(*norm).num(static_cast<int>(use)),
                                    "create mailbox"));
  // Like rename and delete: a new mailbox changes the account's Mailbox state (JMAP push).
  if (r) notifier_->changed(account, r->id, r->highestmodseq);
  co_return r;
}

awaitable<Result<void>> PgMailboxStore::rename_mailbox(AccountId account, MailboxId id,
                                                       std::string new_name) {
  auto norm = normalise_mailbox_name(new_name);
  if (!norm) co_return unexpected(norm.error());
  auto r = done(co_await run(*pool_, sql::kRenameMailbox, Params().num(account).num(id).text(*norm),
                             "rename mailbox"));
  if (r) notifier_->changed(account, id, 0);
  co_return r;
}

awaitable<Result<void>> PgMailboxStore::delete_mailbox(AccountId account, MailboxId id) {
  auto r = done(
      co_await run(*pool_, sql::kDeleteMailbox, Params().num(account).num(id), "delete mailbox"));
  if (r) notifier_->changed(account, id, 0);
  co_return r;
}

awaitable<Result<std::vector<std::string>>> PgMailboxStore::list_subscriptions(AccountId account) {
  auto rows =
      co_await run(*pool_, sql::kListSubscriptions, Params().num(account), "list subscriptions");
  if (!rows) co_return unexpected(rows.error());
  std::vector<std::string> out;
  for (int i = 0; i < rows->size(); ++i) out.emplace_back(rows->get(i, 0));
  co_return out;
}

awaitable<Result<void>> PgMailboxStore::set_subscribed(AccountId account, std::string name,
                                                       bool on) {
  if (name.empty() || name.size() > kMaxMailboxName) co_return unexpected(StoreError::invalid);
  co_return done(co_await run(*pool_, on ? sql::kSubscribe : sql::kUnsubscribe,
                              Params().num(account).text(name), "subscribe"));
}

awaitable<Result<RecentClaim>> PgMailboxStore::claim_recent(AccountId account, MailboxId mailbox) {
  auto rows =
      co_await run(*pool_, sql::kClaimRecent, Params().num(account).num(mailbox), "claim recent");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return RecentClaim{};  // nothing new, or no such mailbox
  co_return RecentClaim{static_cast<std::uint64_t>(rows->get_int(0, 0)),
                        static_cast<std::uint64_t>(rows->get_int(0, 1))};
}

// ---- messages in -----------------------------------------------------------------------------

namespace {

// An append's flags as stored: only system flags, keywords normalised.
Result<std::vector<std::string>> stored_keywords(AppendRequest& req) {
  if (req.flags.system & ~kAllSystemFlags) return unexpected(StoreError::invalid);
  return detail::normalise_keywords(std::move(req.flags.keywords));
}

}  // namespace

awaitable<Result<AppendResult>> PgMailboxStore::append(AccountId account,
                                                       std::optional<MailboxId> mailbox,
                                                       AppendRequest req) {
  std::vector<AppendRequest> one;
  one.push_back(std::move(req));
  auto r = co_await append_all(account, mailbox, std::move(one));
  if (!r) co_return unexpected(r.error());
  co_return r->front();
}

awaitable<Result<DeliveryResult>> PgMailboxStore::deliver(Delivery delivery) {
  co_return co_await deliver_with(delivery, kInternalMail);
}

awaitable<Result<DeliveryResult>> PgMailboxStore::deliver(Delivery delivery,
                                                          const JournalInfo& journal) {
  co_return co_await deliver_with(delivery, journal);
}

// A message and its companions (delivery reports, journaled as internal mail).
awaitable<Result<DeliveryResult>> PgMailboxStore::deliver_with(const Delivery& d,
                                                               const JournalInfo& journal) {
  static const std::vector<std::string> no_keywords;
  std::vector<IngestItem> items{{&d, 0, &no_keywords, std::nullopt, &journal}};
  for (const auto& c : d.companions) {
    if (!c.companions.empty()) co_return unexpected(StoreError::invalid);
    items.push_back({&c, 0, &no_keywords, std::nullopt, &kInternalMail});
  }
  auto results = co_await ingest(items, sql::kDeliver);
  if (!results) co_return unexpected(results.error());
  DeliveryResult out = std::move(results->front());
  std::move(results->begin() + 1, results->end(), std::back_inserter(out.companions));
  co_return out;
}

awaitable<Result<DeliveryResult>> deliver_journaled(MailboxStore& store, Delivery delivery,
                                                    JournalInfo journal) {
  if (auto* pg_store = dynamic_cast<PgMailboxStore*>(&store))
    co_return co_await pg_store->deliver(std::move(delivery), journal);
  co_return co_await store.deliver(std::move(delivery));  // a test double: no journal
}

namespace {

std::vector<std::string> sanitized(std::vector<std::string> v) {
  for (auto& x : v) x = core::sanitize_utf8(x);
  return v;
}

// The IMAP renderings stored with the message (GOVMAIL_DELIVER_FORMS); views into `in`.
void forms_params(Params& params, const Ingested& in) {
  params.num(in.forms_version);
  for (const auto* f : {&in.forms.envelope, &in.forms.bodystructure, &in.forms.header})
    if (in.forms_version > 0 && *f)
      params.bytes(**f);
    else
      params.null();
}

// The parameters of one govmail_deliver call; views into d.raw and in.sha, which the caller
// keeps alive until the statement ran.
void deliver_params(Params& params, const Delivery& d, const Ingested& in, std::uint16_t flags,
                    const std::vector<std::string>& keywords, std::optional<UnixTime> internal_date,
                    const JournalInfo* journal) {
  const JournalInfo& j = journal ? *journal : kInternalMail;
  const ParsedMessage& p = in.parsed;
  std::vector<std::string> refs = p.references;
  if (!p.in_reply_to.empty()) refs.push_back(p.in_reply_to);
  for (auto& r : refs) r = core::sanitize_utf8(r);
  std::vector<std::int64_t> accounts;
  std::vector<std::optional<std::int64_t>> mailboxes;
  for (const auto& l : d.local) {
    accounts.push_back(l.account_id);
    mailboxes.push_back(l.mailbox_id);
  }
  std::vector<std::string> remote, notify, orcpt;
  for (const auto& r : d.remote) {
    remote.push_back(r.address);
    notify.push_back(r.dsn_notify);
    orcpt.push_back(r.dsn_orcpt);
  }
  // Each also goes into the journal entry's content hash.
  const std::string envelope_from = core::sanitize_utf8(d.envelope_from),
                    auth_user = core::sanitize_utf8(j.auth_user),
                    client_ip = core::sanitize_utf8(j.client_ip),
                    subject = core::sanitize_utf8(p.subject),
                    from_address = core::sanitize_utf8(p.from_address),
                    message_id = core::sanitize_utf8(p.message_id);
  params.bytes(in.sha)
      .bytes(*d.raw)
      .num(internal_date.value_or(now_unix()))
      .view(in.envelope_json)
      .view(in.bodystructure_json)
      .text(subject)
      .text(from_address)
      .text(message_id)
      .text_array(refs)
      .num_array(accounts)
      .opt_num_array(mailboxes)
      .num(flags)
      .text_array(keywords)
      .text(core::sanitize_utf8(p.search_text))
      .text(envelope_from)
      .text_array(remote)
      .text_array(notify)
      .text_array(orcpt)
      .text(core::sanitize_utf8(d.dsn_envid))
      .text(core::sanitize_utf8(d.dsn_ret))
      .boolean(journal != nullptr)
      .text(j.direction)
      .text(auth_user)
      .text(client_ip);
  std::vector<std::string> rcpts = sanitized(j.recipients);
  params.text_array(rcpts);
  // The entry's content hash, when its recipients are these; otherwise (none given: SQL lists
  // the accounts' addresses) the journal trigger computes it.
  if (journal && !rcpts.empty()) {
    const JournalContent content{.direction = j.direction,
                                 .envelope_from = envelope_from,
                                 .recipients = &rcpts,
                                 .auth_user = auth_user,
                                 .client_ip = client_ip,
                                 .blob_sha256 = in.sha,
                                 .size = static_cast<std::int64_t>(d.raw->size()),
                                 .subject = subject,
                                 .from_address = from_address,
                                 .message_id_hdr = message_id};
    params.owned_bytes(core::sha256(journal_content_canon(content)));
  } else {
    params.null();
  }
  forms_params(params, in);
}

// A message for nobody would be stored and never referenced.
Result<void> check_delivery(const Delivery& d) {
  if (!d.raw || (d.local.empty() && d.remote.empty())) return unexpected(StoreError::invalid);
  if (d.raw->size() > kMaxMessageBytes) return unexpected(StoreError::too_big);
  return {};
}

awaitable<Result<void>> parse_into(core::WorkerPool* workers, const IngestForms& forms,
                                   const std::string& raw, Ingested& in) {
  // No search text at ingest: the delivery transaction stays small (no copy of the text in the
  // index queue) and the indexer parses the stored message at its own, lower, priority; a
  // queue row with an empty text is parsed again (store/src/sql/search_sql.hpp).
  static const MimeLimits kIngestLimits = [] {
    MimeLimits l;
    l.max_search_text = 0;
    return l;
  }();
  auto work = [&] {
    in.parsed = parse_message(raw, kIngestLimits);
    in.sha = core::sha256(raw);
    in.envelope_json = jsonb_safe(in.parsed.envelope_json);
    in.bodystructure_json = jsonb_safe(in.parsed.bodystructure_json);
    if (forms.version > 0 && forms.render) {
      in.forms_version = forms.version;
      in.forms = forms.render(raw, in.envelope_json, in.bodystructure_json);
    }
  };
  if (raw.size() >= kParseOffThreadBytes && workers) {
    if (!co_await workers->run(work)) co_return unexpected(StoreError::temporary);
  } else {
    work();
  }
  co_return Result<void>{};
}

// What a delivery locks, as the batcher's key: its (account, mailbox) targets in one order.
std::string targets_key(const Delivery& d) {
  std::vector<std::pair<std::int64_t, std::int64_t>> t;
  for (const auto& l : d.local) t.emplace_back(l.account_id, l.mailbox_id.value_or(0));
  std::sort(t.begin(), t.end());
  std::string key;
  for (const auto& [a, m] : t) key += std::to_string(a) + ':' + std::to_string(m) + ',';
  return key;
}

// One statement on its own (committed with other deliveries to the same mailboxes when they
// coincide), or all of them in one transaction (a message and its report, a MULTIAPPEND).
// `statement` is the last delivery's, the others' kDeliver: kDeliverClaim for an APPEND that
// claims \Recent claims up to the last UID, so for every message of a MULTIAPPEND.
awaitable<Result<std::vector<pg::Rows>>> run_deliveries(pg::Pool& pool, DeliveryBatcher& batcher,
                                                        const Delivery& d,
                                                        const std::deque<Params>& params,
                                                        const pg::Statement& statement) {
  std::vector<pg::Rows> out;
  if (params.size() == 1) {
    Result<pg::Rows> rows = unexpected(StoreError::temporary);
    if (d.local.empty()) {
      rows = co_await run(pool, statement, params.front(), "deliver");
    } else {
      std::string key = targets_key(d);  // named: GCC 12 and temporaries in co_await (NOTES)
      rows = co_await batcher.run(std::move(key), statement, params.front());
    }
    if (!rows) co_return unexpected(rows.error());
    out.push_back(std::move(*rows));
    co_return out;
  }
  pg::TxBody<void> body = [&](pg::Connection& c) -> awaitable<pg::PgResultOr<void>> {
    out.clear();  // a retried transaction starts over
    for (const auto& p : params) {
      const pg::Statement& st = &p == &params.back() ? statement : sql::kDeliver;
      auto rows = co_await c.exec(st, p.span());
      if (!rows) co_return unexpected(rows.error());
      out.push_back(std::move(*rows));
    }
    co_return pg::PgResultOr<void>{};
  };
  auto done = co_await pg::transaction(pool, std::move(body));
  if (!done) co_return unexpected(detail::map_error(done.error(), "deliver"));
  co_return out;
}

// The result rows of govmail_deliver; announces the new entries (after COMMIT).
DeliveryResult collect(ChangeNotifier& notifier, const Delivery& d, const pg::Rows& rows) {
  DeliveryResult out;
  for (int i = 0; i < rows.size(); ++i) {
    out.message_id = rows.get_int(i, 5);
    if (!rows.is_null(i, 6)) out.outbound_id = rows.get_int(i, 6);
    if (rows.get_int(i, 0) == 0) continue;  // no local recipient
    AppendResult a;
    a.mailbox_id = rows.get_int(i, 1);
    a.uidvalidity = static_cast<std::uint32_t>(rows.get_int(i, 2));
    a.uid = static_cast<Uid>(rows.get_int(i, 3));
    a.modseq = static_cast<ModSeq>(rows.get_int(i, 4));
    a.message_id = out.message_id;
    if (rows.columns() > 8 && !rows.is_null(i, 7))  // kDeliverClaim, and the claim was ours
      a.recent = {static_cast<std::uint64_t>(rows.get_int(i, 7)),
                  static_cast<std::uint64_t>(rows.get_int(i, 8))};
    out.local.push_back(a);
    // Column 0 is the recipient's 1-based position in d.local.
    const auto& who = d.local.at(static_cast<std::size_t>(rows.get_int(i, 0)) - 1);
    notifier.changed(who.account_id, a.mailbox_id, a.modseq);
  }
  return out;
}

// Each message's renderings to IngestForms::stored where its delivery stored them: it had a
// local recipient (a row whose column 0, the recipient's position, is > 0; column 5 is the
// message id).
void hand_over_forms(const std::function<void(const ImapForms&)>& stored,
                     std::vector<Ingested>& parsed, const std::vector<pg::Rows>& rows) {
  for (std::size_t i = 0; i < parsed.size() && i < rows.size(); ++i) {
    if (parsed[i].forms_version == 0) continue;
    for (int r = 0; r < rows[i].size(); ++r) {
      if (rows[i].get_int(r, 0) == 0) continue;
      parsed[i].forms.message = rows[i].get_int(r, 5);
      stored(parsed[i].forms);
      break;
    }
  }
}

}  // namespace

awaitable<Result<std::vector<AppendResult>>> PgMailboxStore::append_all(
    AccountId account, std::optional<MailboxId> mailbox, std::vector<AppendRequest> reqs) {
  if (reqs.empty()) co_return unexpected(StoreError::invalid);
  std::vector<Delivery> ds(reqs.size());  // sized once: the items point into it
  std::vector<std::vector<std::string>> keywords(reqs.size());
  std::vector<IngestItem> items;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    auto k = stored_keywords(reqs[i]);
    if (!k) co_return unexpected(k.error());
    keywords[i] = std::move(*k);
    ds[i].raw = std::move(reqs[i].raw);
    ds[i].local.push_back({account, mailbox});
    items.push_back({&ds[i], reqs[i].flags.system, &keywords[i], reqs[i].internal_date, nullptr});
  }
  const bool claim = reqs.back().claim_recent;
  auto results = co_await ingest(items, claim ? sql::kDeliverClaim : sql::kDeliver);
  if (!results) co_return unexpected(results.error());
  std::vector<AppendResult> out;
  for (auto& r : *results) {
    if (r.local.empty()) co_return unexpected(StoreError::permanent);
    out.push_back(r.local.front());
  }
  co_return out;
}

awaitable<Result<std::vector<AppendResult>>> MailboxStore::append_all(
    AccountId account, std::optional<MailboxId> mailbox, std::vector<AppendRequest> reqs) {
  if (reqs.size() != 1) co_return unexpected(StoreError::invalid);
  auto r = co_await append(account, mailbox, std::move(reqs.front()));
  if (!r) co_return unexpected(r.error());
  co_return std::vector<AppendResult>{*r};
}

awaitable<Result<std::vector<DeliveryResult>>> PgMailboxStore::ingest(
    const std::vector<IngestItem>& items, const pg::Statement& last) {
  for (const auto& item : items)
    if (auto ok = check_delivery(*item.delivery); !ok) co_return unexpected(ok.error());
  std::vector<Ingested> parsed(items.size());  // sized once: the parameters point into it
  std::deque<Params> params;                   // deque: Params keep views into their own storage
  for (std::size_t i = 0; i < items.size(); ++i) {
    const IngestItem& item = items[i];
    if (auto ok =
            co_await parse_into(workers_.get(), ingest_forms_, *item.delivery->raw, parsed[i]);
        !ok)
      co_return unexpected(ok.error());
    deliver_params(params.emplace_back(), *item.delivery, parsed[i], item.flags, *item.keywords,
                   item.internal_date, item.journal);
  }
  auto rows = co_await run_deliveries(*pool_, batcher_, *items.front().delivery, params, last);
  if (!rows) co_return unexpected(rows.error());
  if (ingest_forms_.stored) hand_over_forms(ingest_forms_.stored, parsed, *rows);
  std::vector<DeliveryResult> out;
  for (std::size_t i = 0; i < items.size(); ++i)
    out.push_back(collect(*notifier_, *items[i].delivery, (*rows)[i]));
  co_return out;
}

// ---- messages out ----------------------------------------------------------------------------

awaitable<Result<std::vector<MailboxStore::EntryWithRaw>>> PgMailboxStore::list_entries_with_raws(
    AccountId account, MailboxId mailbox, UidSet uids, std::uint64_t raw_bytes) {
  auto params = entries_params(account, mailbox, uids);
  params.num(static_cast<std::int64_t>(raw_bytes));
  auto rows = co_await run(*pool_, sql::kListEntriesWithRaws, params, "list entries with raws");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  std::vector<EntryWithRaw> out;
  for (int i = 0; i < rows->size(); ++i) {
    if (rows->is_null(i, 0)) continue;
    EntryWithRaw e{detail::parse_entry(*rows, i), std::nullopt};
    if (!rows->is_null(i, 8)) e.raw = rows->get_bytea(i, 8);
    out.push_back(std::move(e));
  }
  co_return out;
}

awaitable<Result<std::vector<MessageMeta>>> MailboxStore::fetch_meta(AccountId account,
                                                                     MailboxId mailbox,
                                                                     UidSet uids) {
  return fetch_meta(account, mailbox, std::move(uids), MetaParts{});
}

awaitable<Result<std::vector<MailboxEntry>>> MailboxStore::list_entries(AccountId account,
                                                                        MailboxId mailbox,
                                                                        UidSet uids) {
  return list_entries(account, mailbox, std::move(uids), true);
}

awaitable<Result<std::vector<MailboxEntry>>> PgMailboxStore::list_entries(AccountId account,
                                                                          MailboxId mailbox,
                                                                          UidSet uids,
                                                                          bool internal_date) {
  const auto params = entries_params(account, mailbox, uids);  // named: see GCC 12 in fetch.cpp
  auto rows = co_await run(*pool_, internal_date ? sql::kListEntries : sql::kListEntriesUndated,
                           params, "list entries");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  std::vector<MailboxEntry> out;
  for (int i = 0; i < rows->size(); ++i)
    if (!rows->is_null(i, 0)) out.push_back(detail::parse_entry(*rows, i));
  in_uid_order(out, [](const MailboxEntry& e) { return e.uid; });
  co_return out;
}

awaitable<Result<std::vector<MessageMeta>>> PgMailboxStore::fetch_meta(AccountId account,
                                                                       MailboxId mailbox,
                                                                       UidSet uids,
                                                                       MetaParts parts) {
  auto params = entries_params(account, mailbox, uids);
  params.boolean(parts.envelope).boolean(parts.bodystructure);
  const bool forms = parts.forms_version != 0;
  if (forms)
    params.num(parts.forms_version)
        .boolean(parts.bodystructure_always)
        .boolean(parts.header)
        .boolean(parts.dated);
  auto rows =
      co_await run(*pool_, forms ? sql::kFetchMetaForms : sql::kFetchMeta, params, "fetch meta");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  auto optional_bytes = [&](int i, int col) {
    return rows->is_null(i, col) ? std::nullopt : std::optional(rows->get_bytea(i, col));
  };
  std::vector<MessageMeta> out;
  for (int i = 0; i < rows->size(); ++i) {
    if (rows->is_null(i, 0)) continue;
    MessageMeta m;
    m.entry = detail::parse_entry(*rows, i);
    m.envelope_json = std::string(rows->get(i, 8));
    m.bodystructure_json = std::string(rows->get(i, 9));
    m.blob_sha256 = std::string(rows->get(i, 10));
    if (forms) {
      m.imap_envelope = optional_bytes(i, 11);
      m.imap_bodystructure = optional_bytes(i, 12);
      m.imap_header = optional_bytes(i, 13);
    }
    out.push_back(std::move(m));
  }
  in_uid_order(out, [](const MessageMeta& m) { return m.entry.uid; });
  co_return out;
}

namespace {

// Hex for the statement's text[] (decoded there); '' is "none".
std::string hex_of(const std::optional<std::string>& bytes) {
  return bytes ? core::to_hex(*bytes) : std::string();
}

}  // namespace

awaitable<Result<void>> PgMailboxStore::save_imap_forms(AccountId account, std::int32_t version,
                                                        std::vector<ImapForms> forms) {
  if (forms.empty()) co_return Result<void>{};
  std::vector<std::int64_t> ids;
  std::vector<std::string> envelopes, structures, headers;
  for (const auto& f : forms) {
    ids.push_back(f.message);
    envelopes.push_back(hex_of(f.envelope));
    structures.push_back(hex_of(f.bodystructure));
    headers.push_back(hex_of(f.header));
  }
  Params params;
  params.num(account).num(version).num_array(ids).text_array(envelopes).text_array(structures);
  params.text_array(headers);
  auto rows = co_await run(*pool_, sql::kSaveImapForms, params, "save imap forms");
  if (!rows) co_return unexpected(rows.error());
  co_return Result<void>{};
}

awaitable<Result<std::string>> PgMailboxStore::fetch_raw(AccountId account, MessageId message,
                                                         std::uint64_t offset,
                                                         std::optional<std::uint64_t> length) {
  if (offset >= kMaxMessageBytes) offset = kMaxMessageBytes;  // past the end: empty
  if (length && *length > kMaxMessageBytes) length = kMaxMessageBytes;
  Params params;
  params.num(account).num(message).num(static_cast<std::int64_t>(offset) + 1);
  params.opt_num(length ? std::optional<std::int64_t>(*length) : std::nullopt);
  auto rows = co_await run(*pool_, sql::kFetchRaw, params, "fetch raw");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  co_return rows->get_bytea(0, 0);
}

awaitable<Result<std::vector<MailboxStore::Raw>>> PgMailboxStore::fetch_raws(
    AccountId account, std::vector<MessageId> messages, RawPart part) {
  std::vector<std::int64_t> ids(messages.begin(), messages.end());
  Params params;
  params.num(account).num_array(ids);
  if (part == RawPart::preview) params.num(static_cast<std::int64_t>(kPreviewBodyBytes));
  const auto& statement = part == RawPart::header    ? sql::kFetchHeaders
                          : part == RawPart::preview ? sql::kFetchPreviews
                                                     : sql::kFetchRaws;
  auto rows = co_await run(*pool_, statement, params, "fetch raws");
  if (!rows) co_return unexpected(rows.error());
  std::vector<Raw> out;
  for (int i = 0; i < rows->size(); ++i)
    out.push_back({rows->get_int(i, 0), rows->get_bytea(i, 1)});
  co_return out;
}

// ---- changes ---------------------------------------------------------------------------------

awaitable<Result<MailboxStore::FlagUpdate>> PgMailboxStore::set_flags(
    AccountId account, MailboxId mailbox, UidSet uids, FlagOp op, Flags flags,
    std::optional<ModSeq> unchanged_since) {
  if (flags.system & ~kAllSystemFlags) co_return unexpected(StoreError::invalid);
  auto keywords = detail::normalise_keywords(std::move(flags.keywords));
  if (!keywords) co_return unexpected(keywords.error());
  auto params = entries_params(account, mailbox, uids);
  params.num(flag_op_code(op)).num(flags.system).text_array(*keywords);
  params.opt_num(unchanged_since
                     ? std::optional<std::int64_t>(static_cast<std::int64_t>(*unchanged_since))
                     : std::nullopt);
  params.boolean(!durable_flag_changes_);
  auto rows = co_await run(*pool_, sql::kSetFlags, params, "set flags");
  if (!rows) co_return unexpected(rows.error());
  FlagUpdate out;
  std::optional<ModSeq> prior;
  for (int i = 0; i < rows->size(); ++i) {
    switch (rows->get_int(i, 0)) {
      case 0:
        out.updated.push_back(detail::parse_entry(*rows, i, 1));
        break;
      case 1:
        out.conflicts.push_back(static_cast<Uid>(rows->get_int(i, 1)));
        break;
      case 3:
        out.unchanged.push_back(detail::parse_entry(*rows, i, 1));
        break;
      default:
        prior = static_cast<ModSeq>(rows->get_int(i, 9));
        break;
    }
  }
  if (!prior) co_return unexpected(StoreError::not_found);
  auto by_uid = [](const auto& a, const auto& b) { return a.uid < b.uid; };
  std::sort(out.updated.begin(), out.updated.end(), by_uid);
  std::sort(out.unchanged.begin(), out.unchanged.end(), by_uid);
  std::sort(out.conflicts.begin(), out.conflicts.end());
  if (!out.updated.empty()) {
    out.step = {*prior, out.updated.back().modseq};
    notifier_->changed(account, mailbox, out.step.modseq);
  }
  co_return out;
}

awaitable<Result<UidMapping>> PgMailboxStore::copy(AccountId account, MailboxId from, UidSet uids,
                                                   MailboxId to) {
  co_return co_await copy_or_move(account, from, std::move(uids), to, false);
}

awaitable<Result<UidMapping>> PgMailboxStore::move(AccountId account, MailboxId from, UidSet uids,
                                                   MailboxId to) {
  co_return co_await copy_or_move(account, from, std::move(uids), to, true);
}

awaitable<Result<UidMapping>> PgMailboxStore::copy_or_move(AccountId account, MailboxId from,
                                                           UidSet uids, MailboxId to, bool move) {
  auto ranges = detail::normalise(uids);
  Params params;
  params.num(account).num(from).num(to).num_array(ranges.first).num_array(ranges.last);
  params.boolean(move);
  auto rows = co_await run(*pool_, sql::kCopy, params, move ? "move" : "copy");
  if (!rows) co_return unexpected(rows.error());
  UidMapping out;
  for (int i = 0; i < rows->size(); ++i) {
    if (rows->is_null(i, 0)) {
      out.uidvalidity = static_cast<std::uint32_t>(rows->get_int(i, 2));
      continue;
    }
    out.source.push_back(static_cast<Uid>(rows->get_int(i, 0)));
    out.destination.push_back(static_cast<Uid>(rows->get_int(i, 1)));
  }
  if (!out.source.empty()) {
    notifier_->changed(account, to, 0);
    if (move) notifier_->changed(account, from, 0);
  }
  co_return out;
}

awaitable<Result<Expunged>> PgMailboxStore::expunge(AccountId account, MailboxId mailbox,
                                                    std::optional<UidSet> uids) {
  Params params;
  params.num(account).num(mailbox);
  if (uids) {
    auto ranges = detail::normalise(*uids);
    params.num_array(ranges.first).num_array(ranges.last);
  } else {
    params.null().null();
  }
  auto rows = co_await run(*pool_, sql::kExpunge, params, "expunge");
  if (!rows) co_return unexpected(rows.error());
  Expunged out;
  for (int i = 0; i < rows->size(); ++i) out.uids.push_back(static_cast<Uid>(rows->get_int(i, 0)));
  if (out.uids.empty()) co_return out;
  std::sort(out.uids.begin(), out.uids.end());
  out.step = {static_cast<ModSeq>(rows->get_int(0, 2)), static_cast<ModSeq>(rows->get_int(0, 1))};
  notifier_->changed(account, mailbox, out.step.modseq);
  co_return out;
}

awaitable<Result<bool>> PgMailboxStore::lease_mailbox(AccountId account, MailboxId mailbox,
                                                      std::string holder,
                                                      std::chrono::seconds ttl) {
  auto rows = co_await run(
      *pool_, sql::kLeaseMailbox,
      Params().num(account).num(mailbox).text(std::move(holder)).num(ttl.count()), "lease mailbox");
  if (!rows) co_return unexpected(rows.error());
  co_return rows->size() == 1;
}

awaitable<Result<void>> PgMailboxStore::release_lease(AccountId account, MailboxId mailbox,
                                                      std::string holder) {
  auto rows =
      co_await run(*pool_, sql::kReleaseLease,
                   Params().num(account).num(mailbox).text(std::move(holder)), "release lease");
  if (!rows) co_return unexpected(rows.error());
  co_return Result<void>{};
}

awaitable<Result<Expunged>> PgMailboxStore::expunge_leased(AccountId account, MailboxId mailbox,
                                                           std::string holder, UidSet uids) {
  auto ranges = detail::normalise(uids);
  Params params;
  params.num(account).num(mailbox).text(std::move(holder));
  params.num_array(ranges.first).num_array(ranges.last);
  auto rows = co_await run(*pool_, sql::kExpungeLeased, params, "expunge leased");
  if (!rows) co_return unexpected(rows.error());
  Expunged out;
  for (int i = 0; i < rows->size(); ++i) out.uids.push_back(static_cast<Uid>(rows->get_int(i, 0)));
  if (out.uids.empty()) co_return out;
  std::sort(out.uids.begin(), out.uids.end());
  out.step = {static_cast<ModSeq>(rows->get_int(0, 2)), static_cast<ModSeq>(rows->get_int(0, 1))};
  notifier_->changed(account, mailbox, out.step.modseq);
  co_return out;
}

awaitable<Result<MailboxChanges>> PgMailboxStore::changes_since(AccountId account,
                                                                MailboxId mailbox, ModSeq since) {
  auto rows = co_await run(*pool_, sql::kChangesSince,
                           Params().num(account).num(mailbox).num(static_cast<std::int64_t>(since)),
                           "changes since");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  MailboxChanges out;
  for (int i = 0; i < rows->size(); ++i) {
    switch (rows->get_int(i, 0)) {
      case 0:
        out.highestmodseq = static_cast<ModSeq>(rows->get_int(i, 1));
        break;
      case 1:
        out.changed.push_back(detail::parse_entry(*rows, i, 1));
        break;
      case 3:
        out.expunged_unknown = true;
        break;
      default:
        out.expunged.push_back(static_cast<Uid>(rows->get_int(i, 1)));
        break;
    }
  }
  co_return out;
}

awaitable<Result<std::vector<ChangeRecord>>> PgMailboxStore::account_changes_since(
    AccountId account, ModSeq since, std::size_t max_records) {
  auto max = static_cast<std::int64_t>(std::clamp<std::size_t>(max_records, 1, 1u << 30));
  auto rows = co_await run(*pool_, sql::kAccountChanges,
                           Params().num(account).num(static_cast<std::int64_t>(since)).num(max),
                           "account changes");
  if (!rows) co_return unexpected(rows.error());
  std::vector<ChangeRecord> out;
  // The log was pruned past `since` (database.change_log_keep): the client must start over.
  if (rows->size() > 0 && rows->get_int(0, 0) < 0) co_return unexpected(StoreError::conflict);
  for (int i = 0; i < rows->size(); ++i) {
    ChangeRecord c;
    c.modseq = static_cast<ModSeq>(rows->get_int(i, 0));
    c.kind = static_cast<ChangeRecord::Kind>(rows->get_int(i, 1));
    c.mailbox_id = rows->get_int(i, 2);
    c.uid = static_cast<Uid>(rows->get_int(i, 3));
    c.message_id = rows->get_int(i, 4);
    out.push_back(c);
  }
  co_return out;
}

awaitable<Result<Quota>> PgMailboxStore::quota(AccountId account) {
  auto rows = co_await run(*pool_, sql::kQuota, Params().num(account), "quota");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  Quota q;
  q.limit_bytes = static_cast<std::uint64_t>(rows->get_int(0, 0));
  q.used_bytes = static_cast<std::uint64_t>(rows->get_int(0, 1));
  q.used_messages = static_cast<std::uint64_t>(rows->get_int(0, 2));
  co_return q;
}

}  // namespace govmail::store
