// MIME at ingest: parse a message once (GMime 3.2) into the cached views that IMAP and JMAP serve:
// envelope, bodystructure with exact byte offsets into the raw message, and text for search.
// Malformed mail is still stored byte-exact by the caller; only this parsed view is best-effort.
// A hostile structure (deep nesting, huge header or part counts) costs bounded time and memory.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace govmail::store {

struct MimeLimits {
  std::size_t max_depth = 100;             // deeper multiparts are kept as opaque leaves
  std::size_t max_headers = 10000;         // per part; the rest are ignored for the parsed view
  std::size_t max_parts = 10000;           // further parts are not described
  std::size_t max_search_text = 4u << 20;  // bytes of text kept for the index
};

struct MimeAttachment {
  std::string section;       // IMAP section number, e.g. "2" or "1.3"
  std::string filename;      // decoded (RFC 2047 / RFC 2231), UTF-8 NFC
  std::string content_type;  // "application/pdf"
  std::uint64_t size = 0;    // decoded size estimate (encoded size for unknown encodings)
};

struct ParsedMessage {
  // JSON documents, shapes documented in store/src/mime/README.md:
  //  envelope_json: RFC 3501 ENVELOPE fields, each with the raw header value (what IMAP returns)
  //                 and a decoded UTF-8 form (what JMAP returns).
  //  bodystructure_json: the part tree with every BODYSTRUCTURE field and, per part,
  //                 header_offset / body_offset / end_offset into the raw message.
  std::string envelope_json;
  std::string bodystructure_json;

  std::string subject;  // decoded, UTF-8 NFC
  std::string from_address;
  std::string message_id;               // without <>, empty if none
  std::string in_reply_to;              // first id, without <>
  std::vector<std::string> references;  // ids without <>, oldest first
  std::optional<std::int64_t> date;     // Date: header as unix time, if parseable
  std::vector<MimeAttachment> attachments;
  std::string search_text;  // decoded text parts (HTML reduced to text), UTF-8 NFC, bounded
  std::vector<std::string> warnings;  // what was malformed (for logs; never blocks storage)
};

// Never throws for any input; never takes more than linear time in the input size.
ParsedMessage parse_message(std::string_view raw, const MimeLimits& limits = {});

// RFC 2047 decoding of one unfolded, unstructured header value (raw 8-bit UTF-8 kept), UTF-8 NFC:
// the decoder parse_message uses, for matching header text (IMAP SEARCH HEADER, TEXT).
std::string decode_header_text(std::string_view raw);

// The fields of a header block, unfolded and RFC 2047 decoded, one "Name: value" per line; with
// `only` (a field name, any case) just the values of that field, one per line. What IMAP SEARCH
// HEADER and TEXT match on, and what the search index indexes as header text.
std::string decoded_header_fields(std::string_view header_block, std::string_view only = {});

// Content-Transfer-Encoding decoding (base64, quoted-printable, x-uuencode; other encodings are
// returned as is): the decoder parse_message uses, for IMAP BINARY (RFC 3516).
std::string decode_transfer_encoding(std::string_view body, std::string_view encoding);

// A text part's body as UTF-8 NFC: transfer decoding then charset conversion (unknown charsets
// and invalid bytes become U+FFFD): JMAP bodyValues.
std::string decode_text_part(std::string_view body, std::string_view encoding,
                             std::string_view charset);

// HTML reduced to text (tags dropped, entities decoded), as for the search text: JMAP preview.
std::string html_text(std::string_view html);

}  // namespace govmail::store
