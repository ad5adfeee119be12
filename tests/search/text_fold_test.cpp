#include "core/text_fold.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace govmail::core {
namespace {

using Words = std::vector<std::pair<std::string, std::string>>;

Words words_of(std::string_view text) {
  Words out;
  fold_words(text, [&](std::string_view f, std::string_view k) { out.emplace_back(f, k); });
  return out;
}

std::string keys_of(std::string_view text) {
  std::string out;
  for (auto& [f, k] : words_of(text)) out += (k.empty() ? f : k) + " ";
  return out;
}

TEST(FoldSearch, DropsMarksAndFoldsDStroke) {
  EXPECT_EQ(fold_search("Công văn số 123/UBND-VP"), "cong van so 123/ubnd-vp");
  EXPECT_EQ(fold_search("ĐỒNG THỜI Đề nghị"), "dong thoi de nghi");
  EXPECT_EQ(fold_search("Nguyễn"), "nguyen");
  // NFD input (macOS clients): the same fold.
  EXPECT_EQ(fold_search("Nguye\xcc\x82\xcc\x83n"), "nguyen");
}

TEST(HasMarks, AccentedOrNot) {
  EXPECT_TRUE(has_marks("công"));
  EXPECT_TRUE(has_marks("đi"));
  EXPECT_TRUE(has_marks("Nguye\xcc\x82\xcc\x83n"));
  EXPECT_FALSE(has_marks("cong van"));
  EXPECT_FALSE(has_marks("123/UBND"));
}

TEST(FoldWords, SplitsOnPunctuationKeepsDigits) {
  Words w = words_of("Công văn số 123/UBND-VP.");
  ASSERT_EQ(w.size(), 6u);
  EXPECT_EQ(w[0].first, "cong");
  EXPECT_EQ(w[3], (std::pair<std::string, std::string>{"123", ""}));
  EXPECT_EQ(w[4].first, "ubnd");
  EXPECT_EQ(w[5].first, "vp");
  EXPECT_EQ(w[0].second, "cong~\xcc\x82");  // U+0302 circumflex
}

TEST(FoldWords, ToneMarkPlacementVariantsGiveOneKey) {
  EXPECT_EQ(keys_of("hòa"), keys_of("hoà"));
  EXPECT_EQ(keys_of("thuỷ"), keys_of("thủy"));
  EXPECT_EQ(keys_of("Hòa Bình"), keys_of("HOÀ BÌNH"));
  EXPECT_NE(keys_of("hòa"), keys_of("hóa"));  // another tone is another word
  EXPECT_NE(keys_of("hòa"), keys_of("hoa"));
}

TEST(FoldWords, NfdAndNfcAlike) {
  EXPECT_EQ(keys_of("Nguyễn Văn Đức"),
            keys_of("Nguye\xcc\x82\xcc\x83n Va\xcc\x86n \xc4\x90u\xcc\x9b\xcc\x81"
                    "c"));
  EXPECT_EQ(words_of("đức")[0].first, "duc");
  EXPECT_NE(words_of("đức")[0].second, words_of("dức")[0].second);  // đ is a mark of its own
}

TEST(FoldWords, LongWordsAreCut) {
  std::string long_word(200, 'a');
  Words w = words_of(long_word + " b");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].first.size(), 64u);
}

TEST(FoldWords, OtherScriptsAreWords) {
  Words w = words_of("Привет мир 中文");
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].first, "привет");
}

}  // namespace
}  // namespace govmail::core
