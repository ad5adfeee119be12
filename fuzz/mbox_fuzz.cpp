// Fuzz target for the mbox splitter of `govmail admin import-mail` (files from other servers
// and from officials' desktops): any bytes, fed whole or in small chunks, must give the same
// messages, each within the size limit, with CRLF line ends only and no bare LF.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "admin/mail_import.hpp"

namespace {

using govmail::admin::ImportedMessage;
using govmail::admin::MboxSplitter;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "mbox_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

constexpr std::size_t kMaxBytes = 2048;

std::vector<ImportedMessage> split(std::string_view in, std::size_t chunk) {
  MboxSplitter s(kMaxBytes);
  std::vector<ImportedMessage> out;
  for (std::size_t i = 0; i < in.size(); i += chunk) {
    s.feed(in.substr(i, chunk));
    while (auto m = s.take()) out.push_back(std::move(*m));
  }
  s.finish();
  while (auto m = s.take()) out.push_back(std::move(*m));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto whole = split(in, in.size() + 1);
  for (const auto& m : whole) {
    require(m.raw.size() <= kMaxBytes, "message over the limit");
    require(m.raw.size() >= 2 && m.raw.ends_with("\r\n"), "message not ending in CRLF");
    for (std::size_t i = 0; i < m.raw.size(); ++i)
      require(m.raw[i] != '\n' || (i > 0 && m.raw[i - 1] == '\r'), "bare LF in a message");
  }
  if (size <= 4096) {
    auto bytewise = split(in, 3);
    require(bytewise.size() == whole.size(), "chunking changed the message count");
    for (std::size_t i = 0; i < whole.size(); ++i) {
      require(bytewise[i].raw == whole[i].raw, "chunking changed a message");
      require(bytewise[i].internal_date == whole[i].internal_date, "chunking changed a date");
      require(bytewise[i].flags == whole[i].flags, "chunking changed the flags");
    }
  }
  return 0;
}
