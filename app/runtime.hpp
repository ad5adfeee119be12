// What every subcommand that touches the database needs: the loaded config, the embedded
// PostgreSQL when no database.url is set, and the connection string to use.
#pragma once
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "store/embedded_postgres.hpp"

namespace govmail::app {

// Default config: --config FILE, else $GOVMAIL_CONFIG, else conf/govmail.toml when present.
std::filesystem::path config_path(const std::optional<std::string>& flag);

// Loads the config or prints file:line errors and returns nullopt.
std::optional<core::Config> load_config_or_report(const std::filesystem::path& path);

struct DatabaseTarget {
  std::string conninfo;
  std::optional<store::EmbeddedPostgres> embedded;  // stopped when this is destroyed
};
// database.url when set; otherwise starts (or adopts) the embedded cluster under var/pg.
std::optional<DatabaseTarget> database_target(const core::Config& cfg, bool stop_adopted);

// Pops "--name VALUE" or "--name=VALUE" from args; nullopt when absent.
std::optional<std::string> take_option(std::vector<std::string>& args, std::string_view name);
bool take_flag(std::vector<std::string>& args, std::string_view name);

}  // namespace govmail::app
