#include "services.hpp"

#include "admin/api.hpp"
#include "core/http_server.hpp"
#include "imap/backend.hpp"
#include "imap/service.hpp"
#include "pop3/backend.hpp"
#include "pop3/service.hpp"
#include "smtp/backend.hpp"
#include "smtp/inbound_auth.hpp"
#include "smtp/service.hpp"
#include "webmail/files.hpp"
#include "webmail/jmap.hpp"

namespace govmail::app {
namespace {

// One HTTP server (health, admin API) on two listener sets: plaintext on loopback (listen.http;
// config loading refuses other addresses) and implicit TLS (listen.https).
Result<void, std::string> add_http(core::Server& server, const Services& s) {
  if (s.cfg.listen.http.empty() && s.cfg.listen.https.empty()) return {};
  auto http = std::make_shared<core::HttpServer>(core::http_limits(s.cfg));
  http->set_health_check([db = s.db]() -> awaitable<core::HealthReport> {
    core::HealthReport report;
    auto v = co_await db->schema_version();
    report.ok = v.ok();
    report.checks.emplace_back("database", v ? "ok" : std::string(store::to_string(v.error())));
    co_return report;
  });
  admin::register_admin_api(http->router(), {s.cfg, s.db, s.auth, s.search});  // /admin/api
  webmail::register_jmap(http->router(),
                         {s.cfg, s.db, s.auth, s.sessions,
                          s.cfg.search.use_index ? s.search : nullptr});  // JMAP, webmail
  webmail::register_webmail_files(http->router());                        // the webmail at /
  struct Spec {
    const char* name;
    const std::vector<std::string>& listen;
    core::TlsMode mode;
  };
  const Spec specs[] = {{"http", s.cfg.listen.http, core::TlsMode::none},
                        {"https", s.cfg.listen.https, core::TlsMode::implicit}};
  for (const Spec& spec : specs) {
    if (spec.listen.empty()) continue;
    if (spec.mode == core::TlsMode::implicit && !s.tls)
      return unexpected(std::string("https: listen.https needs a TLS certificate ([tls])"));
    core::ServiceOptions opts;
    opts.name = spec.name;
    opts.listen = spec.listen;
    opts.tls = spec.mode;
    opts.tls_context = s.tls;
    opts.handler = [http](core::Stream& stream) { return http->serve(stream); };
    if (auto r = server.add_service(std::move(opts)); !r) return r;
  }
  return {};
}

// MX, submission (STARTTLS) and submissions (implicit TLS), each from its listen list.
// The MX checks SPF/DKIM/DMARC when smtp.check_authentication is on.
Result<void, std::string> add_smtp(core::Server& server, const Services& s) {
  std::shared_ptr<const smtp::InboundAuth> checks;
  if (s.cfg.smtp.check_authentication && !s.cfg.listen.smtp.empty()) {
    checks = std::make_shared<const smtp::InboundAuth>(s.resolver, s.cfg.server.hostname,
                                                       s.cfg.smtp.dmarc_reject);
  }
  return smtp::add_services(server, s.cfg, smtp::make_store_backend(s.db, s.auth), s.tls, checks,
                            s.sessions);
}

// IMAP with STARTTLS (listen.imap) and implicit TLS (listen.imaps).
Result<void, std::string> add_imap(core::Server& server, const Services& s) {
  auto search = s.cfg.search.use_index ? s.search : nullptr;
  return imap::add_services(server, s.cfg,
                            imap::make_store_backend(s.db, s.auth, search, s.imap_cache), s.tls,
                            s.sessions);
}

// POP3 with STLS (listen.pop3) and implicit TLS (listen.pop3s).
Result<void, std::string> add_pop3(core::Server& server, const Services& s) {
  return pop3::add_services(server, s.cfg, pop3::make_store_backend(s.db, s.auth), s.tls,
                            s.sessions);
}

}  // namespace

Result<void, std::string> add_services(core::Server& server, const Services& services) {
  using Adder = Result<void, std::string> (*)(core::Server&, const Services&);
  for (Adder add : {add_http, add_smtp, add_imap, add_pop3})
    if (auto r = add(server, services); !r) return r;
  return {};
}

}  // namespace govmail::app
