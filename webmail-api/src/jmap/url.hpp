// URL pieces of the JMAP endpoints, without I/O: query parameters, percent-decoding, path
// segments, and the headers of a blob download.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace govmail::webmail::jmap {

// Percent-decodes (and '+' stays '+': these are path and RFC 6570 values); nullopt on a bad escape.
std::optional<std::string> percent_decode(std::string_view s);
// The decoded value of `name` in "a=1&b=2"; nullopt when absent or badly escaped.
std::optional<std::string> query_param(std::string_view query, std::string_view name);
// "/jmap/download/a1/G00/x.pdf" below "/jmap/download/" -> {"a1", "G00", "x.pdf"} (decoded).
std::optional<std::vector<std::string>> path_segments(std::string_view path,
                                                      std::string_view prefix);
// "type/subtype" of token characters (RFC 6838), parameters not allowed.
bool valid_media_type(std::string_view type);
// attachment; filename="..."; filename*=UTF-8''... (RFC 6266, RFC 8187), never header injection.
std::string content_disposition(std::string_view file_name);

}  // namespace govmail::webmail::jmap
