#include "core/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace govmail::core {
namespace {

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

Result<void, std::string> drop_privileges(const std::string& user) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found)
    return unexpected("server.user: no such user \"" + user + "\"");
  if (pw.pw_uid == 0) return unexpected("server.user: \"" + user + "\" is root");
  // Groups first: after setuid the process may no longer change them. glibc applies each call
  // to every thread of the process (the io and hash threads are already running).
  if (initgroups(pw.pw_name, pw.pw_gid) != 0) return unexpected(errno_text("initgroups"));
  if (setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) != 0) return unexpected(errno_text("setresgid"));
  if (setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) != 0) return unexpected(errno_text("setresuid"));
  if (setuid(0) == 0 || geteuid() == 0)
    return unexpected("server.user: root could be regained after switching to " + user);
  return {};
}

}  // namespace govmail::core
