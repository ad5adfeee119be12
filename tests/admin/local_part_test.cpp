#include "admin/local_part.hpp"

#include <gtest/gtest.h>

namespace govmail::admin {
namespace {

TEST(LocalPart, DefaultPatternTable) {
  struct Case {
    const char* name;
    const char* local;
  } cases[] = {
      {"Nguyễn Quang Vinh", "vinhnq"},
      {"Trần Thị Thu Hương", "huongttt"},
      {"Đặng Văn Đức", "ducdv"},
      {"ĐỖ THỊ ĐÀO", "daodt"},
      {"  Lê   Văn  Tám ", "tamlv"},
      {"Phạm Hà", "hap"},
      {"Vũ", "vu"},
      {"Hoàng Thị Hoà", "hoaht"},
      {"Hoàng Thị Hòa", "hoaht"},  // other tone-mark placement
      {"Nguyễn Văn A2", "a2nv"},
      {"Bùi-Thị Ngọc", "ngocbt"},
      {"", ""},
      {"!!!", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(local_part_from_name(c.name), c.local) << c.name;
}

TEST(LocalPart, DecomposedInputGivesTheSameLocalPart) {
  // "Nguyễn" with combining marks (NFD) and "Đ" as U+0110.
  EXPECT_EQ(local_part_from_name("Nguye\xCC\x82\xCC\x83n Quang Vinh"), "vinhnq");
  EXPECT_EQ(local_part_from_name("\xC4\x90\xC4\x83ng V\xC4\x83n \xC4\x90\xE1\xBB\xA9"
                                 "c"),
            "ducdv");
}

TEST(LocalPart, OtherPatterns) {
  EXPECT_EQ(local_part_from_name("Nguyễn Quang Vinh", "{given}.{surname}"), "vinh.nguyen");
  EXPECT_EQ(local_part_from_name("Nguyễn Quang Vinh", "{surname}{middle}{given}"),
            "nguyenquangvinh");
  EXPECT_EQ(local_part_from_name("Nguyễn Vinh", "{given}.{middle}"), "vinh");
  EXPECT_EQ(local_part_from_name("Trần Thị Thu Hương", "{all}"), "tranthithuhuong");
  EXPECT_FALSE(validate_pattern("{given}{initials}"));
  EXPECT_TRUE(validate_pattern("{given}{nope}"));
  EXPECT_TRUE(validate_pattern("{given"));
  EXPECT_TRUE(validate_pattern("plain"));
  EXPECT_TRUE(validate_pattern("{given}@x"));
}

TEST(LocalPart, CollisionsAreNumberedFromTwo) {
  std::unordered_set<std::string> taken;
  EXPECT_EQ(first_free("vinhnq", taken), "vinhnq");
  taken.insert("vinhnq");
  EXPECT_EQ(first_free("vinhnq", taken), "vinhnq2");
  taken.insert("vinhnq2");
  taken.insert("vinhnq3");
  EXPECT_EQ(first_free("vinhnq", taken), "vinhnq4");
}

}  // namespace
}  // namespace govmail::admin
