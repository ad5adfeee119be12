#include "mail_store_pg.hpp"

#include <algorithm>

#include "core/asio.hpp"
#include "query.hpp"
#include "sql/mail_sql.hpp"

namespace govmail::store {

using detail::Params;
using detail::run;

namespace {

// --- Email/query SQL, assembled from fixed fragments; every value is a parameter.

class QueryBuilder {
 public:
  std::string param(std::string v) {
    params_.push_back(std::move(v));
    return "$" + std::to_string(params_.size() + 1);
  }
  std::vector<std::string> take_params() { return std::move(params_); }

  std::string where(const EmailFilter& f) {
    switch (f.op) {
      case EmailFilter::Op::all_of:
        return join(f.children, " AND ", "TRUE");
      case EmailFilter::Op::any_of:
        return join(f.children, " OR ", "FALSE");
      case EmailFilter::Op::none_of:
        return "NOT (" + join(f.children, " OR ", "FALSE") + ")";
      case EmailFilter::Op::condition:
        break;
    }
    return condition(f);
  }

 private:
  std::string join(const std::vector<EmailFilter>& children, const char* op, const char* empty) {
    if (children.empty()) return empty;
    std::string s;
    for (const auto& c : children) {
      if (!s.empty()) s += op;
      s += "(" + where(c) + ")";
    }
    return s;
  }

  // A keyword test on the mailbox entry aliased `e`: IMAP system flags are JMAP's $seen,
  // $answered, $flagged, $draft ($deleted for \Deleted); other keywords compare lower-case.
  std::string keyword_on(const std::string& alias, const std::string& kw) {
    static const std::pair<const char*, int> kSystem[] = {
        {"$seen", 1}, {"$answered", 2}, {"$flagged", 4}, {"$deleted", 8}, {"$draft", 16}};
    for (auto [name, bit] : kSystem)
      if (kw == name) return "(" + alias + ".flags & " + std::to_string(bit) + " <> 0)";
    return "EXISTS (SELECT 1 FROM unnest(" + alias + ".keywords) k WHERE lower(k) = " + param(kw) +
           ")";
  }
  std::string has_keyword(const std::string& kw) {
    return "EXISTS (SELECT 1 FROM mailbox_entries i WHERE i.account_id = $1 AND "
           "i.message_id = x.message_id AND " +
           keyword_on("i", kw) + ")";
  }
  // Over the messages of x's thread: EXISTS (some) or NOT EXISTS (none) with `want`.
  std::string thread_keyword(const std::string& kw, bool exists, bool want) {
    return std::string(exists ? "" : "NOT ") +
           "EXISTS (SELECT 1 FROM mailbox_entries t WHERE t.account_id = $1 AND "
           "t.thread_id = x.thread_id AND " +
           (want ? "" : "NOT ") + keyword_on("t", kw) + ")";
  }
  std::string like(const std::string& v) {
    std::string esc;
    for (char c : v) {
      if (c == '%' || c == '_' || c == '\\') esc += '\\';
      esc += c;
    }
    return param("%" + esc + "%");
  }
  std::string address_field(const char* field, const std::string& v) {
    return "(m.envelope->'" + std::string(field) + "')::text ILIKE " + like(v);
  }
  std::string body(const std::string& v) {
    // Seam: search/ (Xapian, Vietnamese folding) replaces this once it lands.
    return "EXISTS (SELECT 1 FROM index_queue q WHERE q.message_id = x.message_id AND "
           "q.search_text ILIKE " +
           like(v) + ")";
  }
  static std::string regex_escape(const std::string& v) {
    std::string out;
    for (char c : v) {
      if (std::string_view("\\.^$|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
      out += c;
    }
    return out;
  }
  std::string header(const std::string& name, const std::optional<std::string>& value) {
    std::string re = "(^|\\n)" + regex_escape(name) + "[ \\t]*:";
    if (value) re += "[^\\n]*" + regex_escape(*value);
    return "EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = m.blob_sha256 AND "
           "encode(substring(b.data FROM 1 FOR (m.bodystructure->>'body_offset')::int), "
           "'escape') ~* " +
           param(re) + ")";
  }

  std::string condition(const EmailFilter& f) {
    std::vector<std::string> c;
    if (f.in_mailbox)
      c.push_back(
          "EXISTS (SELECT 1 FROM mailbox_entries i WHERE i.account_id = $1 AND "
          "i.message_id = x.message_id AND i.mailbox_id = " +
          param(std::to_string(*f.in_mailbox)) + "::bigint)");
    if (!f.in_mailbox_other_than.empty()) {
      std::string arr = "{";
      for (auto id : f.in_mailbox_other_than)
        arr += (arr.size() > 1 ? "," : "") + std::to_string(id);
      c.push_back(
          "EXISTS (SELECT 1 FROM mailbox_entries i WHERE i.account_id = $1 AND "
          "i.message_id = x.message_id AND i.mailbox_id <> ALL (" +
          param(arr + "}") + "::bigint[]))");
    }
    if (f.before)
      c.push_back("m.internal_date < to_timestamp(" + param(std::to_string(*f.before)) +
                  "::bigint)");
    if (f.after)
      c.push_back("m.internal_date >= to_timestamp(" + param(std::to_string(*f.after)) +
                  "::bigint)");
    if (f.min_size) c.push_back("m.size >= " + param(std::to_string(*f.min_size)) + "::bigint");
    if (f.max_size) c.push_back("m.size < " + param(std::to_string(*f.max_size)) + "::bigint");
    if (f.has_keyword) c.push_back(has_keyword(*f.has_keyword));
    if (f.not_keyword) c.push_back("NOT " + has_keyword(*f.not_keyword));
    if (f.all_in_thread_have_keyword)
      c.push_back(thread_keyword(*f.all_in_thread_have_keyword, false, false));
    if (f.some_in_thread_have_keyword)
      c.push_back(thread_keyword(*f.some_in_thread_have_keyword, true, true));
    if (f.none_in_thread_have_keyword)
      c.push_back(thread_keyword(*f.none_in_thread_have_keyword, false, true));
    if (f.has_attachment)
      c.push_back(std::string(*f.has_attachment ? "" : "NOT ") +
                  "jsonb_path_exists(m.bodystructure, "
                  "'lax $.** ? (@.filename.type() == \"string\" || "
                  "@.disposition.type == \"attachment\")')");
    if (f.from) c.push_back(address_field("from", *f.from));
    if (f.to) c.push_back(address_field("to", *f.to));
    if (f.cc) c.push_back(address_field("cc", *f.cc));
    if (f.bcc) c.push_back(address_field("bcc", *f.bcc));
    if (f.subject) c.push_back("m.subject ILIKE " + like(*f.subject));
    if (f.body) c.push_back(body(*f.body));
    if (f.text) {
      const auto& t = *f.text;
      c.push_back("(" + address_field("from", t) + " OR " + address_field("to", t) + " OR " +
                  address_field("cc", t) + " OR " + address_field("bcc", t) +
                  " OR m.subject ILIKE " + like(t) + " OR " + body(t) + ")");
    }
    if (f.header_name) c.push_back(header(*f.header_name, f.header_value));
    if (f.message_ids) {
      std::string arr = "{";
      for (auto id : *f.message_ids) arr += (arr.size() > 1 ? "," : "") + std::to_string(id);
      c.push_back("x.message_id = ANY (" + param(arr + "}") + "::bigint[])");
    }
    if (c.empty()) return "TRUE";
    std::string s;
    for (const auto& one : c) s += (s.empty() ? "" : " AND ") + one;
    return s;
  }

  std::vector<std::string> params_;
};

std::string sort_expression(EmailSort k) {
  switch (k) {
    case EmailSort::size:
      return "m.size";
    case EmailSort::from:
      return "lower(coalesce(m.envelope #>> '{from,0,name_decoded}', m.from_address))";
    case EmailSort::to:
      return "lower(coalesce(m.envelope #>> '{to,0,name_decoded}', "
             "(m.envelope #>> '{to,0,mailbox}') || '@' || (m.envelope #>> '{to,0,host}'), ''))";
    case EmailSort::subject:
      return "lower(m.subject)";
    case EmailSort::sent_at:
      return "coalesce((m.envelope #>> '{date,unix}')::bigint, "
             "extract(epoch FROM m.internal_date)::bigint)";
    case EmailSort::received_at:
      break;
  }
  return "m.internal_date";
}

std::string order_by(const std::vector<EmailSortKey>& sort) {
  std::string s;
  for (const auto& k : sort) s += sort_expression(k.key) + (k.ascending ? " ASC, " : " DESC, ");
  if (sort.empty()) s = "m.internal_date DESC, ";
  return s + "x.message_id DESC";
}

EmailRecord::Entry parse_record_entry(const pg::Rows& r, int i) {
  EmailRecord::Entry e;
  e.mailbox_id = r.get_int(i, 4);
  e.uid = static_cast<Uid>(r.get_int(i, 5));
  e.flags.system = static_cast<std::uint16_t>(r.get_int(i, 6));
  e.flags.keywords = detail::parse_text_array(r.get(i, 7));
  return e;
}

std::vector<EmailQueryRow> query_rows(const pg::Rows& r) {
  std::vector<EmailQueryRow> out;
  out.reserve(static_cast<std::size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.push_back({r.get_int(i, 0), r.get_int(i, 1)});
  return out;
}

std::optional<std::string> opt_text(const pg::Rows& r, int i, int c) {
  if (r.is_null(i, c)) return std::nullopt;
  return std::string(r.get(i, c));
}

// name, replyTo, bcc, text and HTML signature: the parameters identity statements share.
void add_identity_fields(Params& p, const IdentitySettings& s) {
  for (const auto* t : {&s.name, &s.reply_to_json, &s.bcc_json}) {
    if (*t)
      p.text(**t);
    else
      p.null();
  }
  p.text(s.text_signature).text(s.html_signature);
}

VacationResponse parse_vacation(const pg::Rows& r, int i) {
  VacationResponse v;
  v.is_enabled = r.get_bool(i, 0);
  if (!r.is_null(i, 1)) v.from_date = r.get_int(i, 1);
  if (!r.is_null(i, 2)) v.to_date = r.get_int(i, 2);
  v.subject = opt_text(r, i, 3);
  v.text_body = opt_text(r, i, 4);
  v.html_body = opt_text(r, i, 5);
  v.period = r.get_int(i, 6);
  return v;
}

EmailSubmissionRecord parse_submission(const pg::Rows& r, int i) {
  EmailSubmissionRecord s;
  s.id = r.get_int(i, 0);
  s.email_id = r.get_int(i, 1);
  s.thread_id = r.get_int(i, 2);
  s.identity_id = std::string(r.get(i, 3));
  s.envelope_json = std::string(r.get(i, 4));
  s.send_at = r.get_int(i, 5);
  return s;
}

}  // namespace

namespace {

// The mailbox every match must be in, when the filter says so at its top: the query then reads
// that mailbox's entries (its primary key) instead of all of the account's.
std::optional<MailboxId> required_mailbox(const EmailFilter& f) {
  if (f.op == EmailFilter::Op::condition) return f.in_mailbox;
  if (f.op != EmailFilter::Op::all_of) return std::nullopt;
  for (const auto& c : f.children)
    if (auto m = required_mailbox(c)) return m;
  return std::nullopt;
}

// A filter that is just "inMailbox": the webmail's message list. Every other field must be
// checked here, or the fast path below would ignore it (hence the size check: a new field makes
// the build fail until it is added).
bool only_in_mailbox(const EmailFilter& f) {
  static_assert(sizeof(EmailFilter) == 736, "a new EmailFilter field: check it here");
  return f.op == EmailFilter::Op::condition && f.in_mailbox && f.children.empty() &&
         f.in_mailbox_other_than.empty() && !f.before && !f.after && !f.min_size && !f.max_size &&
         !f.has_keyword && !f.not_keyword && !f.all_in_thread_have_keyword &&
         !f.some_in_thread_have_keyword && !f.none_in_thread_have_keyword && !f.has_attachment &&
         !f.text && !f.from && !f.to && !f.cc && !f.bcc && !f.subject && !f.body &&
         !f.header_name && !f.header_value && !f.message_ids;
}

bool newest_first(const std::vector<EmailSortKey>& sort) {
  return sort.empty() ||
         (sort.size() == 1 && sort[0].key == EmailSort::received_at && !sort[0].ascending);
}

// One mailbox, newest first, one page: read in the order of the mailbox_entries_received index
// (migration 0025), so the page costs its own rows rather than a sort of the whole mailbox. The
// order (received date, then message id, both descending) and the one row per message are those
// of the general query. The third column is the mailbox's HIGHESTMODSEQ, read in the same
// snapshot: the total (the mailbox's distinct messages) comes from mailbox_total.
EmailQuerySql newest_page_sql(MailboxId mailbox, std::int64_t offset, std::int64_t limit) {
  EmailQuerySql q;
  q.prepared = &sql::kNewestPage;
  q.sql = sql::kNewestPage.sql;
  q.params = {std::to_string(mailbox), std::to_string(limit), std::to_string(offset)};
  q.whole_mailbox = mailbox;
  return q;
}

}  // namespace

EmailQuerySql email_query_sql(const EmailFilter& filter, const std::vector<EmailSortKey>& sort,
                              bool collapse_threads,
                              std::optional<std::pair<std::int64_t, std::int64_t>> page) {
  if (page && !collapse_threads && only_in_mailbox(filter) && newest_first(sort))
    return newest_page_sql(*filter.in_mailbox, page->first, page->second);
  QueryBuilder b;
  const std::string where = b.where(filter);
  const std::string order = order_by(sort);
  std::string narrow;
  if (auto m = required_mailbox(filter))
    narrow = " AND e.mailbox_id = " + b.param(std::to_string(*m)) + "::bigint";
  // x: one row per message of the account (a message in several mailboxes is one Email).
  std::string base =
      "FROM (SELECT e.message_id, min(e.thread_id) AS thread_id FROM mailbox_entries e "
      "WHERE e.account_id = $1" +
      narrow + " GROUP BY e.message_id) x JOIN messages m ON m.id = x.message_id WHERE " + where;
  EmailQuerySql q;
  if (collapse_threads) {
    q.sql =
        "SELECT message_id, thread_id FROM (SELECT x.message_id, x.thread_id, "
        "row_number() OVER (PARTITION BY x.thread_id ORDER BY " +
        order + ") AS rn, row_number() OVER (ORDER BY " + order + ") AS pos " + base +
        ") y WHERE rn = 1 ORDER BY pos";
  } else if (page) {
    const std::string offset = b.param(std::to_string(page->first));
    const std::string limit = b.param(std::to_string(page->second));
    q.sql =
        "SELECT x.message_id, x.thread_id, count(*) OVER (), "
        "(SELECT a.modseq FROM accounts a WHERE a.id = $1) " +
        base + " ORDER BY " + order + " LIMIT " + limit + "::bigint OFFSET " + offset + "::bigint";
  } else {
    q.sql = "SELECT x.message_id, x.thread_id " + base + " ORDER BY " + order;
  }
  q.params = b.take_params();
  return q;
}

awaitable<Result<ModSeq>> PgMailStore::state(AccountId account) {
  auto rows = co_await run(*pool_, sql::kAccountState, Params().num(account), "mail state");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  co_return static_cast<ModSeq>(rows->get_int(0, 0));
}

awaitable<Result<std::vector<EmailRecord>>> PgMailStore::emails(AccountId account,
                                                                std::vector<MessageId> ids,
                                                                Meta meta) {
  std::vector<EmailRecord> out;
  if (ids.empty()) co_return out;
  auto rows =
      co_await run(*pool_, sql::kEmails,
                   Params().num(account).num_array(ids).num(static_cast<int>(meta)), "emails");
  if (!rows) co_return unexpected(rows.error());
  for (int i = 0; i < rows->size(); ++i) {
    const MessageId id = rows->get_int(i, 0);
    if (out.empty() || out.back().id != id) {
      EmailRecord r;
      r.id = id;
      r.thread_id = rows->get_int(i, 1);
      r.size = static_cast<std::uint64_t>(rows->get_int(i, 2));
      r.received_at = rows->get_int(i, 3);
      r.blob_sha256 = std::string(rows->get(i, 10));
      r.account_modseq = static_cast<ModSeq>(rows->get_int(i, 12));
      if (meta == Meta::all) {
        r.envelope_json = std::string(rows->get(i, 8));
        r.bodystructure_json = std::string(rows->get(i, 9));
      }
      if (meta != Meta::none && !rows->is_null(i, 11)) r.preview = std::string(rows->get(i, 11));
      out.push_back(std::move(r));
    }
    out.back().entries.push_back(parse_record_entry(*rows, i));
  }
  co_return out;
}

awaitable<Result<void>> PgMailStore::set_previews(AccountId account, std::vector<MessageId> ids,
                                                  std::vector<std::string> previews) {
  if (ids.empty()) co_return Result<void>{};
  auto rows =
      co_await run(*pool_, sql::kSetPreviews,
                   Params().num(account).num_array(ids).text_array(previews), "set previews");
  if (!rows) co_return unexpected(rows.error());
  co_return Result<void>{};
}

namespace {

// Not a coroutine: it hands over the one the statement's kind takes (no co_await inside ?:, which
// GCC 12 miscompiles).
awaitable<pg::PgResultOr<pg::Rows>> exec_query(pg::Connection& c, const EmailQuerySql& q,
                                               std::span<const pg::Param> params) {
  if (q.prepared) return c.exec(*q.prepared, params);
  return c.exec(std::string_view(q.sql), params);
}

// Runs a built Email/query; serialisation failures (a concurrent writer) are retried.
awaitable<Result<pg::Rows>> run_email_query(pg::Pool& pool, AccountId account,
                                            const EmailQuerySql& q) {
  Params params;
  params.num(account);
  for (const auto& p : q.params) params.view(p);
  constexpr int kAttempts = 3;
  pg::PgError last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto lease = co_await pool.acquire();
    if (!lease) co_return unexpected(detail::map_error(lease.error(), "email query"));
    auto rows = co_await exec_query(**lease, q, params.span());
    if (rows) co_return std::move(*rows);
    last = rows.error();
    if (last.sqlstate != "40001" && last.sqlstate != "40P01") break;
  }
  co_return unexpected(detail::map_error(last, "email query"));
}

}  // namespace

awaitable<Result<std::vector<EmailQueryRow>>> PgMailStore::query_emails(
    AccountId account, EmailFilter filter, std::vector<EmailSortKey> sort, bool collapse_threads) {
  auto rows =
      co_await run_email_query(*pool_, account, email_query_sql(filter, sort, collapse_threads));
  if (!rows) co_return unexpected(rows.error());
  co_return query_rows(*rows);
}

awaitable<Result<EmailQueryPage>> PgMailStore::query_email_page(AccountId account,
                                                                EmailFilter filter,
                                                                std::vector<EmailSortKey> sort,
                                                                std::int64_t offset,
                                                                std::int64_t limit) {
  const auto q = email_query_sql(filter, sort, false, std::make_pair(offset, limit));
  auto rows = co_await run_email_query(*pool_, account, q);
  if (!rows) co_return unexpected(rows.error());
  EmailQueryPage page;
  page.rows = query_rows(*rows);
  if (rows->size() > 0) page.account_modseq = static_cast<ModSeq>(rows->get_int(0, 3));
  if (q.whole_mailbox) {
    std::optional<ModSeq> seen;
    if (rows->size() > 0) seen = static_cast<ModSeq>(rows->get_int(0, 2));
    auto total = co_await mailbox_total(account, *q.whole_mailbox, seen);
    if (!total) co_return unexpected(total.error());
    page.total = *total;
  } else if (rows->size() > 0) {
    page.total = rows->get_int(0, 2);
  } else if (offset > 0) {
    // Past the end: the count comes from a page at the start.
    auto first = co_await run_email_query(
        *pool_, account, email_query_sql(filter, sort, false, std::make_pair(0, 1)));
    if (!first) co_return unexpected(first.error());
    if (first->size() > 0) page.total = first->get_int(0, 2);
  }
  co_return page;
}

awaitable<Result<std::int64_t>> PgMailStore::mailbox_total(AccountId account, MailboxId mailbox,
                                                           std::optional<ModSeq> seen) {
  if (seen) {
    std::lock_guard lock(totals_mutex_);
    if (auto it = totals_.find(mailbox); it != totals_.end() && it->second.modseq == *seen)
      co_return it->second.total;
  }
  auto rows =
      co_await run(*pool_, sql::kMailboxTotal, Params().num(account).num(mailbox), "mailbox total");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return 0;  // no such mailbox (any more)
  const CountedTotal counted{static_cast<ModSeq>(rows->get_int(0, 0)), rows->get_int(0, 1)};
  std::lock_guard lock(totals_mutex_);
  if (totals_.size() >= 100000) totals_.clear();  // a few MB at most
  totals_[mailbox] = counted;
  co_return counted.total;
}

awaitable<Result<std::vector<EmailQueryRow>>> PgMailStore::thread_emails(
    AccountId account, std::vector<std::int64_t> thread_ids) {
  auto rows = co_await run(*pool_, sql::kThreadEmails, Params().num(account).num_array(thread_ids),
                           "thread emails");
  if (!rows) co_return unexpected(rows.error());
  co_return query_rows(*rows);
}

awaitable<Result<std::vector<EmailQueryRow>>> PgMailStore::threads_of(AccountId account,
                                                                      std::vector<MessageId> ids) {
  auto rows =
      co_await run(*pool_, sql::kThreadsOf, Params().num(account).num_array(ids), "threads of");
  if (!rows) co_return unexpected(rows.error());
  co_return query_rows(*rows);
}

awaitable<Result<std::vector<ThreadCounts>>> PgMailStore::thread_counts(AccountId account) {
  auto rows = co_await run(*pool_, sql::kThreadCounts, Params().num(account), "thread counts");
  if (!rows) co_return unexpected(rows.error());
  std::vector<ThreadCounts> out;
  for (int i = 0; i < rows->size(); ++i)
    out.push_back({rows->get_int(i, 0), static_cast<std::uint32_t>(rows->get_int(i, 1)),
                   static_cast<std::uint32_t>(rows->get_int(i, 2))});
  co_return out;
}

awaitable<Result<std::vector<MessageId>>> PgMailStore::added_before(AccountId account, ModSeq since,
                                                                    std::vector<MessageId> ids) {
  std::vector<MessageId> out;
  if (ids.empty()) co_return out;
  auto rows = co_await run(
      *pool_, sql::kAddedBefore,
      Params().num(account).num(static_cast<std::int64_t>(since)).num_array(ids), "added before");
  if (!rows) co_return unexpected(rows.error());
  for (int i = 0; i < rows->size(); ++i) out.push_back(rows->get_int(i, 0));
  co_return out;
}

awaitable<Result<VacationResponse>> PgMailStore::vacation(AccountId account) {
  auto rows = co_await run(*pool_, sql::kVacation, Params().num(account), "vacation");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return VacationResponse{};
  co_return parse_vacation(*rows, 0);
}

awaitable<Result<void>> PgMailStore::set_vacation(AccountId account, VacationResponse v) {
  Params p;
  p.num(account).boolean(v.is_enabled).opt_num(v.from_date).opt_num(v.to_date);
  for (const auto* t : {&v.subject, &v.text_body, &v.html_body}) {
    if (*t)
      p.text(**t);
    else
      p.null();
  }
  auto rows = co_await run(*pool_, sql::kSetVacation, p, "set vacation");
  if (!rows) co_return unexpected(rows.error());
  co_return Result<void>{};
}

awaitable<Result<IdentitySettings>> PgMailStore::identity(AccountId account) {
  auto rows = co_await run(*pool_, sql::kIdentity, Params().num(account), "identity");
  if (!rows) co_return unexpected(rows.error());
  IdentitySettings s;
  if (rows->size() == 0) co_return s;
  s.name = opt_text(*rows, 0, 0);
  s.reply_to_json = opt_text(*rows, 0, 1);
  s.bcc_json = opt_text(*rows, 0, 2);
  s.text_signature = std::string(rows->get(0, 3));
  s.html_signature = std::string(rows->get(0, 4));
  s.state = rows->get_int(0, 5);
  s.own_state = rows->get_int(0, 6);
  co_return s;
}

awaitable<Result<void>> PgMailStore::set_identity(AccountId account, IdentitySettings s) {
  Params p;
  p.num(account);
  add_identity_fields(p, s);
  auto rows = co_await run(*pool_, sql::kSetIdentity, p, "set identity");
  if (!rows) co_return unexpected(rows.error());
  co_return Result<void>{};
}

awaitable<Result<std::vector<ExtraIdentity>>> PgMailStore::extra_identities(AccountId account) {
  auto rows = co_await run(*pool_, sql::kExtraIdentities, Params().num(account), "identities");
  if (!rows) co_return unexpected(rows.error());
  std::vector<ExtraIdentity> out;
  for (int i = 0; i < rows->size(); ++i) {
    ExtraIdentity x;
    x.id = rows->get_int(i, 0);
    x.email = std::string(rows->get(i, 1));
    x.settings.name = std::string(rows->get(i, 2));
    x.settings.reply_to_json = opt_text(*rows, i, 3);
    x.settings.bcc_json = opt_text(*rows, i, 4);
    x.settings.text_signature = std::string(rows->get(i, 5));
    x.settings.html_signature = std::string(rows->get(i, 6));
    x.created_state = rows->get_int(i, 7);
    x.updated_state = rows->get_int(i, 8);
    if (!rows->is_null(i, 9)) x.destroyed_state = rows->get_int(i, 9);
    out.push_back(std::move(x));
  }
  co_return out;
}

awaitable<Result<std::int64_t>> PgMailStore::add_identity(AccountId account, std::string email,
                                                          IdentitySettings s) {
  Params p;
  p.num(account).text(std::move(email));
  s.name = s.name.value_or("");
  add_identity_fields(p, s);
  auto rows = co_await run(*pool_, sql::kAddIdentity, p, "add identity");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() != 1) co_return unexpected(StoreError::permanent);
  co_return rows->get_int(0, 0);
}

awaitable<Result<void>> PgMailStore::update_identity(AccountId account, std::int64_t id,
                                                     IdentitySettings s) {
  Params p;
  p.num(account).num(id);
  s.name = s.name.value_or("");
  add_identity_fields(p, s);
  auto rows = co_await run(*pool_, sql::kUpdateIdentity, p, "update identity");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  co_return Result<void>{};
}

awaitable<Result<void>> PgMailStore::destroy_identity(AccountId account, std::int64_t id) {
  auto rows = co_await run(*pool_, sql::kDestroyIdentity, Params().num(account).num(id),
                           "destroy identity");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  co_return Result<void>{};
}

awaitable<Result<std::optional<VacationResponse>>> PgMailStore::claim_vacation_reply(
    AccountId account, std::string sender, std::int64_t resend_after_seconds) {
  auto rows = co_await run(*pool_, sql::kClaimVacation,
                           Params().num(account).text(std::move(sender)).num(resend_after_seconds),
                           "claim vacation");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return std::optional<VacationResponse>();
  co_return std::optional<VacationResponse>(parse_vacation(*rows, 0));
}

awaitable<Result<EmailSubmissionRecord>> PgMailStore::add_submission(
    AccountId account, EmailSubmissionRecord rec, std::optional<std::int64_t> outbound_id) {
  auto rows = co_await run(*pool_, sql::kAddSubmission,
                           Params()
                               .num(account)
                               .num(rec.email_id)
                               .num(rec.thread_id)
                               .text(rec.identity_id)
                               .text(rec.envelope_json)
                               .opt_num(outbound_id),
                           "add submission");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  co_return parse_submission(*rows, 0);
}

awaitable<Result<std::vector<EmailSubmissionRecord>>> PgMailStore::submissions(
    AccountId account, std::vector<std::int64_t> ids) {
  auto rows =
      co_await run(*pool_, sql::kSubmissions, Params().num(account).num_array(ids), "submissions");
  if (!rows) co_return unexpected(rows.error());
  std::vector<EmailSubmissionRecord> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(parse_submission(*rows, i));
  co_return out;
}

}  // namespace govmail::store
