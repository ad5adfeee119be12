#include "core/spawn.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

namespace govmail::core {

std::string describe(std::exception_ptr e) {
  if (!e) return "no exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown exception";
  }
}

void LogExit::operator()(std::exception_ptr e) const {
  if (e) spdlog::error("{} ended by an exception: {}", task_, describe(e));
  if (after_) after_(static_cast<bool>(e));
}

}  // namespace govmail::core
