// SEARCH text matching before the index (imap/src/text_match.cpp): case folding with diacritics
// kept, the diacritic-free fallback for strings typed without them, decoded header fields.
#include <gtest/gtest.h>

#include <chrono>

#include "imap/src/text_match.hpp"

namespace govmail::imap {
namespace {

TEST(FoldCase, UnicodeCaseFoldingKeepsDiacriticsInNfc) {
  EXPECT_EQ(fold_case("CÔNG VĂN ĐẾN"), "công văn đến");
  EXPECT_EQ(fold_case("Ủy Ban"), "ủy ban");
  EXPECT_EQ(fold_case("Co\u0302ng"), "công");  // NFD in, NFC out
  EXPECT_EQ(fold_case("ABC xyz"), "abc xyz");
  EXPECT_EQ(fold_case("Straße"), "strasse");  // full folding, as i;unicode-casemap
}

TEST(FoldedText, MatchesCaseInsensitivelyWithDiacriticsKept) {
  FoldedText t("Kính gửi Công văn đến số 5");
  EXPECT_TRUE(t.contains(Needle("CÔNG VĂN")));
  EXPECT_TRUE(t.contains(Needle("co\u0302ng")));  // NFD search string
  EXPECT_FALSE(t.contains(Needle("công vân")));   // another diacritic is another word
  EXPECT_FALSE(t.contains(Needle("cộng")));
  EXPECT_TRUE(t.contains(Needle("")));
  // Typed without any diacritic: the diacritic-free fold of the text matches too.
  EXPECT_TRUE(Needle("cong van").plain);
  EXPECT_FALSE(Needle("công").plain);
  EXPECT_TRUE(t.contains(Needle("CONG VAN DEN")));
  EXPECT_TRUE(t.contains(Needle("kinh gui")));
  EXPECT_FALSE(t.contains(Needle("cong vanx")));
}

// A needle built to defeat naive search still costs linear time.
TEST(FoldedText, LongNeedlesInLinearTime) {
  FoldedText t(std::string(4u << 20, 'a'));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(t.contains(Needle(std::string(60000, 'a') + "b")));
  EXPECT_FALSE(t.contains(Needle("b" + std::string(60000, 'a'))));
  EXPECT_TRUE(t.contains(Needle(std::string(60000, 'a'))));
  // A naive search compares ~10^11 bytes here (minutes); linear search takes milliseconds.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  FoldedText v("xx công văn số 5");
  EXPECT_TRUE(v.contains(Needle("CÔNG VĂN SỐ 5")));
  EXPECT_TRUE(v.contains(Needle("cong van so 5")));
}

TEST(DecodedHeaderText, UnfoldsAndDecodesEncodedWords) {
  const std::string block =
      "Subject: =?UTF-8?Q?C=C3=B4ng?=\r\n =?UTF-8?Q?_v=C4=83n?=\r\nX-A:  b\r\n"
      "x-a: =?utf-8?B?xJDhur9u?=\r\n\r\nBody: not a header\r\n";
  EXPECT_EQ(decoded_header_text(block), "Subject: Công văn\nX-A: b\nx-a: Đến\n");
  EXPECT_EQ(decoded_header_text(block, "X-A"), "b\nĐến\n");
  EXPECT_EQ(decoded_header_text(block, "BODY"), "");
  EXPECT_EQ(decoded_header_text("Raw: Nguyễn\n"), "Raw: Nguyễn\n");  // 8-bit UTF-8 kept
}

}  // namespace
}  // namespace govmail::imap
