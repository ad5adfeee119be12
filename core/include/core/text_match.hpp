// Substring text matching for searches that verify candidates on the message text (IMAP SEARCH,
// JMAP Email/query filters; RFC 3501 6.4.4, RFC 9051 6.4.4): case-insensitive by Unicode case
// folding of NFC text, diacritics kept: "CÔNG VĂN" finds "công văn" but not "cong van" nor
// "cộng vân". A search string written without any diacritic also matches the text with its
// diacritics dropped ("cong van" finds "Công văn"), as officials often type on keyboards
// without Vietnamese input, and as the search index answers.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "core/text.hpp"  // fold_case, fold_vietnamese

namespace govmail::core {

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
  // plain = fold_vietnamese(text), unused when the text is ASCII.
  static FoldedText prefolded(std::string cased, std::string plain, bool ascii);
  bool contains(const Needle& n);

 private:
  FoldedText() = default;
  std::string decoded_;
  std::optional<std::string> cased_, plain_;
  std::optional<bool> ascii_;
};

}  // namespace govmail::core
