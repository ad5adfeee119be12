// govmail backup DIR / govmail restore DIR: pg_dump/pg_restore of the store plus the search
// state directory (var_dir/search) when present (docs/ARCHIVE.md). The archive signing key is
// not copied (keep it apart); its public half is, so that the restored copy can be verified.
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "admin/archive.hpp"
#include "commands.hpp"
#include "core/log.hpp"
#include "runtime.hpp"

extern char** environ;

namespace govmail::app {
namespace fs = std::filesystem;
namespace {

fs::path pg_bin(const std::string& tool) {
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec))
    if (fs::exists(e.path() / "bin" / tool)) dirs.push_back(e.path() / "bin");
  std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
    return std::stoi(a.parent_path().filename()) < std::stoi(b.parent_path().filename());
  });
  return dirs.empty() ? fs::path(tool) : dirs.back() / tool;
}

// Runs argv (no shell), output to our stderr; returns its exit status.
int run(std::vector<std::string> argv) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_adddup2(&files, STDERR_FILENO, STDOUT_FILENO);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &files, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  if (rc != 0) return 127;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int fail(const std::string& what) {
  std::fprintf(stderr, "govmail: %s\n", what.c_str());
  return 1;
}

struct Setup {
  core::Config cfg;
  DatabaseTarget target;
};

std::optional<Setup> setup(std::vector<std::string>& args) {
  auto flag = take_option(args, "--config");
  auto cfg = load_config_or_report(config_path(flag));
  if (!cfg) return std::nullopt;
  core::LogConfig quiet = cfg->log;
  quiet.level = "warn";
  core::init_logging(quiet);
  auto target = database_target(*cfg, /*stop_adopted=*/false);
  if (!target) return std::nullopt;
  return Setup{*cfg, std::move(*target)};
}

bool copy_tree(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::remove_all(to, ec);
  fs::create_directories(to.parent_path(), ec);
  fs::copy(from, to, fs::copy_options::recursive, ec);
  return !ec;
}

}  // namespace

int cmd_backup(std::vector<std::string> args) {
  auto s = setup(args);
  if (!s) return 1;
  if (args.size() != 1) return fail("usage: govmail backup [--config FILE] DIR");
  const fs::path dir = args[0];
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail("cannot create " + dir.string() + ": " + ec.message());
  if (run({pg_bin("pg_dump").string(), "--format=custom", "--no-owner",
           "--file=" + (dir / "govmail.dump").string(), "--dbname=" + s->target.conninfo}) != 0)
    return fail("pg_dump failed");
  const fs::path search = s->cfg.server.var_dir / "search";
  if (fs::exists(search) && !copy_tree(search, dir / "search"))
    return fail("cannot copy " + search.string());
  const fs::path key = admin::archive::key_path(s->cfg);
  if (std::ifstream in(key); in) {
    std::string hex;
    in >> hex;  // secret key (64 bytes); the public half is its last 32
    if (hex.size() == 128) std::ofstream(dir / "archive-public.key") << hex.substr(64) << "\n";
  }
  std::printf("backup written to %s (govmail.dump%s)\n", dir.c_str(),
              fs::exists(dir / "search") ? ", search/" : "");
  return 0;
}

int cmd_restore(std::vector<std::string> args) {
  auto s = setup(args);
  if (!s) return 1;
  if (args.size() != 1) return fail("usage: govmail restore [--config FILE] DIR");
  const fs::path dir = args[0];
  if (!fs::exists(dir / "govmail.dump")) return fail(dir.string() + " holds no govmail.dump");
  if (run({pg_bin("pg_restore").string(), "--clean", "--if-exists", "--no-owner",
           "--single-transaction", "--exit-on-error", "--dbname=" + s->target.conninfo,
           (dir / "govmail.dump").string()}) != 0)
    return fail("pg_restore failed (nothing restored: one transaction)");
  if (fs::exists(dir / "search") && !copy_tree(dir / "search", s->cfg.server.var_dir / "search"))
    return fail("cannot restore the search state");
  // The auditors' text index is not in the backup: serve rebuilds it from the restored journal.
  // One left from before would name journal ids the restored database may give to other entries.
  std::error_code ec;
  fs::remove_all(admin::archive::index_path(s->cfg), ec);
  if (ec) return fail("cannot remove the old archive text index: " + ec.message());
  std::printf("restored from %s; check it with: govmail archive verify\n", dir.c_str());
  return 0;
}

}  // namespace govmail::app
