// The structural pass of the MIME parser: one linear scan over the raw message that finds every
// part and its exact byte offsets (header, body, end), following RFC 2046 boundary rules. GMime
// decodes field contents elsewhere; offsets come only from here, so IMAP BODY[section] ranges are
// byte-exact into the stored blob.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/mime.hpp"

namespace govmail::store::mime {

using Params = std::vector<std::pair<std::string, std::string>>;

struct Header {
  std::string name;   // as in the message
  std::string value;  // unfolded (CR/LF removed), leading and trailing white space trimmed
};

enum class NodeKind {
  leaf,       // any non-container part, including opaque ones (limits hit, undecodable)
  multipart,  // children are the parts
  message,    // message/rfc822 (or message/global): one child, the embedded message
};

struct Node {
  std::size_t header_offset = 0;  // first byte of the part's header block
  std::size_t body_offset = 0;    // first byte after the blank line ending it
  std::size_t end_offset = 0;     // one past the last body byte (CRLF before a boundary excluded)
  std::vector<Header> headers;    // at most MimeLimits::max_headers
  std::string type = "text";      // lower-case
  std::string subtype = "plain";  // lower-case
  Params params;                  // raw, in header order (values unquoted)
  std::string encoding = "7BIT";  // upper-case
  NodeKind kind = NodeKind::leaf;
  bool is_message_root = false;  // headers are a message header (root or embedded message)
  bool opaque = false;           // would have been a container, but a limit stopped descent
  int parent = -1;
  std::size_t depth = 0;
  std::vector<int> children;
};

struct Tree {
  std::vector<Node> nodes;                // nodes[0] is the message itself
  std::vector<std::size_t> lf_positions;  // offsets of every '\n', ascending (for line counts)
  std::vector<std::string> warnings;

  // Lines in raw[begin, end): LF count, plus one for a last line without LF.
  std::size_t count_lines(std::string_view raw, std::size_t begin, std::size_t end) const;
};

// Never throws on malformed input (only std::bad_alloc). Linear in raw.size().
Tree scan(std::string_view raw, const MimeLimits& limits);

// Case-insensitive ASCII equality.
bool iequals(std::string_view a, std::string_view b);
// First header with that name, or nullptr.
const Header* find_header(const Node& node, std::string_view name);
// First parameter with that name (case-insensitive), or nullptr.
const std::string* find_param(const Params& params, std::string_view name);

// Header syntax shared with the builder.
struct ParsedType {
  std::string type, subtype;
  Params params;
  bool valid = false;
};
ParsedType parse_content_type(std::string_view value);
// "attachment; filename=x" -> type "attachment" (lower-case), subtype empty.
ParsedType parse_disposition(std::string_view value);

}  // namespace govmail::store::mime
