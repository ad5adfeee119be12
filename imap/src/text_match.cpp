#include "text_match.hpp"

#include <string.h>  // memmem (glibc)

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include "core/text.hpp"
#include "imap/proto.hpp"
#include "store/mime.hpp"

namespace govmail::imap {
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

std::string fold_case(std::string_view utf8) {
  return core::fold_case(utf8);
}

std::string casemap_key(std::string_view utf8) {
  if (is_ascii(utf8)) {
    std::string out(utf8);
    for (auto& c : out)
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
  }
  auto u = icu::UnicodeString::fromUTF8(utf8);
  icu::UnicodeString titled;
  for (int32_t i = 0; i < u.length(); i = u.moveIndex32(i, 1))
    titled.append(u_totitle(u.char32At(i)));
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkd = icu::Normalizer2::getNFKDInstance(status);
  icu::UnicodeString decomposed = U_SUCCESS(status) ? nfkd->normalize(titled, status) : titled;
  std::string out;
  (U_SUCCESS(status) ? decomposed : titled).toUTF8String(out);
  return out;
}

Needle::Needle(std::string_view utf8) : folded(fold_case(utf8)) {
  plain = core::fold_vietnamese(utf8) == folded;
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
  if (!plain_) plain_ = core::fold_vietnamese(decoded_);
  return has(*plain_, n.folded);
}

std::string decoded_header_text(std::string_view block, std::string_view only) {
  return store::decoded_header_fields(block, only);
}

}  // namespace govmail::imap
