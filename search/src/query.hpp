// Ranked query text -> Xapian::Query (private to search/; tests include it).
//   công văn          both words, in any default field; accented words rank exact text first
//   "công văn số 12"  a phrase;  123/UBND-VP  a phrase of its words (a document number, whole)
//   côn*              a prefix (at most search.max_wildcard_terms words, else too_wide)
//   from:vinh  subject:"kế hoạch"  to: cc: bcc: body:   one field
#pragma once
#include <xapian.h>

#include <string_view>

#include "search/index.hpp"

namespace govmail::search {

struct QueryLimits {
  std::size_t max_bytes = 4096;
  unsigned max_terms = 64;
  unsigned max_wildcard = 5000;
};

SearchResult<Xapian::Query> translate_query(std::string_view text, const QueryLimits& limits);

}  // namespace govmail::search
