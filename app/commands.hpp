#pragma once
#include <string>
#include <vector>

namespace govmail::app {

// Each returns the process exit code: 0 ok, 1 operation failed, 2 usage error.
int cmd_serve(std::vector<std::string> args);
int cmd_admin(std::vector<std::string> args);
int cmd_check_config(std::vector<std::string> args);
int cmd_queue(std::vector<std::string> args);  // govmail admin queue ...
int cmd_search(std::vector<std::string> args);  // govmail admin search ...
int cmd_archive(std::vector<std::string> args);  // journal, audit log, retention (ARCHIVE.md)
int cmd_backup(std::vector<std::string> args);
int cmd_restore(std::vector<std::string> args);

}  // namespace govmail::app
