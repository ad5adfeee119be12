// GET archive?sender=&recipient=&subject=&since=YYYY-MM-DD&until=YYYY-MM-DD&limit=N: the auditors'
// search of the mail kept in the mailboxes, by metadata (sender, the account holding the message,
// subject, date), never the body. govmail has no separate archive: the mailboxes are the record.
// Province admins and auditors; every search is audited with its query.
#include "api.hpp"
#include "core/asio.hpp"

namespace govmail::admin::api {
namespace {

bool is_date(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  int month = std::stoi(s.substr(5, 2)), day = std::stoi(s.substr(8, 2));
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

// A bounded text parameter: nullopt when absent or empty.
std::optional<std::string> text_param(const Call& c, std::string_view key) {
  auto v = c.query(key);
  if (!v || v->empty()) return std::nullopt;
  return v->substr(0, 256);
}

}  // namespace

awaitable<HttpResponse> archive_search(Call& c) {
  store::ArchiveQuery q;
  q.sender = text_param(c, "sender");
  q.recipient = text_param(c, "recipient");
  q.subject = text_param(c, "subject");
  q.since = text_param(c, "since");
  q.until = text_param(c, "until");
  if ((q.since && !is_date(*q.since)) || (q.until && !is_date(*q.until)))
    co_return fail(400, "since and until are dates: YYYY-MM-DD");
  if (auto limit = c.query("limit")) {
    if (limit->empty() || limit->size() > 4 ||
        limit->find_first_not_of("0123456789") != std::string::npos)
      co_return fail(400, "limit: a whole number up to 1000");
    q.limit = std::min<std::size_t>(std::stoul(*limit), 1000);
  }
  // The audit entry says what was searched (the dispatcher writes it).
  c.target = q.recipient.value_or("*");
  c.detail = "sender=" + q.sender.value_or("") + " subject=" + q.subject.value_or("") +
             " since=" + q.since.value_or("") + " until=" + q.until.value_or("");
  auto r = co_await c.admin().search_archive(q);
  if (!r) co_return store_fail(r.error(), "archive search");
  json out = json::array();
  for (const auto& m : *r)
    out.push_back({{"account", m.account},
                   {"mailbox", m.mailbox},
                   {"uid", m.uid},
                   {"date", m.internal_date},
                   {"from", m.from},
                   {"subject", m.subject},
                   {"message_id", m.message_id},
                   {"size", m.size}});
  c.detail += " -> " + std::to_string(r->size()) + " messages";
  co_return ok(out);
}

}  // namespace govmail::admin::api
