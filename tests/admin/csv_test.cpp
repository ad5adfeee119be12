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

TEST(Csv, OverlongQuotedFieldIsReportedAndTheNextRecordKeepsItsLine) {
  CsvLimits lim;
  lim.max_field_bytes = 8;
  // The long field spans lines 2-3 and its record goes on with a second quoted field over
  // lines 3-4; the next record starts on line 5.
  auto r = parse_csv("h,1\n\"0123456789\nabc\",\"x\ny\"\nnext,\"q\"\nlast,3\n", lim);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[1].line, 2u);
  EXPECT_NE(r[1].error.find("longer than 8 bytes"), std::string::npos);
  EXPECT_EQ(r[2].line, 5u);
  EXPECT_EQ(r[2].error, "");
  EXPECT_EQ(r[2].fields, (Fields{"next", "q"}));
  EXPECT_EQ(r[3].line, 6u);
  EXPECT_EQ(r[3].fields, (Fields{"last", "3"}));
}

TEST(Csv, ARecordOverALimitIsReadToItsEndQuotedNewlinesIncluded) {
  // A quoted field with a newline comes after the point where the limit is broken: the next
  // record still starts on line 3, not inside that field.
  CsvLimits field_limit, count_limit;
  field_limit.max_field_bytes = 8;
  count_limit.max_fields = 2;
  struct Case {
    std::string text;
    CsvLimits lim;
    std::string error;
  };
  for (const auto& c : {Case{"0123456789,\"a\nb\"\nnext,1\n", field_limit, "longer than 8 bytes"},
                        Case{"a,b,c,\"d\ne\"\nnext,1\n", count_limit, "more than 2 fields"}}) {
    auto r = parse_csv(c.text, c.lim);
    ASSERT_EQ(r.size(), 2u) << c.text;
    EXPECT_NE(r[0].error.find(c.error), std::string::npos) << r[0].error;
    EXPECT_EQ(r[1].line, 3u);
    EXPECT_EQ(r[1].error, "");
    EXPECT_EQ(r[1].fields, (Fields{"next", "1"}));
  }
}

TEST(Csv, UnterminatedQuoteDoesNotSwallowTheRowsAfterIt) {
  // The quote opened on line 3 never closes: that record is bad and reading resumes at line 4,
  // so the good rows after it are still listed (and the import refuses or skips only line 3).
  CsvLimits lim;
  lim.max_field_bytes = 8;
  for (std::string bad : {"\"open,3", "\"0123456789abcdef,3"}) {
    auto r = parse_csv("h,1\n\"a\nb\",2\n" + bad + "\nok,4\r\nok,5\n", lim);
    ASSERT_EQ(r.size(), 5u) << bad;
    EXPECT_EQ(r[1].line, 2u);
    EXPECT_EQ(r[1].fields, (Fields{"a\nb", "2"}));
    EXPECT_EQ(r[2].line, 4u);
    EXPECT_EQ(r[2].error, "unterminated quoted field");
    EXPECT_EQ(r[3].line, 5u);
    EXPECT_EQ(r[3].fields, (Fields{"ok", "4"}));
    EXPECT_EQ(r[4].line, 6u);
    EXPECT_EQ(r[4].fields, (Fields{"ok", "5"}));
  }
}

TEST(Csv, FirstFieldStartingWithBomRoundTrips) {
  Fields f{"\xEF\xBB\xBFname", "\xEF\xBB\xBF"};
  auto line = csv_line(f);
  EXPECT_EQ(line.front(), '"');
  auto r = parse_csv(line + "\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].error, "");
  EXPECT_EQ(r[0].fields, f);
}

TEST(Csv, LineRoundTrips) {
  Fields f{"plain", "a,b", "q\"q", "", " lead", "Nguyễn"};
  auto r = parse_csv(csv_line(f) + "\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].fields, f);
}

}  // namespace
}  // namespace govmail::admin
