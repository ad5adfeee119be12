#include "store/embedded_postgres.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <vector>

namespace govmail::store {
namespace fs = std::filesystem;

namespace {

constexpr const char* kServiceUser = "postgres";

fs::path postgres_bin_dir() {
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec))
    if (fs::exists(e.path() / "bin" / "pg_ctl")) dirs.push_back(e.path() / "bin");
  std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
    return std::stoi(a.parent_path().filename()) < std::stoi(b.parent_path().filename());
  });
  return dirs.empty() ? fs::path{} : dirs.back();
}

bool running_as_root() {
  return ::geteuid() == 0;
}

// Runs argv (as the service user when root) in its own session, so that a terminal's Ctrl-C
// reaches govmail only and govmail shuts the cluster down in order. Returns the exit status.
int run(std::vector<std::string> argv, const fs::path& log = "/dev/null") {
  if (running_as_root()) argv.insert(argv.begin(), {"runuser", "-u", kServiceUser, "--"});
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &files, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return 127;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

govmail::Result<void, std::string> prepare_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir / "sock", ec);
  if (ec) return unexpected("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, ec);
  if (!running_as_root()) return {};
  const passwd* pw = ::getpwnam(kServiceUser);
  if (!pw)
    return unexpected(std::string("the embedded PostgreSQL runs as user '") + kServiceUser +
                      "', which does not exist: install the postgresql package "
                      "(scripts/install-deps) or set database.url");
  for (const auto& p : {dir, dir / "sock"})
    if (::chown(p.c_str(), pw->pw_uid, pw->pw_gid) != 0)
      return unexpected("cannot chown " + p.string() + " to postgres");
  if (run({"test", "-w", dir.string()}) != 0)
    return unexpected(std::string("user '") + kServiceUser + "' cannot reach " + dir.string() +
                      ": a parent directory is not traversable; move the checkout or set "
                      "database.url");
  return {};
}

govmail::Result<void, std::string> create_database(const std::string& admin_conninfo,
                                                   const std::string& name) {
  PGconn* c = PQconnectdb(admin_conninfo.c_str());
  govmail::Result<void, std::string> result;
  if (PQstatus(c) != CONNECTION_OK) {
    result =
        unexpected("cannot connect to the embedded PostgreSQL: " + std::string(PQerrorMessage(c)));
  } else {
    const char* params[] = {name.c_str()};
    PGresult* r = PQexecParams(c, "SELECT 1 FROM pg_database WHERE datname = $1", 1, nullptr,
                               params, nullptr, nullptr, 0);
    bool exists = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    PQclear(r);
    if (!exists) {
      char* ident = PQescapeIdentifier(c, name.c_str(), name.size());
      r = PQexec(c, (std::string("CREATE DATABASE ") + ident).c_str());
      PQfreemem(ident);
      if (PQresultStatus(r) != PGRES_COMMAND_OK)
        result = unexpected("cannot create database " + name + ": " + PQresultErrorMessage(r));
      PQclear(r);
    }
  }
  PQfinish(c);
  return result;
}

}  // namespace

govmail::Result<EmbeddedPostgres, std::string> EmbeddedPostgres::start(const Options& opts) {
  const fs::path bin = postgres_bin_dir();
  if (bin.empty())
    return unexpected(std::string(
        "PostgreSQL server binaries not found under /usr/lib/postgresql: run scripts/install-deps "
        "or set database.url"));
  const fs::path dir = fs::absolute(opts.dir).lexically_normal();
  if (auto r = prepare_dirs(dir); !r) return unexpected(r.error());
  const fs::path data = dir / "data";
  if (!fs::exists(data / "PG_VERSION")) {
    spdlog::info("embedded PostgreSQL: initialising a new cluster in {}", data.string());
    if (run({(bin / "initdb").string(), "-D", data.string(), "-U", "postgres", "-A", "trust", "-E",
             "UTF8", "--locale=C.UTF-8"},
            dir / "initdb.log") != 0)
      return unexpected("initdb failed for " + data.string() + ": see " +
                        (dir / "initdb.log").string());
  }
  EmbeddedPostgres pg;
  pg.dir_ = dir;
  pg.conninfo_ = "host=" + (dir / "sock").string() + " port=" + std::to_string(opts.port) +
                 " user=postgres dbname=" + opts.database;
  if (run({(bin / "pg_ctl").string(), "-D", data.string(), "status"}) == 0) {
    spdlog::info("embedded PostgreSQL: using the cluster already running in {}", data.string());
    pg.started_here_ = opts.stop_adopted;
  } else {
    spdlog::info("embedded PostgreSQL: starting ({})", data.string());
    std::string pg_opts = "-p " + std::to_string(opts.port) + " -k " + (dir / "sock").string() +
                          " -c listen_addresses=''";
    if (run({(bin / "pg_ctl").string(), "-D", data.string(), "-l", (dir / "server.log").string(),
             "-w", "-t", "60", "-o", pg_opts, "start"}) != 0)
      return unexpected("the embedded PostgreSQL did not start: see " +
                        (dir / "server.log").string());
    pg.started_here_ = true;
  }
  std::string admin = "host=" + (dir / "sock").string() + " port=" + std::to_string(opts.port) +
                      " user=postgres dbname=postgres";
  if (auto r = create_database(admin, opts.database); !r) return unexpected(r.error());
  return pg;
}

EmbeddedPostgres::EmbeddedPostgres(EmbeddedPostgres&& o) noexcept
    : dir_(std::move(o.dir_)),
      conninfo_(std::move(o.conninfo_)),
      started_here_(std::exchange(o.started_here_, false)),
      stopped_(o.stopped_) {}

EmbeddedPostgres::~EmbeddedPostgres() {
  stop();
}

void EmbeddedPostgres::stop() {
  if (!started_here_ || stopped_) return;
  stopped_ = true;
  spdlog::info("embedded PostgreSQL: stopping");
  if (run({(postgres_bin_dir() / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-m", "fast",
           "-w", "-t", "60", "stop"}) != 0)
    spdlog::warn("embedded PostgreSQL: pg_ctl stop failed; see {}", (dir_ / "server.log").string());
}

}  // namespace govmail::store
