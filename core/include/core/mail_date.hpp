// The date form of mail headers (RFC 5322 3.3), one writer for every message govmail makes:
// trace headers, bounces, delivery reports, auto-replies and JMAP-built messages.
#pragma once
#include <chrono>
#include <string>

namespace govmail::core {

// "Sat, 05 Dec 2026 08:01:02 +0000": always UTC, English names whatever the locale.
std::string rfc5322_date(std::chrono::system_clock::time_point t);

}  // namespace govmail::core
