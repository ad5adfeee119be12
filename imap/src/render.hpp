// FETCH views rendered from the JSON the store cached at ingest (store/src/mime/README.md).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "imap/proto.hpp"

namespace govmail::imap {

// The cached JSON as an object; an empty object when it is missing or unreadable, so that no
// lookup ever throws.
nlohmann::json parse_object(std::string_view text);

// The version of the plain renderings below that the store keeps (message_imap_forms): bump it
// whenever render_envelope or render_body(extensible) answers differently, so that the stored
// ones are rendered again.
inline constexpr std::int32_t kStoredFormsVersion = 1;
// Longer header blocks are not stored as renderings; they stay in the blob only.
inline constexpr std::size_t kStoredHeaderMax = 64 * 1024;

// utf8: the client enabled UTF8=ACCEPT, so 8-bit strings may be quoted (else they are literals).
std::string render_envelope(const nlohmann::json& envelope, bool utf8);
// extensible: BODYSTRUCTURE; otherwise BODY.
std::string render_body(const nlohmann::json& part, bool extensible, bool utf8);

// Byte range [begin, end) of the raw message for a section, from the part tree.
struct ByteRange {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

std::optional<ByteRange> section_range(const nlohmann::json& root, const Section& section,
                                       std::uint64_t message_size);
// The leaf part named by `part` ("1.2"), for BINARY (encoding) and sizes.
const nlohmann::json* find_part(const nlohmann::json& root, std::string_view part);

// The header fields of `header` (a header block) whose names are (or, with `exclude`, are not)
// in `fields` (upper-case), followed by the blank line.
std::string filter_header(std::string_view header, const std::vector<std::string>& fields,
                          bool exclude);
// filter_header appended to `out` (a FETCH response being built: no string of its own).
void append_filtered_header(std::string& out, std::string_view header,
                            const std::vector<std::string>& fields, bool exclude);

}  // namespace govmail::imap
