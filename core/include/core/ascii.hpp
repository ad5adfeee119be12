// ASCII case for protocol text: addresses as the directory compares them, header names,
// keywords. Separate from core/text.hpp (Unicode) so that few files depend on it.
#pragma once
#include <string>
#include <string_view>

namespace govmail::core {

// ASCII letters lower-cased, every other byte kept.
std::string ascii_lower(std::string_view s);

}  // namespace govmail::core
