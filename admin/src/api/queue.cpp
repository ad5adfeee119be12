// The outbound queue for the IT staff on call (province admins only: a queue entry shows any
// official's correspondents): GET queue (depth, oldest age, entries), GET queue/:id,
// POST queue/:id/retry, DELETE queue/:id. The same operations as `govmail queue`.
#include "api.hpp"
#include "core/asio.hpp"
#include "store/admin_audited.hpp"
#include "store/outbound.hpp"

namespace govmail::admin::api {
namespace {

json entry_json(const store::QueueEntryView& e) {
  json rcpts = json::array();
  for (const auto& r : e.recipients)
    rcpts.push_back({{"address", r.address},
                     {"status", std::string(store::to_string(r.status))},
                     {"in_delivery", r.in_delivery},
                     {"attempts", r.attempts},
                     {"next_attempt", r.next_attempt},
                     {"host", r.host},
                     {"reply", r.reply},
                     {"report_owed", r.report}});
  json j = {{"id", e.id},     {"from", e.envelope_from}, {"queued_at", e.created_at},
            {"size", e.size}, {"subject", e.subject},    {"recipients", rcpts}};
  j["finished_at"] = e.finished_at ? json(*e.finished_at) : json(nullptr);
  return j;
}

std::optional<std::int64_t> id_param(const Call& c) {
  const std::string& s = c.params.at(0);
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoll(s);
}

}  // namespace

awaitable<HttpResponse> queue_list(Call& c) {
  const bool all = c.query("all").value_or("") == "1";
  auto stats = co_await c.s.db->outbound().stats();
  if (!stats) co_return store_fail(stats.error(), "queue");
  auto entries = co_await c.s.db->outbound().list(all, 1000);
  if (!entries) co_return store_fail(entries.error(), "queue");
  json list = json::array();
  for (const auto& e : *entries) list.push_back(entry_json(e));
  co_return ok({{"pending_recipients", stats->pending_recipients},
                {"pending_messages", stats->pending_messages},
                {"oldest_age_seconds", stats->oldest_age_seconds},
                {"reports_owed", stats->reports_owed},
                {"entries", list}});
}

awaitable<HttpResponse> queue_show(Call& c) {
  auto id = id_param(c);
  if (!id) co_return fail(404, "queue entry not found");
  auto e = co_await c.s.db->outbound().show(*id);
  if (!e) co_return store_fail(e.error(), "queue entry");
  co_return ok(entry_json(*e));
}

awaitable<HttpResponse> queue_retry(Call& c) {
  auto id = id_param(c);
  c.target = "queue:" + c.params.at(0);
  if (!id) co_return fail(404, "queue entry not found");
  auto e = co_await c.s.db->outbound().show(*id);
  if (!e) co_return store_fail(e.error(), "queue entry");
  c.detail = "from <" + e->envelope_from + ">: pending recipients due now";
  auto n = co_await store::audited::queue_retry(*c.s.db, *id, c.entry());
  if (!n) co_return store_fail(n.error(), "queue entry");
  c.audit_written = true;
  co_return ok({{"id", *id}, {"due_now", *n}});
}

awaitable<HttpResponse> queue_delete(Call& c) {
  auto id = id_param(c);
  c.target = "queue:" + c.params.at(0);
  if (!id) co_return fail(404, "queue entry not found");
  if (auto e = co_await c.s.db->outbound().show(*id); e)
    c.detail = "from <" + e->envelope_from + ">";
  auto r = co_await store::audited::queue_delete(*c.s.db, *id, c.entry());
  if (!r) co_return store_fail(r.error(), "queue entry");
  c.audit_written = true;
  co_return ok({{"id", *id}, {"deleted", true}});
}

}  // namespace govmail::admin::api
