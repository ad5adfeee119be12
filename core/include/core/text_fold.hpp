// Vietnamese-aware folding for search (the index, IMAP SEARCH, auditor search): one public,
// stable entry point so that every searcher folds text the same way.
//
//   fold_search("Công văn số 123/UBND-VP")  -> "cong van so 123/ubnd-vp"
//   fold_words(...)  -> ("cong","cong~\u0302"), ("van","van~\u0306"), ("so","so~\u0301"),
//                       ("123",""), ("ubnd",""), ("vp","")
//
// The fold: NFC/NFD alike, tone and vowel marks dropped, đ/Đ -> d, lower-cased. Table-driven for
// Latin (53-204 MiB/s measured, NOTES-LIBRARIES.md); other scripts are lower-cased with ICU.
#pragma once
#include <functional>
#include <string>
#include <string_view>

namespace govmail::core {

// The whole text folded (same characters as the input but marks: punctuation and spaces stay).
std::string fold_search(std::string_view utf8);

// True when the text has any mark that fold_search drops (or a đ/Đ): an "accented" query.
bool has_marks(std::string_view utf8);

// The words of a text: runs of letters and digits of its fold, in order. For each word:
//   folded  the folded word (marks dropped, đ -> d);
// and what the search index needs to answer a substring search exactly:
//   cased   the word as core::fold_case gives it (case folded, marks kept, NFC);
//   spaced  exactly one ' ' separates it from the word before (false for the first word);
//   joiner  the one ASCII punctuation character that alone separates it from the word before
//           ('/' before "UBND" in "123/UBND"), else '\0';
//   cut     the word was longer than max_word_bytes (folded; it is cut there) or had more marks
//           than a word keeps (the index cannot vouch for it).
struct FoldedWord {
  std::string_view folded, cased;
  bool spaced = false, cut = false;
  char joiner = '\0';
};
using FoldedWordSink = std::function<void(const FoldedWord&)>;
void fold_words(std::string_view utf8, const FoldedWordSink& sink, std::size_t max_word_bytes = 64);

}  // namespace govmail::core
