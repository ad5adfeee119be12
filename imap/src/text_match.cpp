#include "text_match.hpp"

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

}  // namespace

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

std::string decoded_header_text(std::string_view block, std::string_view only) {
  return store::decoded_header_fields(block, only);
}

}  // namespace govmail::imap
