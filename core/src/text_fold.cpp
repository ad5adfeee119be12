#include "core/text_fold.hpp"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <vector>

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

// Collects one word at a time and hands it to the sink.
class WordBuilder {
 public:
  WordBuilder(const WordSink& sink, std::size_t max) : sink_(sink), max_(max) {}
  void letter(UChar32 lower) {
    if (word_.size() < max_) append_utf8(word_, lower);
  }
  void mark(UChar32 cp) {
    if (!word_.empty()) marks_.push_back(cp);
  }
  bool in_word() const { return !word_.empty(); }
  void end() {
    if (word_.empty()) return;
    key_.clear();
    if (!marks_.empty()) {
      std::sort(marks_.begin(), marks_.end());
      key_ = word_;
      key_ += '~';
      for (auto m : marks_) append_utf8(key_, m);
    }
    sink_(word_, key_);
    word_.clear();
    marks_.clear();
  }

 private:
  const WordSink& sink_;
  std::size_t max_;
  std::string word_, key_;
  std::vector<UChar32> marks_;
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

void fold_words(std::string_view utf8, const WordSink& sink, std::size_t max_word_bytes) {
  WordBuilder w(sink, max_word_bytes);
  if (is_ascii(utf8)) {
    for (unsigned char c : utf8) {
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        w.letter(c);
      else if (c >= 'A' && c <= 'Z')
        w.letter(c + ('a' - 'A'));
      else
        w.end();
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
        w.letter(cp);
      else if (cp >= 'A' && cp <= 'Z')
        w.letter(cp + ('a' - 'A'));
      else
        w.end();
    } else if (cp == 0x0110 || cp == 0x0111) {
      w.letter('d');
      w.mark(0x0111);
    } else if (is_mark(cp)) {
      w.mark(cp);
    } else if (cp > 0 && u_isalnum(cp)) {
      w.letter(u_tolower(cp));
    } else {
      w.end();
    }
  }
  w.end();
}

}  // namespace govmail::core
