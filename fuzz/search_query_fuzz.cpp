// The search query translator (search/src/query.cpp) and the substring pieces of an IMAP SEARCH
// needle (search/src/terms.cpp) on arbitrary bytes: never a crash, never more terms than the
// limits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/text_fold.hpp"
#include "query.hpp"
#include "terms.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  govmail::search::QueryLimits limits;
  limits.max_terms = 16;
  auto q = govmail::search::translate_query(text, limits);
  if (q) (void)q->get_description();
  (void)govmail::search::terms::substring_pieces(text);
  (void)govmail::core::has_marks(text);
  return 0;
}
