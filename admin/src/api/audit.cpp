// GET audit?target=T&action=PREFIX&limit=N: the audit log, newest first (province, auditor).
#include "api.hpp"
#include "core/asio.hpp"

namespace govmail::admin::api {

awaitable<HttpResponse> audit_list(Call& c) {
  store::AuditQuery q{c.query("target"), c.query("action"), 1000};
  if (auto limit = c.query("limit")) {
    if (limit->empty() || limit->size() > 6 ||
        limit->find_first_not_of("0123456789") != std::string::npos)
      co_return fail(400, "limit: a whole number up to 999999");
    q.limit = std::stoul(*limit);
  }
  auto r = co_await c.admin().audit_log(q);
  if (!r) co_return store_fail(r.error(), "audit log");
  json out = json::array();
  for (const auto& e : *r)
    out.push_back({{"id", e.id},
                   {"at", e.at},
                   {"actor", e.actor},
                   {"source", e.source},
                   {"action", e.action},
                   {"target", e.target},
                   {"detail", e.detail},
                   {"ok", e.ok}});
  co_return ok(out);
}

}  // namespace govmail::admin::api
