// Content decoding for the parsed view, on top of GMime (RFC 2047/2231, dates, base64/QP) and
// glibc iconv (legacy charsets, Vietnamese ones included). Every function returns valid UTF-8
// without NUL and never throws except std::bad_alloc.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace govmail::store::mime {

// g_mime_init() once per process, thread-safe.
void ensure_gmime();

// RFC 2047 decoding of an unstructured header value (8-bit UTF-8 kept), NFC.
std::string decode_header_text(std::string_view raw);

// Date header -> unix time (GMime's lenient RFC 5322 date parser).
std::optional<std::int64_t> parse_date(std::string_view raw);

// A parameter decoded by GMime (RFC 2231 continuations and charsets, RFC 2047 in quotes), NFC.
// `disposition` selects Content-Disposition syntax instead of Content-Type.
std::optional<std::string> decoded_param(std::string_view header_value, bool disposition,
                                         const char* name);

// Content-Transfer-Encoding decoding (base64, quoted-printable, x-uuencode); other encodings are
// returned as is.
std::string decode_transfer(std::string_view body, std::string_view encoding);

// Charset -> UTF-8 (NFC). Unknown charsets and invalid bytes become U+FFFD; `warning` is set when
// that happened.
std::string to_utf8(std::string_view bytes, std::string_view charset, std::string* warning);

// HTML reduced to text: tags dropped (block tags become line breaks), script/style/comments
// dropped, common entities and numeric references decoded. Input and output UTF-8.
std::string html_to_text(std::string_view html);

}  // namespace govmail::store::mime
