// THREAD algorithms of RFC 5256, pure: messages in, the THREAD response's thread list out.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace govmail::imap {

struct ThreadMessage {
  std::uint32_t number = 0;  // sequence number or UID; ascending in mailbox order
  std::int64_t date = 0;     // sent date (RFC 5256 2.2)
  std::string subject;       // decoded Subject
  std::string message_id;    // without <>; empty when missing or invalid
  // The References ids, oldest first; when there are none, the first In-Reply-To id.
  std::vector<std::string> references;
};

// "(2)(3 6 (4 23)(44 7 96))": the threads in RFC 5256 syntax, without "THREAD ".
std::string thread_orderedsubject(const std::vector<ThreadMessage>& messages);
std::string thread_references(const std::vector<ThreadMessage>& messages);

// The ids of a References or In-Reply-To header value ("<a@b> <c@d>" -> {"a@b", "c@d"}).
std::vector<std::string> message_ids(std::string_view header_value);

}  // namespace govmail::imap
