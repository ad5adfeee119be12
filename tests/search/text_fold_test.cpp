#include "core/text_fold.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "core/text.hpp"

namespace govmail::core {
namespace {

using Words = std::vector<std::pair<std::string, std::string>>;

Words words_of(std::string_view text) {
  Words out;
  fold_words(text, [&](const FoldedWord& w) { out.emplace_back(w.folded, w.cased); });
  return out;
}

// The words as the index spells them (cased), one space after each.
std::string cased_of(std::string_view text) {
  std::string out;
  for (auto& [f, c] : words_of(text)) out += c + " ";
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
  EXPECT_EQ(w[3], (std::pair<std::string, std::string>{"123", "123"}));
  EXPECT_EQ(w[4].first, "ubnd");
  EXPECT_EQ(w[5].first, "vp");
  EXPECT_EQ(w[0].second, "công");
}

// Tone-mark placement variants fold alike; their cased words keep the spelling as written
// (ranked queries boost both placements: QueryTest.EitherTonePlacementRanksAboveTheUnaccented).
TEST(FoldWords, ToneMarkPlacementVariantsFoldAlike) {
  EXPECT_EQ(words_of("hòa")[0].first, words_of("hoà")[0].first);
  EXPECT_EQ(words_of("thuỷ")[0].first, "thuy");
  EXPECT_EQ(words_of("thủy")[0].first, "thuy");
  EXPECT_NE(cased_of("hòa"), cased_of("hoà"));
  EXPECT_EQ(cased_of("Hòa Bình"), cased_of("HÒA BÌNH"));
  EXPECT_NE(cased_of("hòa"), cased_of("hóa"));  // another tone is another word
}

TEST(FoldWords, NfdAndNfcAlike) {
  EXPECT_EQ(cased_of("Nguyễn Văn Đức"),
            cased_of("Nguye\xcc\x82\xcc\x83n Va\xcc\x86n \xc4\x90u\xcc\x9b\xcc\x81"
                     "c"));
  EXPECT_EQ(cased_of("Nguyễn Văn Đức"), "nguyễn văn đức ");
  EXPECT_EQ(words_of("đức")[0].first, "duc");
  EXPECT_NE(words_of("đức")[0].second, words_of("dức")[0].second);  // đ is a letter of its own
}

TEST(FoldWords, LongWordsAreCut) {
  std::string long_word(200, 'a');
  Words w = words_of(long_word + " b");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].first.size(), 64u);
}

struct Detail {
  std::string folded, cased;
  bool spaced, cut;
  char joiner;
};

std::vector<Detail> details_of(std::string_view text) {
  std::vector<Detail> out;
  fold_words(
      text,
      [&](const FoldedWord& w) {
        out.push_back({std::string(w.folded), std::string(w.cased), w.spaced, w.cut, w.joiner});
      },
      8);
  return out;
}

TEST(FoldWords, CasedFormSpacingAndCuts) {
  auto d = details_of("ĐỀ nghị,  Ban X\xcc\x81 abcdefghij");
  ASSERT_EQ(d.size(), 5u);
  EXPECT_EQ(d[0].cased, "đề");  // fold_case's form: marks kept, NFC, đ a letter of its own
  EXPECT_EQ(d[0].cased, fold_case("ĐỀ"));
  EXPECT_FALSE(d[0].spaced);  // the first word
  EXPECT_EQ(d[1].cased, "nghị");
  EXPECT_TRUE(d[1].spaced);
  EXPECT_EQ(d[2].cased, "ban");
  EXPECT_FALSE(d[2].spaced);  // ", " and two spaces
  EXPECT_EQ(d[2].joiner, '\0');
  EXPECT_EQ(d[3].cased, fold_case("X\xcc\x81"));  // NFD input composed
  EXPECT_TRUE(d[3].spaced);
  EXPECT_EQ(d[4].folded, "abcdefgh");
  EXPECT_TRUE(d[4].cut);
  EXPECT_FALSE(d[3].cut);
  std::string joiners;
  fold_words("45/QĐ-UBND x", [&](const FoldedWord& w) { joiners += w.joiner ? w.joiner : '_'; });
  EXPECT_EQ(joiners, "_/-_");
  // A letter with more marks than a word may keep: cut, and the key stays bounded.
  std::string zalgo = "a";
  for (int i = 0; i < 100; ++i) zalgo += "\xcc\x81";
  auto z = details_of(zalgo);
  ASSERT_EQ(z.size(), 1u);
  EXPECT_TRUE(z[0].cut);
  EXPECT_LT(z[0].cased.size(), 80u);
}

TEST(FoldWords, OtherScriptsAreWords) {
  Words w = words_of("Привет мир 中文");
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].first, "привет");
}

}  // namespace
}  // namespace govmail::core
