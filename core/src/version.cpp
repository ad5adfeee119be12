#include "core/version.hpp"

namespace govmail::core {
std::string_view version() { return GOVMAIL_VERSION; }
}  // namespace govmail::core
