// Fuzz target for the archive export manifest (manifest.json, read by `govmail archive
// verify-export` on the auditor's machine): parse_manifest must never throw or crash on any
// bytes (a field of the wrong type, a non-object entry, huge numbers), and an entry it accepts
// must be safe to locate in messages.mbox: within() agrees with exact arithmetic.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "admin/archive.hpp"

namespace {

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "export_manifest_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto manifest = govmail::admin::archive::parse_manifest(input);
  if (!manifest) return 0;
  const std::uint64_t mbox_size = size;  // any size will do: the input's own
  for (const auto& m : manifest->messages) {
    const unsigned __int128 end = static_cast<unsigned __int128>(m.offset) + m.length;
    require(govmail::admin::archive::within(m.offset, m.length, mbox_size) == (end <= mbox_size),
            "within() agrees with exact arithmetic");
  }
  return 0;
}
