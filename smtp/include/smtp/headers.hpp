// The little header reading SMTP needs before the store parses the message: the addresses in
// From: (submission checks that the user owns them). Sans-I/O, bounded by the header block.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace govmail::smtp {

// Addresses (addr-spec, as written) of every `field` header of the message's header block
// (unfolded; display names, comments and group syntax skipped). Empty if there is none.
std::vector<std::string> header_addresses(std::string_view message, std::string_view field);

}  // namespace govmail::smtp
