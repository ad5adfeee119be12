#pragma once
#include <string_view>

namespace govmail::core {
std::string_view version();
}  // namespace govmail::core
