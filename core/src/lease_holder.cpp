#include "core/lease_holder.hpp"

#include <unistd.h>

#include <random>

namespace govmail::core {

std::string lease_holder_name() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::random_device rd;
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" + std::to_string(rd());
}

}  // namespace govmail::core
