// A stored message seen as a JMAP Email (RFC 8621 4.1): header fields from the raw header block,
// body parts from the bodystructure computed at ingest (store/src/mime/README.md), body values
// decoded from the raw bytes. Pure functions, no store access.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/types.hpp"

namespace govmail::webmail::mail {

using Json = nlohmann::json;

struct HeaderField {
  std::string name;
  std::string raw;  // everything after the colon, folding kept (asRaw)
};
// The header fields of a header block (up to the blank line), in order; bounded by the input.
std::vector<HeaderField> parse_header_block(std::string_view block);

// "header:Name[:asForm][:all]" of RFC 8621 4.1.3; nullopt when the form is unknown.
std::optional<Json> header_property(const std::vector<HeaderField>& headers,
                                    const std::string& property);
// The parsed forms by name: asText, asAddresses, asMessageIds, asDate... of the last field
// named `name` (JSON null when absent).
Json header_as(const std::vector<HeaderField>& headers, std::string_view name,
               std::string_view form);

// The part tree of bodystructure_json as EmailBodyPart objects (every property; callers pick
// with body_part_subset).
Json body_structure(const Json& bodystructure, store::MessageId message);
Json body_part_subset(const Json& part, const std::vector<std::string>& props);

struct BodyLists {
  std::vector<Json> text, html, attachments;
};
// RFC 8621 4.1.4's algorithm over body_structure().
BodyLists body_lists(const Json& structure);

// Whether a part has a file name or is an attachment (the same rule as Email/query's
// hasAttachment filter in SQL).
bool has_attachment(const Json& bodystructure);

// The decoded text of a leaf part of `raw` (offsets from bodystructure), UTF-8.
std::string part_text(std::string_view raw, const Json& bodystructure, const std::string& part_id);
// Up to 256 characters of plain text of the first text/* part, white space collapsed.
std::string preview(std::string_view raw, const Json& bodystructure);

// Truncates UTF-8 text to at most `max` bytes on a character boundary.
std::string utf8_truncate(std::string s, std::size_t max);

// A date header's RFC 3339 form with its own offset ("2024-01-02T10:00:00+07:00").
std::optional<std::string> rfc3339_of_header_date(std::string_view raw, std::optional<std::int64_t> unix);

}  // namespace govmail::webmail::mail
