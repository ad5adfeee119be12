// govmail: one binary, subcommands. Each subcommand lives in its own file (cmd_*.cpp).
#include <cstdio>
#include <string_view>

#include "commands.hpp"
#include "core/version.hpp"

namespace {

constexpr const char* kUsage =
    "usage: govmail <command> [options]\n"
    "  serve [--config FILE]                 run the mail server in the foreground\n"
    "  admin [--config FILE] <object> <verb>  provisioning (govmail admin help)\n"
    "  queue [--config FILE] list|show|retry|delete  the outbound queue\n"
    "  search [--config FILE] stats|reindex|query  full-text search (docs/SEARCH.md)\n"
    "  check-config [--print] FILE            validate a configuration file\n"
    "  archive [--config FILE] <verb>         journal, audit log, retention (govmail archive help)\n"
    "  backup [--config FILE] DIR             pg_dump of the store (+ search state) into DIR\n"
    "  restore [--config FILE] DIR            pg_restore of a backup made by govmail backup\n"
    "  --version                              print the version\n";

struct Command {
  std::string_view name;
  int (*run)(std::vector<std::string>);
};

constexpr Command kCommands[] = {
    {"serve", govmail::app::cmd_serve},
    {"admin", govmail::app::cmd_admin},
    {"check-config", govmail::app::cmd_check_config},
    {"queue", govmail::app::cmd_queue},
    {"search", govmail::app::cmd_search},
    {"archive", govmail::app::cmd_archive},
    {"backup", govmail::app::cmd_backup},
    {"restore", govmail::app::cmd_restore},
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    auto v = govmail::core::version();
    std::printf("govmail %.*s\n", static_cast<int>(v.size()), v.data());
    return 0;
  }
  for (const auto& c : kCommands)
    if (args[0] == c.name) return c.run({args.begin() + 1, args.end()});
  std::fprintf(stderr, "govmail: unknown command '%s'\n%s", args[0].c_str(), kUsage);
  return 2;
}
