// govmail check-config [--print] FILE: validates; prints file:line errors and exits 1 if refused.
#include <cstdio>

#include "commands.hpp"
#include "core/config.hpp"
#include "runtime.hpp"

namespace govmail::app {

int cmd_check_config(std::vector<std::string> args) {
  bool print = take_flag(args, "--print");
  if (args.size() != 1) {
    std::fputs("usage: govmail check-config [--print] FILE\n", stderr);
    return 2;
  }
  auto cfg = load_config_or_report(args[0]);
  if (!cfg) return 1;
  if (print) std::fputs(core::render_config(*cfg).c_str(), stdout);
  std::printf("%s: ok\n", args[0].c_str());
  return 0;
}

}  // namespace govmail::app
