#pragma once

namespace govmail::core {
// Calls sodium_init() once per process (thread-safe); every libsodium user in core/ calls it.
void ensure_sodium();
}  // namespace govmail::core
