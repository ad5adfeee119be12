// The little header reading SMTP needs before the store parses the message: the addresses in
// From: (submission checks that the user owns them). Sans-I/O, bounded by the header block.
#pragma once
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace govmail::smtp {

// Addresses (addr-spec, as written) of every `field` header of the message's header block
// (unfolded; display names, comments and group syntax skipped). Empty if there is none.
std::vector<std::string> header_addresses(std::string_view message, std::string_view field);

// "Thu, 03 Dec 2026 07:12:23 +0000" (RFC 5322 3.3, in UTC).
std::string rfc5322_date(std::chrono::system_clock::time_point t);

}  // namespace govmail::smtp
