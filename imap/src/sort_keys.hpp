// Keys of SORT and THREAD (RFC 5256) from the cached envelope.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "store/types.hpp"

namespace govmail::imap {

// RFC 5256 2.1 base subject: decoded, "Re:"/"Fwd:"/"[list]" prefixes, "(fwd)" trailers and
// "[Fwd: ...]" wrappers removed, white space collapsed, lower-cased (ASCII).
std::string base_subject(const nlohmann::json& envelope);
// The Date header as unix time, the internal date when it has none (RFC 5256 2.2).
std::int64_t sent_date(const nlohmann::json& envelope, const store::MailboxEntry& entry);
// Lower-cased mailbox of the first address of a field ("from", "to", "cc"); with display, the
// display name when there is one (RFC 5957).
std::string first_address(const nlohmann::json& envelope, const char* field, bool display);

}  // namespace govmail::imap
