#include "admin/csv.hpp"

#include <gtest/gtest.h>

namespace govmail::admin {
namespace {

using Fields = std::vector<std::string>;

TEST(Csv, PlainQuotedAndCrlf) {
  auto r = parse_csv("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\r\n\"multi\nline\",2,3\n");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].fields, (Fields{"a", "b", "c"}));
  EXPECT_EQ(r[1].fields, (Fields{"x, y", "say \"hi\"", ""}));
  EXPECT_EQ(r[1].line, 2u);
  EXPECT_EQ(r[2].fields, (Fields{"multi\nline", "2", "3"}));
  EXPECT_EQ(r[2].line, 3u);
  for (const auto& rec : r) EXPECT_EQ(rec.error, "");
}

TEST(Csv, BomIsSkippedAndBlankLinesIgnored) {
  auto r = parse_csv(
      "\xEF\xBB\xBF"
      "full_name,unit_code\n\nNguyễn Quang Vinh,25237\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].fields[0], "full_name");
  EXPECT_EQ(r[1].line, 3u);
  EXPECT_EQ(r[1].fields[0], "Nguyễn Quang Vinh");
}

TEST(Csv, BadRecordsKeepTheirLineAndTheReaderGoesOn) {
  auto r = parse_csv("a,b\nx\"y,1\nok,\"q\"z\n\xC3\x28,1\nfine,2\n\"open,3\n");
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[1].line, 2u);
  EXPECT_NE(r[1].error.find("quote"), std::string::npos);
  EXPECT_EQ(r[2].line, 3u);
  EXPECT_NE(r[2].error.find("quote"), std::string::npos);
  EXPECT_EQ(r[3].line, 4u);
  EXPECT_EQ(r[3].error, "malformed UTF-8");
  EXPECT_EQ(r[4].line, 5u);
  EXPECT_EQ(r[4].error, "");
  EXPECT_EQ(r[4].fields, (Fields{"fine", "2"}));
  EXPECT_EQ(r[5].line, 6u);
  EXPECT_EQ(r[5].error, "unterminated quoted field");
}

TEST(Csv, Utf8Validation) {
  EXPECT_TRUE(valid_utf8("Trần Thị Thu Hương"));
  EXPECT_FALSE(valid_utf8("\xC0\x80"));          // overlong NUL
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(valid_utf8("\xE1\xBB"));          // truncated
  EXPECT_FALSE(valid_utf8("\xF5\x80\x80\x80"));  // above U+10FFFF
  EXPECT_TRUE(valid_utf8("\xF0\x9F\x98\x80"));
}

TEST(Csv, FieldLimit) {
  CsvLimits lim;
  lim.max_field_bytes = 8;
  auto r = parse_csv("short,123456789012\nnext,1\n", lim);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_NE(r[0].error.find("longer"), std::string::npos);
  EXPECT_EQ(r[1].fields, (Fields{"next", "1"}));
}

TEST(Csv, LineRoundTrips) {
  Fields f{"plain", "a,b", "q\"q", "", " lead", "Nguyễn"};
  auto r = parse_csv(csv_line(f) + "\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].fields, f);
}

}  // namespace
}  // namespace govmail::admin
