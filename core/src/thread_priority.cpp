#include "core/thread_priority.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace govmail::core {

void lower_this_thread_priority() {
  thread_local bool lowered = false;
  if (lowered) return;
  lowered = true;
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10) != 0)
    spdlog::debug("cannot lower a background thread's priority: {}", std::strerror(errno));
}

}  // namespace govmail::core
