// Email/query, Email/queryChanges (RFC 8621 4.4, 4.5) and SearchSnippet/get (RFC 8621 5).
// Filters become one SQL query in the store (MailStore::query_emails); the text conditions are
// resolved first through search/ (mail/text_filter.hpp), folding Vietnamese as IMAP SEARCH does.
#include <algorithm>

#include "core/text.hpp"
#include "core/text_match.hpp"
#include "mail/text_filter.hpp"

#include "mail/changes.hpp"
#include "mail/common.hpp"
#include "mail/email.hpp"
#include "mail/register.hpp"
#include "store/database.hpp"
#include "store/mail_store.hpp"
#include "store/mailbox_store.hpp"

namespace govmail::webmail::mail {
namespace {

std::string keyword_arg(const Json& v) {
  if (!v.is_string() || !valid_keyword(v.get<std::string>()))
    throw MethodError{"invalidArguments", "Bad keyword in filter"};
  std::string k = v.get<std::string>();
  for (auto& c : k)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return k;
}

std::string text_arg(const Json& v) {
  if (!v.is_string()) throw MethodError{"invalidArguments", "Filter text must be a string"};
  return v.get<std::string>();
}

store::EmailFilter parse_filter(const Json& f, const RequestContext& ctx, int depth = 0) {
  if (depth > 16) throw MethodError{"unsupportedFilter", "Filter nested too deep"};
  if (!f.is_object()) throw MethodError{"invalidArguments", "filter must be an object"};
  store::EmailFilter out;
  if (f.contains("operator")) {
    const Json& op = f["operator"];
    if (op == "AND")
      out.op = store::EmailFilter::Op::all_of;
    else if (op == "OR")
      out.op = store::EmailFilter::Op::any_of;
    else if (op == "NOT")
      out.op = store::EmailFilter::Op::none_of;
    else
      throw MethodError{"unsupportedFilter", "Unknown filter operator"};
    if (!f.contains("conditions") || !f["conditions"].is_array())
      throw MethodError{"invalidArguments", "conditions must be an array"};
    for (const auto& c : f["conditions"]) out.children.push_back(parse_filter(c, ctx, depth + 1));
    return out;
  }
  for (const auto& [k, v] : f.items()) {
    auto mailbox = [&](const Json& id) {
      auto m = id.is_string() ? parse_id('M', resolve_creation(ctx, id.get<std::string>()))
                              : std::nullopt;
      // An unknown mailbox matches nothing (id 0 holds no entry).
      return m.value_or(0);
    };
    auto date = [&](const Json& d) {
      auto t = d.is_string() ? parse_utc_date(d.get<std::string>()) : std::nullopt;
      if (!t) throw MethodError{"invalidArguments", "Bad date in filter"};
      return *t;
    };
    if (k == "inMailbox") {
      out.in_mailbox = mailbox(v);
    } else if (k == "inMailboxOtherThan") {
      if (!v.is_array()) throw MethodError{"invalidArguments", "inMailboxOtherThan: array"};
      for (const auto& id : v) out.in_mailbox_other_than.push_back(mailbox(id));
    } else if (k == "before") {
      out.before = date(v);
    } else if (k == "after") {
      out.after = date(v);
    } else if (k == "minSize") {
      out.min_size = v.get<std::uint64_t>();
    } else if (k == "maxSize") {
      out.max_size = v.get<std::uint64_t>();
    } else if (k == "hasKeyword") {
      out.has_keyword = keyword_arg(v);
    } else if (k == "notKeyword") {
      out.not_keyword = keyword_arg(v);
    } else if (k == "allInThreadHaveKeyword") {
      out.all_in_thread_have_keyword = keyword_arg(v);
    } else if (k == "someInThreadHaveKeyword") {
      out.some_in_thread_have_keyword = keyword_arg(v);
    } else if (k == "noneInThreadHaveKeyword") {
      out.none_in_thread_have_keyword = keyword_arg(v);
    } else if (k == "hasAttachment") {
      out.has_attachment = v.get<bool>();
    } else if (k == "text") {
      out.text = text_arg(v);
    } else if (k == "from") {
      out.from = text_arg(v);
    } else if (k == "to") {
      out.to = text_arg(v);
    } else if (k == "cc") {
      out.cc = text_arg(v);
    } else if (k == "bcc") {
      out.bcc = text_arg(v);
    } else if (k == "subject") {
      out.subject = text_arg(v);
    } else if (k == "body") {
      out.body = text_arg(v);
    } else if (k == "header") {
      if (!v.is_array() || v.empty() || v.size() > 2 || !v[0].is_string())
        throw MethodError{"invalidArguments", "header: [name] or [name, value]"};
      out.header_name = v[0].get<std::string>();
      if (out.header_name->empty() ||
          out.header_name->find_first_of(": \t\r\n") != std::string::npos)
        throw MethodError{"invalidArguments", "Bad header name"};
      if (v.size() == 2) out.header_value = text_arg(v[1]);
    } else {
      throw MethodError{"unsupportedFilter", "Unsupported filter: " + k.substr(0, 60)};
    }
  }
  return out;
}

std::vector<store::EmailSortKey> parse_sort(const Json& sort) {
  std::vector<store::EmailSortKey> out;
  if (sort.is_null()) return out;
  if (!sort.is_array()) throw MethodError{"invalidArguments", "sort must be an array"};
  for (const auto& s : sort) {
    store::EmailSortKey k;
    const std::string p = s.value("property", "");
    if (p == "receivedAt")
      k.key = store::EmailSort::received_at;
    else if (p == "size")
      k.key = store::EmailSort::size;
    else if (p == "from")
      k.key = store::EmailSort::from;
    else if (p == "to")
      k.key = store::EmailSort::to;
    else if (p == "subject")
      k.key = store::EmailSort::subject;
    else if (p == "sentAt")
      k.key = store::EmailSort::sent_at;
    else
      throw MethodError{"unsupportedSort", "Sort by " + p.substr(0, 60) + " is not supported"};
    k.ascending = s.value("isAscending", true);
    out.push_back(k);
  }
  return out;
}

// Whether Email/queryChanges can answer for this query from the change log: every condition
// must depend only on the message itself (its mailboxes and keywords move it in the log), not
// on its thread or on the search index.
bool changes_calculable(const store::EmailFilter& f) {
  if (f.text || f.from || f.to || f.cc || f.bcc || f.subject || f.body || f.message_ids ||
      f.all_in_thread_have_keyword || f.some_in_thread_have_keyword ||
      f.none_in_thread_have_keyword)
    return false;
  return std::all_of(f.children.begin(), f.children.end(), changes_calculable);
}

// A filter, sort and collapseThreads as Email/query and Email/queryChanges read them.
struct EmailQueryArgs {
  store::EmailFilter filter;
  std::vector<store::EmailSortKey> sort;
  bool collapse = false;
  bool calculable = false;
};

EmailQueryArgs query_args(const Json& args, const RequestContext& ctx) {
  EmailQueryArgs q;
  const Json filter_json = args.value("filter", Json());
  if (!filter_json.is_null()) q.filter = parse_filter(filter_json, ctx);
  q.sort = parse_sort(args.value("sort", Json()));
  q.collapse = args.value("collapseThreads", false);
  q.calculable = !q.collapse && changes_calculable(q.filter);
  return q;
}

awaitable<Json> email_query(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  auto q = query_args(args, ctx);
  co_await resolve_text_conditions(q.filter, ctx);
  std::int64_t position = args.value("position", std::int64_t{0});
  std::size_t limit = kMaxQueryLimit;
  bool limited = false;
  if (auto l = uint_arg(args, "limit")) {
    limit = *l;
    if (limit > kMaxQueryLimit) {
      limit = kMaxQueryLimit;
      limited = true;
    }
  }
  const auto anchor = args.find("anchor");
  const bool anchored = anchor != args.end() && !anchor->is_null();
  const bool usual_page = !anchored && !q.collapse && position >= 0;
  // The state is never newer than the results (an older one is safe: queryChanges from it may
  // repeat a change, never miss one): read before them, or in the page's own snapshot.
  if (!usual_page) co_await state_for_read(ctx);
  std::int64_t start = 0, total = 0;
  Json ids = Json::array();
  if (usual_page) {
    // The usual page: PostgreSQL sorts for it alone.
    auto read_page = [&]() {
      return ctx.db->mail().query_email_page(ctx.account_id, q.filter, q.sort, position,
                                             static_cast<std::int64_t>(limit));
    };
    auto page = ok_or_throw(co_await read_page());
    if (!ctx.read_state && page.account_modseq) {
      ctx.read_state = state_string(*page.account_modseq);
    } else if (!ctx.read_state) {  // an empty page: the state, then the page again after it
      co_await state_for_read(ctx);
      page = ok_or_throw(co_await read_page());
    }
    start = position;
    total = page.total;
    for (const auto& r : page.rows) ids.push_back(id_string('E', r.id));
  } else {
    auto rows = ok_or_throw(
        co_await ctx.db->mail().query_emails(ctx.account_id, q.filter, q.sort, q.collapse));
    total = static_cast<std::int64_t>(rows.size());
    if (anchored) {
      const auto id =
          anchor->is_string() ? parse_id('E', anchor->get<std::string>()) : std::nullopt;
      auto it = std::find_if(rows.begin(), rows.end(),
                             [&](const store::EmailQueryRow& r) { return id && r.id == *id; });
      if (it == rows.end()) throw MethodError{"anchorNotFound", "The anchor is not in the results"};
      start = (it - rows.begin()) + args.value("anchorOffset", std::int64_t{0});
      if (start < 0) start = 0;
    } else {
      start = position < 0 ? std::max<std::int64_t>(0, total + position) : position;
    }
    for (std::int64_t i = start; i < total && ids.size() < limit; ++i)
      ids.push_back(id_string('E', rows[static_cast<std::size_t>(i)].id));
  }
  Json out{{"accountId", ctx.account_id_string},
           {"queryState", *ctx.read_state},
           {"canCalculateChanges", q.calculable},
           {"position", std::min(start, total)},
           {"ids", ids}};
  if (args.value("calculateTotal", false)) out["total"] = total;
  if (limited) out["limit"] = limit;
  co_return out;
}

// The change log moves an Email when it is added, expunged, or its flags or mailboxes change:
// enough for the queries changes_calculable lets through.
awaitable<Json> email_query_changes(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  const auto q = query_args(args, ctx);
  if (!q.calculable)
    throw MethodError{"cannotCalculateChanges",
                      "Changes of a text search or of threads are not kept: run Email/query again"};
  co_return co_await query_changes(
      args, ctx, 'E', email_change_key, [&]() -> awaitable<std::vector<std::int64_t>> {
        auto rows = ok_or_throw(
            co_await ctx.db->mail().query_emails(ctx.account_id, q.filter, q.sort, q.collapse));
        std::vector<std::int64_t> ids;
        for (const auto& r : rows) ids.push_back(r.id);
        co_return ids;
      });
}

// --- SearchSnippet/get

std::string escape_html(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

// Snippets scan at most this much of a text (the body text may be megabytes).
constexpr std::size_t kSnippetScan = 256 * 1024;

// A text folded code point by code point, with the byte of the original each folded byte came
// from: a match in the fold marks the original text.
struct FoldMap {
  std::string folded;
  std::vector<std::size_t> origin;  // folded byte -> original byte; one more entry: the end
};

std::size_t code_point_length(unsigned char c) {
  return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

FoldMap fold_map(std::string_view text, bool drop_marks) {
  FoldMap m;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n =
        std::min(code_point_length(static_cast<unsigned char>(text[i])), text.size() - i);
    const auto cp = text.substr(i, n);
    std::string f = drop_marks ? core::fold_vietnamese(cp) : core::fold_case(cp);
    m.folded += f;
    m.origin.insert(m.origin.end(), f.size(), i);
    i += n;
  }
  m.origin.push_back(text.size());
  return m;
}

// Marks the matches of `term` with <mark> (the matcher's rules: case-insensitive, and a term
// without marks also matches accented text) in a window of `window` bytes around the first;
// null when none.
Json mark(std::string_view text, const std::string& term, std::size_t window) {
  text = text.substr(0, kSnippetScan);
  const core::Needle needle(term);
  if (needle.folded.empty()) return Json();
  auto m = fold_map(text, false);
  auto first = m.folded.find(needle.folded);
  if (first == std::string::npos && needle.plain) {
    m = fold_map(text, true);
    first = m.folded.find(needle.folded);
  }
  if (first == std::string::npos) return Json();
  const std::size_t hit0 = m.origin[first];
  std::size_t from = hit0 > window / 2 ? hit0 - window / 2 : 0;
  while (from > 0 && (static_cast<unsigned char>(text[from]) & 0xC0) == 0x80) --from;
  std::size_t to = std::min(text.size(), from + window);
  while (to < text.size() && (static_cast<unsigned char>(text[to]) & 0xC0) == 0x80) ++to;
  std::string out;
  std::size_t p = from;
  for (auto hit = first; hit != std::string::npos;
       hit = m.folded.find(needle.folded, hit + needle.folded.size())) {
    const std::size_t begin = m.origin[hit], end = m.origin[hit + needle.folded.size()];
    if (begin < p) continue;
    if (end > to) break;
    out += escape_html(text.substr(p, begin - p)) + "<mark>" +
           escape_html(text.substr(begin, end - begin)) + "</mark>";
    p = end;
  }
  out += escape_html(text.substr(p, to - p));
  return out;
}

void collect_terms(const Json& f, std::vector<std::string>& subject,
                   std::vector<std::string>& body) {
  if (!f.is_object()) return;
  if (f.contains("conditions") && f["conditions"].is_array()) {
    if (f.value("operator", "") == "NOT") return;
    for (const auto& c : f["conditions"]) collect_terms(c, subject, body);
    return;
  }
  if (f.contains("text") && f["text"].is_string()) {
    subject.push_back(f["text"]);
    body.push_back(f["text"]);
  }
  if (f.contains("subject") && f["subject"].is_string()) subject.push_back(f["subject"]);
  if (f.contains("body") && f["body"].is_string()) body.push_back(f["body"]);
}

awaitable<Json> snippet_get(const Json& args, RequestContext& ctx) {
  check_account(args, ctx);
  auto ids_it = args.find("emailIds");
  if (ids_it == args.end() || !ids_it->is_array())
    throw MethodError{"invalidArguments", "emailIds is required"};
  if (ids_it->size() > max_objects_in_get(ctx))
    throw MethodError{"requestTooLarge", "Too many emailIds"};
  std::vector<std::string> subject_terms, body_terms;
  collect_terms(args.value("filter", Json()), subject_terms, body_terms);
  std::vector<store::MessageId> wanted;
  for (const auto& v : *ids_it)
    if (auto id = v.is_string() ? parse_id('E', v.get<std::string>()) : std::nullopt)
      wanted.push_back(*id);
  auto records = ok_or_throw(
      co_await ctx.db->mail().emails(ctx.account_id, wanted, store::MailStore::Meta::all));
  std::map<store::MessageId, std::string> bodies;
  if (!body_terms.empty()) bodies = co_await body_texts(wanted, ctx);
  Json list = Json::array(), not_found = Json::array();
  for (const auto& v : *ids_it) {
    const auto id = v.is_string() ? parse_id('E', v.get<std::string>()) : std::nullopt;
    auto it = std::find_if(records.begin(), records.end(),
                           [&](const store::EmailRecord& r) { return id && r.id == *id; });
    if (it == records.end()) {
      not_found.push_back(v);
      continue;
    }
    const Json env = Json::parse(it->envelope_json);
    const std::string subject = env.contains("subject") && env["subject"].is_object() &&
                                        env["subject"]["decoded"].is_string()
                                    ? env["subject"]["decoded"].get<std::string>()
                                    : "";
    Json s = Json();
    for (const auto& t : subject_terms)
      if (s.is_null()) s = mark(subject, t, 1000);
    Json p = Json();
    if (!body_terms.empty()) {
      const std::string& text = bodies[it->id];
      for (const auto& t : body_terms)
        if (p.is_null()) p = mark(text, t, 200);
    }
    list.push_back({{"emailId", v}, {"subject", s}, {"preview", p}});
  }
  co_return Json{{"accountId", ctx.account_id_string},
                 {"list", list},
                 {"notFound", not_found.empty() ? Json() : not_found}};
}

}  // namespace

void register_email_query_methods(jmap::MethodRegistry& r) {
  const std::string cap(jmap::kMailCapability);
  r.add("Email/query", cap, guarded(email_query));
  r.add("Email/queryChanges", cap, guarded(email_query_changes));
  r.add("SearchSnippet/get", cap, guarded(snippet_get));
}

}  // namespace govmail::webmail::mail
