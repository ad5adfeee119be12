#include "core/text_match.hpp"

#include <string.h>  // memmem (glibc)

#include "core/text.hpp"

namespace govmail::core {
namespace {

bool is_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

// Substring search in linear time whatever the strings (a client chooses the needle):
// std::string::find is quadratic on "aaa...ab" in "aaa...a" (and libstdc++'s
// boyer_moore_searcher is quadratic to build); glibc's memmem uses the Two-Way algorithm.
bool has(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  return memmem(hay.data(), hay.size(), needle.data(), needle.size()) != nullptr;
}

}  // namespace

Needle::Needle(std::string_view utf8) : folded(fold_case(utf8)) {
  plain = fold_vietnamese(utf8) == folded;
}

FoldedText FoldedText::prefolded(std::string cased, std::string plain, bool ascii) {
  FoldedText t;
  t.cased_ = std::move(cased);
  if (!ascii) t.plain_ = std::move(plain);
  t.ascii_ = ascii;
  return t;
}

bool FoldedText::contains(const Needle& n) {
  if (n.folded.empty()) return true;
  if (!cased_) cased_ = fold_case(decoded_);
  if (has(*cased_, n.folded)) return true;
  if (!n.plain) return false;
  if (!ascii_) ascii_ = is_ascii(decoded_);
  if (*ascii_) return false;
  if (!plain_) plain_ = fold_vietnamese(decoded_);
  return has(*plain_, n.folded);
}

}  // namespace govmail::core
