// Text matching for SEARCH while the search index does not answer it (RFC 3501 6.4.4, RFC 9051
// 6.4.4): substring match, case-insensitive by Unicode case folding of NFC text, diacritics kept:
// "CÔNG VĂN" finds "công văn" but not "cong van" nor "cộng vân". A search string written
// without any diacritic also matches the text with its diacritics dropped ("cong van" finds
// "Công văn"), as officials often type on keyboards without Vietnamese input, and as the search
// index will answer.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace govmail::imap {

// NFC, then Unicode default case folding (ICU), then NFC again. ASCII stays on a fast path.
std::string fold_case(std::string_view utf8);

// The i;unicode-casemap form of a string (RFC 5051 2): each character to its titlecase, then
// fully decomposed (NFKD). SORT orders by it (RFC 5256 2.1: "A" < "[" < "_" < "b").
std::string casemap_key(std::string_view utf8);

struct Needle {
  explicit Needle(std::string_view utf8);
  std::string folded;  // fold_case
  bool plain = false;  // no diacritics: also matched on the diacritic-free fold of the text
};

// A decoded text, folded each way on first use.
class FoldedText {
 public:
  explicit FoldedText(std::string decoded) : decoded_(std::move(decoded)) {}
  // A text folded beforehand (the search index keeps its bodies so): cased = fold_case(text),
  // plain = core::fold_vietnamese(text), unused when the text is ASCII.
  static FoldedText prefolded(std::string cased, std::string plain, bool ascii);
  bool contains(const Needle& n);

 private:
  FoldedText() = default;
  std::string decoded_;
  std::optional<std::string> cased_, plain_;
  std::optional<bool> ascii_;
};

// The header fields of a header block, unfolded and RFC 2047 decoded, one "Name: value" per
// line; with `only` (upper-case field name) just the values of that field, one per line.
std::string decoded_header_text(std::string_view header_block, std::string_view only = {});

}  // namespace govmail::imap
