#include "services.hpp"

#include "webmail/http_server.hpp"

namespace govmail::app {
namespace {

Result<void, std::string> add_http(core::Server& server, const Services& s) {
  if (s.cfg.listen.http.empty()) return {};
  auto http = std::make_shared<webmail::HttpServer>();
  http->set_health_check([db = s.db]() -> awaitable<webmail::HealthReport> {
    webmail::HealthReport report;
    auto v = co_await db->schema_version();
    report.ok = v.ok();
    report.checks.emplace_back("database", v ? "ok" : std::string(store::to_string(v.error())));
    co_return report;
  });
  core::ServiceOptions opts;
  opts.name = "http";
  opts.listen = s.cfg.listen.http;
  opts.handler = [http](core::Stream& stream) { return http->serve(stream); };
  return server.add_service(std::move(opts));
}

}  // namespace

Result<void, std::string> add_services(core::Server& server, const Services& services) {
  // SMTP (smtp, submission, submissions) and IMAP (imap, imaps) register here when their
  // front ends land; their ports are configured already.
  using Adder = Result<void, std::string> (*)(core::Server&, const Services&);
  for (Adder add : {add_http})
    if (auto r = add(server, services); !r) return r;
  return {};
}

}  // namespace govmail::app
