// core/text.hpp: NFC, the Vietnamese search fold and UTF-8 sanitising.
#include <gtest/gtest.h>

#include <string>

#include "core/text.hpp"

namespace {

using govmail::core::ascii_fold;
using govmail::core::fold_vietnamese;
using govmail::core::nfc;
using govmail::core::sanitize_utf8;

// "Nguyễn" precomposed (NFC) and decomposed (NFD: e + U+0302 circumflex + U+0303 tilde).
const std::string kNguyenNfc = "Nguy\u1EC5n";
const std::string kNguyenNfd = "Nguye\u0302\u0303n";

TEST(mimeTextNfc, ComposesDecomposedVietnamese) {
  EXPECT_NE(kNguyenNfc, kNguyenNfd);
  EXPECT_EQ(nfc(kNguyenNfd), kNguyenNfc);
  EXPECT_EQ(nfc(kNguyenNfc), kNguyenNfc);
  // Marks of the same combining class are not reordered: tilde-then-circumflex is a different
  // string, but it folds the same.
  EXPECT_NE(nfc("Nguye\u0303\u0302n"), kNguyenNfc);
  EXPECT_EQ(fold_vietnamese("Nguye\u0303\u0302n"), "nguyen");
}

TEST(mimeTextNfc, AsciiUnchangedAndInvalidReplaced) {
  EXPECT_EQ(nfc("plain ascii"), "plain ascii");
  EXPECT_EQ(nfc(std::string("a\xFF"
                            "b",
                            3)),
            "a\uFFFDb");
  EXPECT_EQ(nfc(std::string("a\0b", 3)), "ab");
}

TEST(mimeTextFold, VietnameseTable) {
  struct Case {
    std::string in, want;
  } cases[] = {
      {kNguyenNfc, "nguyen"},
      {kNguyenNfd, "nguyen"},
      {"NGUY\u1EC4N", "nguyen"},
      {"\u0110\u1ED7 \u0111\u1EE9c", "do duc"},  // Đỗ đức
      {"C\u00F4ng v\u0103n s\u1ED1 12", "cong van so 12"},
      {"Th\u01B0\u1EDDng tr\u1EF1c", "thuong truc"},  // ư, ờ, ự
      {"MiXeD CaSe", "mixed case"},
      {"", ""},
      {"\u0391\u03B8\u03AE\u03BD\u03B1",
       "\u03B1\u03B8\u03B7\u03BD\u03B1"},  // Greek: lowered, tonos gone
      {"\u4E2D\u6587", "\u4E2D\u6587"},    // CJK unchanged
  };
  for (const Case& c : cases) EXPECT_EQ(fold_vietnamese(c.in), c.want) << c.in;
}

TEST(mimeTextFold, NfcAndNfdGiveSameFold) {
  const std::string text = "Qu\u1EA3ng Tr\u1ECB, \u0110\u00E0 N\u1EB5ng";
  EXPECT_EQ(fold_vietnamese(text), fold_vietnamese(std::string(nfc(text))));
  EXPECT_EQ(fold_vietnamese(text), "quang tri, da nang");
}

TEST(mimeTextFold, AsciiFoldDropsTheRest) {
  EXPECT_EQ(ascii_fold("Nguy\u1EC5n Quang Vinh"), "nguyen quang vinh");
  EXPECT_EQ(ascii_fold("L\u00EA \u4E2D x"), "le  x");
}

TEST(mimeTextSanitize, KeepsValidReplacesInvalid) {
  EXPECT_EQ(sanitize_utf8(kNguyenNfc), kNguyenNfc);
  EXPECT_EQ(sanitize_utf8("\uFFFD"), "\uFFFD");
  EXPECT_EQ(sanitize_utf8(std::string("\xC0\xAF", 2)), "\uFFFD\uFFFD");            // overlong
  EXPECT_EQ(sanitize_utf8(std::string("\xED\xA0\x80", 3)), "\uFFFD\uFFFD\uFFFD");  // surrogate
  EXPECT_EQ(sanitize_utf8(std::string("\xE1\xBB", 2)), "\uFFFD\uFFFD");            // truncated
  // Runs of valid bytes around dropped NULs and replaced bytes keep their order.
  EXPECT_EQ(sanitize_utf8(std::string("ab\0c\xFF"
                                      "d\u1EC5\0",
                                      10)),
            "abc\uFFFDd\u1EC5");
  EXPECT_EQ(sanitize_utf8(std::string("\0\0", 2)), "");
  // Long ASCII runs (scanned eight bytes at a time) with a NUL, a valid and an invalid sequence.
  const std::string a(21, 'a'), b(19, 'b'), c(15, 'c');
  EXPECT_EQ(sanitize_utf8(a + std::string(1, '\0') + b + "\xC3\xA9" + c + "\xFF" + a),
            a + b + "\xC3\xA9" + c + "\uFFFD" + a);
  EXPECT_EQ(sanitize_utf8(a + b + c), a + b + c);
  EXPECT_EQ(nfc(a + b), a + b);
  EXPECT_EQ(nfc(a + std::string(1, '\0') + b), a + b);
}

}  // namespace

TEST(DomainToAscii, FoldsToTheDirectoryForm) {
  using govmail::core::domain_to_ascii;
  EXPECT_EQ(domain_to_ascii("local.gov.vn"), "local.gov.vn");
  EXPECT_EQ(domain_to_ascii("LOCAL.Gov.VN."), "local.gov.vn");
  EXPECT_EQ(domain_to_ascii("local.gov.vn.."), "local.gov.vn");
  EXPECT_EQ(domain_to_ascii("\uFF4Cocal.gov.vn"), "local.gov.vn");  // full-width l
  EXPECT_EQ(domain_to_ascii("b\xE1\xBB\x99.gov.vn"), domain_to_ascii("B\xE1\xBB\x98.GOV.VN"));
  EXPECT_EQ(domain_to_ascii("b\xE1\xBB\x99.gov.vn")->substr(0, 4), "xn--");
  EXPECT_EQ(domain_to_ascii(*domain_to_ascii("b\xE1\xBB\x99.gov.vn")),
            domain_to_ascii("b\xE1\xBB\x99.gov.vn"));  // A-labels stay
  EXPECT_FALSE(domain_to_ascii(""));
  EXPECT_FALSE(domain_to_ascii("a\xFF.vn"));
}
