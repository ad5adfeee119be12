#include "core/text_fold.hpp"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "core/text.hpp"

namespace govmail::core {
namespace {

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

void append_utf8(std::string& out, UChar32 cp) {
  char buf[4];
  int32_t n = 0;
  UBool error = false;
  U8_APPEND(reinterpret_cast<uint8_t*>(buf), n, 4, cp, error);
  if (!error) out.append(buf, static_cast<std::size_t>(n));
}

std::string nfd(std::string_view utf8) {
  const std::string clean = sanitize_utf8(utf8);
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* norm = icu::Normalizer2::getNFDInstance(status);
  if (U_FAILURE(status) || norm == nullptr) return clean;
  std::string out;
  out.reserve(clean.size() + clean.size() / 4);
  icu::StringByteSink<std::string> sink(&out);
  norm->normalizeUTF8(0, icu::StringPiece(clean.data(), static_cast<int32_t>(clean.size())), sink,
                      nullptr, status);
  return U_FAILURE(status) ? clean : out;
}

bool is_mark(UChar32 cp) {
  return u_charType(cp) == U_NON_SPACING_MARK;
}

// The NFC form of a short case-folded word, cached per thread: a language has few distinct
// syllables, and normalising each occurrence was the dearest part of indexing its cased form.
std::string_view nfc_word(const std::string& nfd_word) {
  thread_local std::unordered_map<std::string, std::string> cache;
  auto it = cache.find(nfd_word);
  if (it != cache.end()) return it->second;
  if (cache.size() >= 65536) cache.clear();
  return cache.emplace(nfd_word, nfc(nfd_word)).first->second;
}

constexpr std::size_t kMaxMarks = 32;  // per word

// Collects one word at a time and hands it to the sink, with the separators before it.
class WordBuilder {
 public:
  WordBuilder(const FoldedWordSink& sink, std::size_t max) : sink_(sink), max_(max) {}
  // lower: the letter as `folded` has it; cased: as core::fold_case has it (đ stays đ).
  void letter(UChar32 lower, UChar32 cased) {
    if (word_.empty()) {
      const bool one = had_word_ && gap_ == 1;
      spaced_ = one && gap_char_ == ' ';
      joiner_ = one && gap_char_ < 0x80 && std::ispunct(static_cast<int>(gap_char_))
                    ? static_cast<char>(gap_char_)
                    : '\0';
      gap_ = 0;
    }
    if (word_.size() < max_) {
      append_utf8(word_, lower);
      append_utf8(cased_, cased);
      ascii_ = ascii_ && cased < 0x80;
    } else {
      cut_ = true;
    }
  }
  // in_cased: false for đ's, which the cased form writes as the letter itself.
  void mark(UChar32 cp, bool in_cased = true) {
    if (word_.empty()) return separator(cp);  // a mark with no letter before it separates
    // Bounded: a letter may carry any number of marks ("zalgo" text), a term may not.
    if (marks_ >= kMaxMarks) {
      cut_ = true;
      return;
    }
    ++marks_;
    if (in_cased && !cut_) append_utf8(cased_, cp);
  }
  void separator(UChar32 cp) {
    end();
    ++gap_;
    gap_char_ = cp;
  }
  void end() {
    if (word_.empty()) return;
    const std::string_view cased =
        marks_ == 0 && ascii_ ? std::string_view(cased_) : nfc_word(cased_);
    sink_(FoldedWord{word_, cased, spaced_, cut_, joiner_});
    had_word_ = true;
    word_.clear();
    cased_.clear();
    marks_ = 0;
    cut_ = false;
    ascii_ = true;
  }

 private:
  const FoldedWordSink& sink_;
  std::size_t max_;
  std::string word_, cased_;
  std::size_t marks_ = 0;  // of the current word's letters
  bool had_word_ = false, spaced_ = false, cut_ = false, ascii_ = true;
  char joiner_ = '\0';
  unsigned gap_ = 0;      // separator code points since the last word
  UChar32 gap_char_ = 0;  // the last of them
};

}  // namespace

std::string fold_search(std::string_view utf8) {
  return fold_vietnamese(utf8);
}

bool has_marks(std::string_view utf8) {
  if (is_ascii(utf8)) return false;
  const std::string d = nfd(utf8);
  const auto* s = reinterpret_cast<const uint8_t*>(d.data());
  const auto n = static_cast<int32_t>(d.size());
  int32_t i = 0;
  while (i < n) {
    UChar32 cp;
    U8_NEXT(s, i, n, cp);
    if (cp == 0x0110 || cp == 0x0111 || (cp > 0 && is_mark(cp))) return true;
  }
  return false;
}

void fold_words(std::string_view utf8, const FoldedWordSink& sink, std::size_t max_word_bytes) {
  WordBuilder w(sink, max_word_bytes);
  if (is_ascii(utf8)) {
    for (unsigned char c : utf8) {
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        w.letter(c, c);
      else if (c >= 'A' && c <= 'Z')
        w.letter(c + ('a' - 'A'), c + ('a' - 'A'));
      else
        w.separator(c);
    }
    w.end();
    return;
  }
  const std::string d = nfd(utf8);
  const auto* s = reinterpret_cast<const uint8_t*>(d.data());
  const auto n = static_cast<int32_t>(d.size());
  int32_t i = 0;
  while (i < n) {
    UChar32 cp;
    U8_NEXT(s, i, n, cp);
    if (cp < 0x80) {
      if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9'))
        w.letter(cp, cp);
      else if (cp >= 'A' && cp <= 'Z')
        w.letter(cp + ('a' - 'A'), cp + ('a' - 'A'));
      else
        w.separator(cp);
    } else if (cp == 0x0110 || cp == 0x0111) {
      w.letter('d', 0x0111);
      w.mark(0x0111, false);
    } else if (is_mark(cp)) {
      w.mark(cp);
    } else if (cp > 0 && u_isalnum(cp)) {
      w.letter(u_tolower(cp), u_foldCase(cp, U_FOLD_CASE_DEFAULT));
    } else {
      w.separator(cp);
    }
  }
  w.end();
}

}  // namespace govmail::core
