// Keys of SORT and THREAD (RFC 5256) from the cached envelope.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "store/types.hpp"

namespace govmail::imap {

// RFC 5256 2.1 base subject of a decoded Subject: white space collapsed, case folded
// (i;unicode-casemap equivalence), "(fwd)" trailers, "Re:"/"Fw:"/"Fwd:" leaders with their
// "[blob]"s, a leading "[blob]" and "[Fwd: ...]" wrappers removed. `reply` tells that a reply or
// forward marker was removed (what THREAD=REFERENCES step 5 asks).
struct BaseSubject {
  std::string text;
  bool reply = false;
};
BaseSubject extract_base_subject(std::string_view decoded_subject);
// The base subject text of an envelope's decoded subject.
std::string base_subject(const nlohmann::json& envelope);
// The decoded Subject of an envelope ("" when it has none).
std::string decoded_subject(const nlohmann::json& envelope);
// The Date header as unix time, the internal date when it has none (RFC 5256 2.2).
std::int64_t sent_date(const nlohmann::json& envelope, const store::MailboxEntry& entry);
// The i;unicode-casemap key (casemap_key) of the mailbox of the first address of a field
// ("from", "to", "cc"); with display, of the display name when there is one, else of
// mailbox@host (RFC 5957 3).
std::string first_address(const nlohmann::json& envelope, const char* field, bool display);

}  // namespace govmail::imap
