// Content-Transfer-Encoding decoders for the exact bytes of a part (RFC 2045 6.7, 6.8).
#pragma once
#include <string>
#include <string_view>

namespace govmail::store::mime {

// Soft line breaks joined, transport padding (trailing SP/HTAB) dropped, '=XX' decoded in either
// case; a '=' not followed by two hex digits is kept as written. Line breaks kept as found.
std::string decode_quoted_printable(std::string_view body);
// Characters outside the alphabet ignored; stops at the first '='.
std::string decode_base64(std::string_view body);

}  // namespace govmail::store::mime
