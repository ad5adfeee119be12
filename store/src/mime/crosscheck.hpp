// Test support: the part tree as GMime's own parser sees it, to cross-check the offsets scanner.
// Not used on the ingest path (it would parse every message twice).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace govmail::store::mime {

// One line per part, in document order: "<section> <type>/<subtype> <decoded body size>:<FNV-1a
// hash of the decoded body>" for leaves, without the size/hash for containers.
std::vector<std::string> gmime_outline(std::string_view raw);

// The same outline from parse_message()'s bodystructure_json, decoding raw[body_offset,
// end_offset) of each leaf: equal outlines mean the offsets cover exactly GMime's content.
std::vector<std::string> offsets_outline(std::string_view raw);

}  // namespace govmail::store::mime
