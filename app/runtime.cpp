#include "runtime.hpp"

#include <spdlog/spdlog.h>
#include <cstdio>
#include <cstdlib>

namespace govmail::app {

std::filesystem::path config_path(const std::optional<std::string>& flag) {
  if (flag) return *flag;
  if (const char* env = std::getenv("GOVMAIL_CONFIG"); env && *env) return env;
  return "conf/govmail.toml";
}

std::optional<core::Config> load_config_or_report(const std::filesystem::path& path) {
  auto cfg = core::load_config(path);
  if (!cfg) {
    std::fprintf(stderr, "govmail: configuration refused:\n%s\n", cfg.error().message.c_str());
    return std::nullopt;
  }
  return std::move(*cfg);
}

std::optional<DatabaseTarget> database_target(const core::Config& cfg, bool stop_adopted) {
  DatabaseTarget t;
  if (!cfg.database.url.empty()) {
    t.conninfo = cfg.database.url;
    return t;
  }
  store::EmbeddedPostgres::Options opts;
  opts.dir = cfg.server.var_dir / "pg";
  opts.port = cfg.database.embedded_port;
  opts.stop_adopted = stop_adopted;
  auto pg = store::EmbeddedPostgres::start(opts);
  if (!pg) {
    spdlog::critical("embedded PostgreSQL: {}", pg.error());
    return std::nullopt;
  }
  t.conninfo = pg->conninfo();
  t.embedded.emplace(std::move(*pg));
  return t;
}

std::optional<std::string> take_option(std::vector<std::string>& args, std::string_view name) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == name && i + 1 < args.size()) {
      std::string v = args[i + 1];
      args.erase(args.begin() + i, args.begin() + i + 2);
      return v;
    }
    if (a.size() > name.size() && a.compare(0, name.size(), name) == 0 && a[name.size()] == '=') {
      std::string v = a.substr(name.size() + 1);
      args.erase(args.begin() + i);
      return v;
    }
  }
  return std::nullopt;
}

bool take_flag(std::vector<std::string>& args, std::string_view name) {
  for (auto it = args.begin(); it != args.end(); ++it)
    if (*it == name) {
      args.erase(it);
      return true;
    }
  return false;
}

}  // namespace govmail::app
