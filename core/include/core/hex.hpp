// Lower-case hexadecimal of raw bytes (SHA-256 digests in logs, ids, SQL's encode(.., 'hex')).
#pragma once
#include <string>
#include <string_view>

namespace govmail::core {

std::string to_hex(std::string_view raw);

}  // namespace govmail::core
