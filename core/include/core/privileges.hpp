// Running with least privilege: after the ports are bound and the TLS key is read, a server
// started as root switches to an unprivileged user for good.
#pragma once
#include <string>

#include "core/result.hpp"

namespace govmail::core {

// Switches the whole process (every thread) to `user`'s uid, primary gid and supplementary
// groups, and verifies that root cannot be regained. Refuses user "root" or
// uid 0. Call only while the process is root. (no_new_privs is per thread, so it is left to the
// systemd unit's NoNewPrivileges=, which covers the whole process from its start.)
Result<void, std::string> drop_privileges(const std::string& user);

}  // namespace govmail::core
