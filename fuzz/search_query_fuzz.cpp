// The search query translator (search/src/query.cpp) and the substring pieces of an IMAP SEARCH
// needle (search/src/terms.cpp) on arbitrary bytes: never a crash, never more terms than the
// limits, never a word longer than a Xapian term may be, an exact plan only with its pieces.
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
  auto plan = govmail::search::terms::plan_needle(text);
  if (plan.separators.size() != plan.pieces.size() || (plan.exact && plan.pieces.empty()))
    __builtin_trap();
  govmail::core::fold_words(text, [](const govmail::core::FoldedWord& w) {
    // Xapian refuses terms over 245 bytes; a prefix of two letters goes before these.
    if (w.folded.size() > 240 || w.cased.size() > 240 || w.cased.empty()) __builtin_trap();
  });
  (void)govmail::core::has_marks(text);
  return 0;
}
