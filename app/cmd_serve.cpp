// govmail serve: load and validate the config, start the embedded PostgreSQL when no
// database.url is set, open the store (migrations), start the services, stop cleanly on
// SIGINT/SIGTERM (services, then the store, then the embedded cluster).
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "admin/provisioning.hpp"
#include "archive_indexer.hpp"
#include "checkpointer.hpp"
#include "commands.hpp"
#include "core/asio.hpp"
#include "core/auth.hpp"
#include "core/dns.hpp"
#include "core/listener.hpp"
#include "core/log.hpp"
#include "core/privileges.hpp"
#include "core/session_registry.hpp"
#include "core/tls.hpp"
#include "core/version.hpp"
#include "demo_seed.hpp"
#include "imap/stored_forms.hpp"
#include "runtime.hpp"
#include "search/index.hpp"
#include "services.hpp"
#include "smtp/backend.hpp"
#include "smtp/dkim_vault.hpp"
#include "smtp/outbound.hpp"
#include "store/database.hpp"
#include "store/directory.hpp"
#include "store/login_audit.hpp"

namespace govmail::app {
namespace {

core::CredentialLookup credential_lookup(store::Directory& dir) {
  return [&dir](std::string address) -> awaitable<std::optional<core::StoredCredentials>> {
    auto c = co_await dir.credentials(std::move(address));
    if (!c && c.error() == store::StoreError::not_found) co_return std::nullopt;
    // A database timeout or outage is no wrong password: AuthService answers it as temporary
    // and counts no failure (it locked out whole networks while the database was stuck).
    if (!c) throw std::runtime_error(std::string(store::to_string(c.error())));
    core::StoredCredentials out;
    out.account_id = c->account_id;
    out.address = c->address;
    out.active = c->status == store::AccountStatus::active;
    out.password_hash = std::move(c->password_hash);
    out.app_password_hashes = std::move(c->app_password_hashes);
    out.credentials_version = c->credentials_version;
    co_return out;
  };
}

// Every process hears of every credentials change (store notification, any govmail process):
// the logins it cached and the IMAP/SMTP sessions opened with the old credentials go. Account 0:
// the notification listener reconnected and changes may have been missed.
void account_changed(core::AuthService& auth, core::SessionRegistry& sessions,
                     const store::AccountChange& change) {
  const store::AccountId id = change.account_id;
  if (id == 0)
    auth.flush_all();
  else
    auth.flush_account(id);
  // Without a version (a process of an older release said it), every session of the account.
  const auto version = change.credentials_version == 0 ? core::SessionRegistry::kEveryVersion
                                                       : change.credentials_version;
  if (const auto ended = sessions.revoke(id, version); ended > 0) {
    if (id == 0)
      spdlog::warn(
          "account changes may have been missed (database listener reconnected): "
          "ending all {} logged-in IMAP/SMTP sessions",
          ended);
    else
      spdlog::info("account {} changed: ending its {} IMAP/SMTP sessions", id, ended);
  }
}

// Everything that lives as long as the server runs, torn down in reverse order.
struct Running {
  std::shared_ptr<store::Database> db;
  std::unique_ptr<core::AuthService> auth;
  std::shared_ptr<core::SessionRegistry> sessions = std::make_shared<core::SessionRegistry>();
  store::Subscription account_changes;
  std::unique_ptr<core::Server> server;
  std::shared_ptr<smtp::OutboundService> outbound;
  std::shared_ptr<core::Resolver> resolver;  // outbound delivery and the MX's checks share it
  std::shared_ptr<search::Index> search;
  std::unique_ptr<Checkpointer> checkpointer;
  std::unique_ptr<ArchiveIndexer> archive_indexer;
  // What IMAP FETCH keeps of messages; the store fills it as mail is stored (ingest_forms).
  std::shared_ptr<imap::MessageCache> imap_cache = imap::make_message_cache();
};

// Ports are bound and the TLS key is read: nothing more needs root.
bool leave_root(const core::ServerConfig& server) {
  if (geteuid() != 0) return true;
  if (server.user.empty()) {
    spdlog::warn("running as root: set server.user, or start under conf/govmail.service");
    return true;
  }
  if (auto r = core::drop_privileges(server.user); !r) {
    spdlog::critical("{}", r.error());
    return false;
  }
  spdlog::info("running as user {} (uid {})", server.user, getuid());
  return true;
}

awaitable<bool> start(asio::io_context& io, const core::Config& cfg, const std::string& conninfo,
                      core::TlsContext tls, Running& run) {
  store::DatabaseOptions opts;
  opts.url = conninfo;
  opts.pool_size = cfg.database.pool_size;
  opts.acquire_timeout = cfg.database.acquire_timeout;
  opts.statement_timeout = cfg.database.statement_timeout;
  opts.lock_timeout = cfg.database.lock_timeout;
  opts.idle_in_transaction_timeout = cfg.database.idle_in_transaction_timeout;
  opts.delivery_batch_max = cfg.database.delivery_batch_max;
  opts.durable_flag_changes = cfg.database.durable_flag_changes;
  opts.change_log_keep = cfg.database.change_log_keep;
  opts.login_audit_flush = cfg.archive.login_audit_flush;
  opts.login_audit_queue_max = cfg.archive.login_audit_queue_max;
  opts.ingest_forms = imap::ingest_forms(run.imap_cache);
  auto db = co_await store::Database::open(io.get_executor(), opts);
  if (!db) {
    spdlog::critical("cannot open the database: {}", store::to_string(db.error()));
    co_return false;
  }
  run.db = *db;
  run.auth = std::make_unique<core::AuthService>(io.get_executor(), cfg.auth,
                                                 credential_lookup(run.db->directory()));
  run.account_changes = run.db->subscribe_account_changes(
      [auth = run.auth.get(), sessions = run.sessions](const store::AccountChange& change) {
        account_changed(*auth, *sessions, change);
      });
  if (cfg.demo.seed) {
    admin::Provisioning prov(run.db->directory(), [auth = run.auth.get()](std::string pw) {
      return auth->hash(std::move(pw));
    });
    if (!co_await seed_demo(prov, run.db->directory(), cfg.demo)) co_return false;
  }
  run.server =
      std::make_unique<core::Server>(io.get_executor(), core::ConnectionLimits::from(cfg.limits));
  if (cfg.outbound.enabled || (cfg.smtp.check_authentication && !cfg.listen.smtp.empty())) {
    auto resolver = core::Resolver::from_config(io.get_executor(), cfg.outbound);
    if (!resolver) {
      spdlog::critical("DNS resolver: {}", resolver.error());
      co_return false;
    }
    run.resolver = *resolver;
  }
  // Before anything listens and while root may still read the master key file (like the TLS
  // key): a key that does not open stops the start, rather than mail going out unsigned.
  smtp::dkim::MasterKey dkim_master;
  if (cfg.outbound.enabled && cfg.outbound.dkim_sign) {
    auto prepared = co_await smtp::dkim::prepare_keys(cfg.outbound, run.db->outbound());
    if (!prepared) {
      spdlog::critical("DKIM keys: {}", prepared.error());
      co_return false;
    }
    dkim_master = *prepared;
  }
  run.search = std::make_shared<search::Index>(io.get_executor(), cfg.search,
                                               cfg.server.var_dir / "search", run.db);
  Services services{cfg,          run.db,       *run.auth,  std::move(tls),
                    run.resolver, run.sessions, run.search, run.imap_cache};
  if (auto r = add_services(*run.server, services); !r) {
    spdlog::critical("{}", r.error());
    co_return false;
  }
  if (!leave_root(cfg.server)) co_return false;
  run.server->start();
  if (cfg.outbound.enabled) {
    auto outbound = smtp::OutboundService::create(io.get_executor(), cfg, run.db,
                                                  smtp::make_store_backend(run.db, *run.auth),
                                                  run.resolver, std::move(dkim_master));
    if (!outbound) {
      spdlog::critical("{}", outbound.error());
      co_return false;
    }
    run.outbound = *outbound;
    run.outbound->start();
  }
  if (cfg.search.indexer) {
    run.search->start_indexer();
    run.archive_indexer = std::make_unique<ArchiveIndexer>(io.get_executor(), cfg, run.db);
    run.archive_indexer->start();
  }
  run.checkpointer = std::make_unique<Checkpointer>(io.get_executor(), cfg, run.db);
  run.checkpointer->start();
  spdlog::info("govmail {} serving (database: {})", core::version(),
               cfg.database.url.empty() ? "embedded" : "external");
  co_return true;
}

awaitable<void> stop(Running& run) {
  if (run.server) co_await run.server->shutdown(std::chrono::seconds(5));
  if (run.outbound) co_await run.outbound->stop();
  if (run.resolver) run.resolver->stop();
  if (run.search) co_await run.search->stop();
  if (run.checkpointer) co_await run.checkpointer->stop();
  if (run.archive_indexer) co_await run.archive_indexer->stop();
  run.account_changes.reset();
  if (!run.db) co_return;
  // The logins of the last flush interval: a clean stop loses none. Named, not co_await in a
  // condition: GCC 12 miscompiles that (a crash at stop).
  auto flushed = co_await store::flush_login_audit(*run.db);
  if (!flushed) spdlog::error("archive: the last logins could not be written to the audit log");
  run.db->close();
}

}  // namespace

int cmd_serve(std::vector<std::string> args) {
  auto config_flag = take_option(args, "--config");
  if (!args.empty()) {
    std::fprintf(stderr, "usage: govmail serve [--config FILE]\n");
    return 2;
  }
  auto cfg = load_config_or_report(config_path(config_flag));
  if (!cfg) return 1;
  core::init_logging(cfg->log);
  auto tls = core::prepare_server_tls(cfg->tls, cfg->server.hostname);
  if (!tls) {
    spdlog::critical("TLS: {}", tls.error());
    return 1;
  }
  if (geteuid() == 0 && !cfg->server.user.empty() && cfg->database.url.empty()) {
    spdlog::critical(
        "server.user needs an external database (database.url): the embedded cluster "
        "(development) is started and stopped as root");
    return 1;
  }
  auto target = database_target(*cfg, /*stop_adopted=*/true);
  if (!target) return 1;

  const unsigned threads =
      cfg->server.threads ? cfg->server.threads : std::max(1u, std::thread::hardware_concurrency());
  asio::io_context io(static_cast<int>(threads));
  Running running;
  int rc = 0;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", sig);
    asio::co_spawn(io, stop(running), [&](std::exception_ptr) { io.stop(); });
  });
  asio::co_spawn(io, start(io, *cfg, target->conninfo, *tls, running),
                 [&](std::exception_ptr e, bool ok) {
                   if (e || !ok) {
                     rc = 1;
                     signals.cancel();
                     asio::co_spawn(io, stop(running), [&](std::exception_ptr) { io.stop(); });
                   }
                 });
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  running = Running{};
  target.reset();  // stops the embedded cluster
  spdlog::info("govmail stopped");
  return rc;
}

}  // namespace govmail::app
