#include "core/text.hpp"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/uidna.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace govmail::core {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

// Decodes one code point at p (advancing p); an invalid or truncated sequence yields U+FFFD and
// consumes one byte, so every input byte is looked at a bounded number of times.
char32_t next_code_point(const unsigned char*& p, const unsigned char* end) {
  const unsigned char c = *p;
  if (c < 0x80) {
    ++p;
    return c;
  }
  int len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    ++p;
    return kReplacement;
  }
  if (end - p < len) {
    ++p;
    return kReplacement;
  }
  for (int i = 1; i < len; ++i) {
    if ((p[i] & 0xC0) != 0x80) {
      ++p;
      return kReplacement;
    }
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++p;
    return kReplacement;
  }
  p += len;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The first byte at or after p that is NUL or not ASCII (end if none). Eight bytes at a time:
// message text at ingest is mostly ASCII and passes here several times.
const unsigned char* skip_clean_ascii(const unsigned char* p, const unsigned char* end) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  while (end - p >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    if ((w & kHigh) || ((w - kOnes) & ~w & kHigh)) break;  // a high bit, or a zero byte
    p += 8;
  }
  while (p < end && *p != 0 && *p < 0x80) ++p;
  return p;
}

bool is_clean_ascii(std::string_view s) {
  auto* p = reinterpret_cast<const unsigned char*>(s.data());
  return skip_clean_ascii(p, p + s.size()) == p + s.size();
}

// Fold of every code point below kTableSize, computed once with ICU (NFD, marks dropped, đ -> d,
// lower-case): a lookup per character instead of a normaliser call (NOTES-LIBRARIES.md: 53-204
// MiB/s against 16-43 MiB/s for ICU).
constexpr char32_t kTableSize = 0x2000;

struct FoldTable {
  std::vector<std::uint32_t> offset;  // kTableSize + 1 entries into text
  std::string text;
};

std::string fold_one_with_icu(char32_t cp, const icu::Normalizer2& nfd) {
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString decomposed =
      nfd.normalize(icu::UnicodeString(static_cast<UChar32>(cp)), status);
  if (U_FAILURE(status)) decomposed = icu::UnicodeString(static_cast<UChar32>(cp));
  std::string out;
  for (int32_t i = 0; i < decomposed.length();) {
    UChar32 c = decomposed.char32At(i);
    i += U16_LENGTH(c);
    if (u_charType(c) == U_NON_SPACING_MARK) continue;
    if (c == 0x0110 || c == 0x0111) c = 'd';
    append_utf8(out, static_cast<char32_t>(u_tolower(c)));
  }
  return out;
}

const FoldTable& fold_table() {
  static const FoldTable table = [] {
    FoldTable t;
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
    t.offset.reserve(kTableSize + 1);
    for (char32_t cp = 0; cp < kTableSize; ++cp) {
      t.offset.push_back(static_cast<std::uint32_t>(t.text.size()));
      if (U_SUCCESS(status) && nfd != nullptr) {
        t.text += fold_one_with_icu(cp, *nfd);
      } else {
        append_utf8(t.text, cp);
      }
    }
    t.offset.push_back(static_cast<std::uint32_t>(t.text.size()));
    return t;
  }();
  return table;
}

}  // namespace

std::string sanitize_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  auto* end = p + bytes.size();
  // Valid bytes are copied in runs, not one code point at a time: search text of a large
  // message passes here at ingest, and per-byte appends were most of govmail's ingest CPU.
  const unsigned char* run = p;
  auto flush = [&](const unsigned char* upto) {
    out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(upto - run));
  };
  while ((p = skip_clean_ascii(p, end)) < end) {
    const unsigned char* start = p;
    const char32_t cp = next_code_point(p, end);
    const bool invalid = cp == kReplacement && !(p - start == 3 && start[0] == 0xEF);
    if (cp != 0 && !invalid) continue;  // valid: stays in the run
    flush(start);
    if (invalid) append_utf8(out, cp);  // NUL is dropped
    run = p;
  }
  flush(end);
  return out;
}

std::string nfc(std::string_view utf8) {
  if (is_clean_ascii(utf8)) return std::string(utf8);
  const std::string clean = sanitize_utf8(utf8);
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* norm = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status) || norm == nullptr) return clean;
  std::string out;
  out.reserve(clean.size());
  icu::StringByteSink<std::string> sink(&out);
  norm->normalizeUTF8(0, icu::StringPiece(clean.data(), static_cast<int32_t>(clean.size())), sink,
                      nullptr, status);
  if (U_FAILURE(status)) return clean;
  return out;
}

std::string fold_case(std::string_view utf8) {
  const bool ascii = std::all_of(utf8.begin(), utf8.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) {
    std::string out(utf8);
    for (auto& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
  }
  auto u = icu::UnicodeString::fromUTF8(nfc(utf8));
  u.foldCase(U_FOLD_CASE_DEFAULT);
  std::string out;
  u.toUTF8String(out);
  return nfc(out);
}

std::string fold_vietnamese(std::string_view utf8) {
  const FoldTable& table = fold_table();
  std::string out;
  out.reserve(utf8.size());
  auto* p = reinterpret_cast<const unsigned char*>(utf8.data());
  auto* end = p + utf8.size();
  while (p < end) {
    if (*p < 0x80) {  // ASCII fast path
      const unsigned char c = *p++;
      if (c == 0) continue;
      out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c));
      continue;
    }
    const char32_t cp = next_code_point(p, end);
    if (cp < kTableSize) {
      out.append(table.text, table.offset[cp], table.offset[cp + 1] - table.offset[cp]);
    } else if (u_charType(static_cast<UChar32>(cp)) != U_NON_SPACING_MARK) {
      append_utf8(out, static_cast<char32_t>(u_tolower(static_cast<UChar32>(cp))));
    }
  }
  return out;
}

std::string ascii_fold(std::string_view utf8) {
  std::string folded = fold_vietnamese(utf8);
  std::string out;
  out.reserve(folded.size());
  for (char c : folded) {
    if (static_cast<unsigned char>(c) < 0x80) out.push_back(c);
  }
  return out;
}

std::optional<std::string> domain_to_ascii(std::string_view domain) {
  while (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  if (domain.empty() || domain.size() > 1024) return std::nullopt;
  UErrorCode status = U_ZERO_ERROR;
  // One shared UTS #46 instance: uidna_nameToASCII_UTF8 is const and thread-safe.
  static UIDNA* const idna = uidna_openUTS46(UIDNA_NONTRANSITIONAL_TO_ASCII, &status);
  if (idna == nullptr) return std::nullopt;
  status = U_ZERO_ERROR;
  std::string out(domain.size() * 4 + 64, '\0');
  UIDNAInfo info = UIDNA_INFO_INITIALIZER;
  const int32_t n =
      uidna_nameToASCII_UTF8(idna, domain.data(), static_cast<int32_t>(domain.size()), out.data(),
                             static_cast<int32_t>(out.size()), &info, &status);
  // Label-length and hyphen rules are the DNS's business; only mapping errors make a non-name.
  constexpr uint32_t kLengthErrors = UIDNA_ERROR_EMPTY_LABEL | UIDNA_ERROR_LABEL_TOO_LONG |
                                     UIDNA_ERROR_DOMAIN_NAME_TOO_LONG | UIDNA_ERROR_LEADING_HYPHEN |
                                     UIDNA_ERROR_TRAILING_HYPHEN | UIDNA_ERROR_HYPHEN_3_4;
  if (U_FAILURE(status) || n < 0 || (info.errors & ~kLengthErrors) != 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace govmail::core
