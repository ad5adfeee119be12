// Base64 (RFC 4648 section 4) for SASL exchanges: strict decoding of what a client sent.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace govmail::core {

// nullopt on a character outside the alphabet, data after padding, or more than two '='.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace govmail::core
