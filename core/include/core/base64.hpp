// Base64 (RFC 4648 section 4): strict decoding of what a client sent (SASL), and the encoding
// of generated mail (bodies, RFC 2047 encoded words) that JMAP and SMTP auto-replies build.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace govmail::core {

// nullopt on a character outside the alphabet, data after padding, or more than two '='.
std::optional<std::string> base64_decode(std::string_view in);

// With `wrap`, CRLF after every 76 characters and at the end (a MIME body).
std::string base64_encode(std::string_view in, bool wrap = false);

// A header value as RFC 2047 B-encoded UTF-8 words (at most 75 characters each, folded) when it
// is not plain printable ASCII; unchanged otherwise.
std::string encode_words(std::string_view s);

}  // namespace govmail::core
