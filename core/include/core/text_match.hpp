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

namespace govmail::core {

// NFC, then Unicode default case folding (ICU), then NFC again. ASCII stays on a fast path.
std::string fold_case(std::string_view utf8);

struct Needle {
  explicit Needle(std::string_view utf8);
  std::string folded;  // fold_case
  bool plain = false;  // no diacritics: also matched on the diacritic-free fold of the text
};

// A decoded text, folded each way on first use.
class FoldedText {
 public:
  explicit FoldedText(std::string decoded) : decoded_(std::move(decoded)) {}
  bool contains(const Needle& n);

 private:
  std::string decoded_;
  std::optional<std::string> cased_, plain_;
};

}  // namespace govmail::core
