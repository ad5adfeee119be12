// RFC 5322 address lists and message ids, parsed leniently into the RFC 3501 ENVELOPE shape.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace govmail::store::mime {

// One ENVELOPE address. Group start: mailbox = group name, host null. Group end: both null.
struct Address {
  std::optional<std::string> name;     // phrase as written: quotes removed, encoded words kept
  std::optional<std::string> adl;      // source route ("@a,@b"), if any
  std::optional<std::string> mailbox;  // local part (unquoted) or group name
  std::optional<std::string> host;     // domain; "" for a mailbox written without '@'
};

std::vector<Address> parse_address_list(std::string_view value);

// Message ids ("<a@b> <c@d>") without angle brackets, in order, at most max.
std::vector<std::string> parse_msg_ids(std::string_view value, std::size_t max);

}  // namespace govmail::store::mime
