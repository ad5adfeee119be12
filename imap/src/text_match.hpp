// Text matching for SEARCH (RFC 3501 6.4.4, RFC 9051 6.4.4): core/text_match.hpp (substring,
// Unicode case folding, "cong van" finds "Công văn"), plus the SORT key and header decoding.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "core/text_match.hpp"

namespace govmail::imap {

// The matcher is core's (JMAP Email/query verifies with the same one).
using core::fold_case;
using core::FoldedText;
using core::Needle;

// The i;unicode-casemap form of a string (RFC 5051 2): each character to its titlecase, then
// fully decomposed (NFKD). SORT orders by it (RFC 5256 2.1: "A" < "[" < "_" < "b").
std::string casemap_key(std::string_view utf8);

// The header fields of a header block, unfolded and RFC 2047 decoded, one "Name: value" per
// line; with `only` (upper-case field name) just the values of that field, one per line.
std::string decoded_header_text(std::string_view header_block, std::string_view only = {});

}  // namespace govmail::imap
