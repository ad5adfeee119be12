// Unicode helpers for mail text (Vietnamese first): one normal form for storage and search, and a
// diacritic-free fold so that "nguyen" finds "Nguyễn" whatever form (NFC or NFD) the client sent.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace govmail::core {

// Valid UTF-8 with no NUL: invalid sequences become U+FFFD, NUL bytes are dropped (PostgreSQL text
// and jsonb accept neither).
std::string sanitize_utf8(std::string_view bytes);

// Unicode NFC (ICU Normalizer2) of sanitize_utf8(utf8). ASCII input is returned unchanged quickly.
std::string nfc(std::string_view utf8);

// Search fold: NFD, drop nonspacing marks, đ/Đ -> d, lower-case. "Nguyễn" and "NGUYỄN" (NFC or NFD)
// -> "nguyen". Table-driven for Latin (U+0000..U+024F, U+1E00..U+1EFF); other code points are
// lower-cased with ICU and nonspacing marks dropped. Invalid UTF-8 becomes U+FFFD.
std::string fold_vietnamese(std::string_view utf8);

// Unicode default case folding (ICU) between two NFCs: the fold IMAP SEARCH compares substrings
// on (RFC 3501 6.4.4), diacritics kept ("CÔNG" -> "công", "Straße" -> "strasse"). ASCII input is
// lower-cased on a fast path. Shared so that the search index can store texts folded once.
std::string fold_case(std::string_view utf8);

// fold_vietnamese, then every code point that is still not ASCII is dropped
// ("Nguyễn Quang Vinh" -> "nguyen quang vinh"); for local parts and identifiers.
std::string ascii_fold(std::string_view utf8);

// A domain name as the directory stores it: IDNA A-labels (UTS #46 non-transitional mapping:
// lower case, full-width and other compatibility forms folded).
// "Bộ.GOV.vn." -> "xn--b-...gov.vn"; "ｌocal.gov.vn" -> "local.gov.vn". nullopt when the name
// cannot be a domain (invalid UTF-8, disallowed code points, bad punycode). Trailing dots are all
// dropped.
std::optional<std::string> domain_to_ascii(std::string_view domain);

// The space- or tab-separated words of a line (protocol replies, mbox separators); no empty ones.
std::vector<std::string_view> split_words(std::string_view line);

}  // namespace govmail::core
