// dump_json must give nlohmann's dump(-1, ' ', false, replace) byte for byte: JMAP clients and the
// webmail parse what it writes, and the session state is a hash of serialised JSON.
#include "jmap/json_writer.hpp"

#include <gtest/gtest.h>

#include <random>

namespace govmail::webmail::jmap {
namespace {

using Json = nlohmann::json;

std::string reference(const Json& v) {
  return v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

TEST(JsonWriterTest, EscapesAsNlohmannDoes) {
  using namespace std::string_literals;
  const std::vector<std::string> texts = {
      "",
      "plain ascii",
      "Công văn số 123/UBND-VP về việc đề nghị",
      "quote \" backslash \\ slash / del \x7f",
      "controls \x01\x02\b\t\n\f\r\x1f end",
      "nul \0 inside"s,  // the NUL is part of the string
      "4 bytes: \xF0\x9F\x93\xA7 and U+10FFFF \xF4\x8F\xBF\xBF",
      "bad: \xC3\x28 here",  // a lead byte without its continuation
      "overlong \xC0\xAF and \xE0\x80\xAF",
      "surrogate \xED\xA0\x80",
      "above U+10FFFF \xF4\x90\x80\x80",
      "cut at the end \xE1\xBB",
      "lone continuation \x80 byte",
  };
  for (const auto& t : texts) {
    EXPECT_EQ(dump_json(Json(t)), reference(Json(t))) << t;
    Json keyed = {{t, t}};
    EXPECT_EQ(dump_json(keyed), reference(keyed)) << t;
  }
}

TEST(JsonWriterTest, WritesEveryTypeAsNlohmannDoes) {
  Json doc = {{"null", nullptr},
              {"t", true},
              {"f", false},
              {"neg", -9223372036854775807LL - 1},
              {"big", 18446744073709551615ULL},
              {"zero", 0},
              {"float", 0.1},
              {"exp", 1e300},
              {"empty_array", Json::array()},
              {"empty_object", Json::object()},
              {"nested", {{"a", {1, "two", {{"three", 3.5}}, nullptr}}}},
              {"binary", Json::binary({1, 2, 3}, 7)}};
  EXPECT_EQ(dump_json(doc), reference(doc));
}

// Random documents of random bytes (mostly UTF-8 text with some broken sequences), compared with
// the reference: a difference in any branch of the writer shows here.
TEST(JsonWriterTest, RandomDocumentsMatchTheReference) {
  std::mt19937 rng(20261206);
  const std::vector<std::string> pieces = {"a",
                                           "Z",
                                           " ",
                                           "\"",
                                           "\\",
                                           "\n",
                                           "\x01",
                                           "\x7f",
                                           "đ",
                                           "ế",
                                           "ữ",
                                           "\xF0\x9F\x98\x80",
                                           "\xC3",
                                           "\xA9",
                                           "\xED",
                                           "\xF4\x90",
                                           "\xE0\x9F\x80",
                                           "\xFF"};
  auto text = [&] {
    std::string s;
    const int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) s += pieces[rng() % pieces.size()];
    return s;
  };
  std::function<Json(int)> make = [&](int depth) -> Json {
    switch (depth > 3 ? rng() % 4 : rng() % 6) {
      case 0:
        return text();
      case 1:
        return static_cast<std::int64_t>(rng()) - (1LL << 31);
      case 2:
        return rng() % 2 == 0;
      case 3:
        return nullptr;
      case 4: {
        Json a = Json::array();
        for (int i = static_cast<int>(rng() % 4); i > 0; --i) a.push_back(make(depth + 1));
        return a;
      }
      default: {
        Json o = Json::object();
        for (int i = static_cast<int>(rng() % 4); i > 0; --i) o[text()] = make(depth + 1);
        return o;
      }
    }
  };
  for (int i = 0; i < 2000; ++i) {
    const Json doc = make(0);
    ASSERT_EQ(dump_json(doc), reference(doc)) << "document " << i;
  }
}

}  // namespace
}  // namespace govmail::webmail::jmap
