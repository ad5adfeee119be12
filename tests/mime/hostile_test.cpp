// Hostile structures: bounded time and memory, no crash, limits reported as warnings.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "mime_test_util.hpp"

namespace {

using namespace mimetest;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string nested_multiparts(int levels) {
  std::string raw = "From: a@b.vn\r\nSubject: deep\r\n";
  for (int i = 0; i < levels; ++i) {
    raw += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\r\n\r\n--b" +
           std::to_string(i) + "\r\n";
  }
  raw += "Content-Type: text/plain\r\n\r\ninnermost\r\n";
  for (int i = levels - 1; i >= 0; --i) raw += "--b" + std::to_string(i) + "--\r\n";
  return raw;
}

TEST(mimeHostile, FiftyThousandNestedMultiparts) {
  const std::string raw = nested_multiparts(50000);
  EXPECT_GT(raw.size(), 3u << 20);
  const auto start = Clock::now();
  const View v = parse(raw);
  const double took = seconds_since(start);
  std::printf("50,000 nested multiparts, %zu bytes: %.3f s\n", raw.size(), took);
  EXPECT_LT(took, 5.0);  // the target is well under a second in Release; Debug/ASan are slower
  const std::size_t parts = check_offsets(raw, v.body);
  EXPECT_EQ(parts, 101u);  // max_depth 100: levels 0..99 are multiparts, the 101st is opaque
  bool depth_warning = false;
  for (const auto& w : v.msg.warnings) depth_warning |= w.find("max_depth") != std::string::npos;
  EXPECT_TRUE(depth_warning);
  // The deepest described part is an opaque leaf that still ends where its parent's part ends.
  const json* p = &v.body;
  while (p->contains("parts")) p = &(*p)["parts"][0];
  EXPECT_TRUE((*p)["opaque"].get<bool>());
  EXPECT_EQ((*p)["section"].get<std::string>().size(), 2u * 100 - 1);  // "1.1.....1"
}

TEST(mimeHostile, NestedMessagesAndSmallDepthLimit) {
  std::string raw;
  for (int i = 0; i < 20000; ++i) raw += "Content-Type: message/rfc822\r\n\r\n";
  raw += "Subject: bottom\r\n\r\nx\r\n";
  govmail::store::MimeLimits limits;
  limits.max_depth = 10;
  const auto start = Clock::now();
  const View v = parse(raw, limits);
  std::printf("20,000 nested message/rfc822: %.3f s\n", seconds_since(start));
  EXPECT_EQ(check_offsets(raw, v.body), 11u);
}

TEST(mimeHostile, OneMegabyteOfHeaders) {
  std::string raw;
  while (raw.size() < (1u << 20)) raw += "X-Filler: " + std::string(40, 'x') + "\r\n";
  raw += "Subject: " + std::string(100000, 's') + "\r\n";  // one huge header
  raw += "To: " + std::string(200000, ',') + "a@b\r\n";    // a huge address list
  raw += "References:" + std::string(100000, '<') + "\r\n\r\nbody\r\n";
  const auto start = Clock::now();
  const View v = parse(raw);
  std::printf("1 MB of headers: %.3f s\n", seconds_since(start));
  EXPECT_LT(seconds_since(start), 5.0);
  EXPECT_EQ(v.body["body_offset"].get<std::size_t>(), raw.size() - 6);
  EXPECT_FALSE(v.msg.warnings.empty());  // more than max_headers header lines
  // Headers past max_headers are not described, so Subject is not seen.
  EXPECT_TRUE(v.env["subject"]["raw"].is_null());

  govmail::store::MimeLimits limits;
  limits.max_headers = 1000000;
  const View all = parse(raw, limits);
  EXPECT_EQ(all.msg.subject, std::string(100000, 's'));
  EXPECT_EQ(all.env["to"].size(), 1u);
}

TEST(mimeHostile, ManyPartsCappedByMaxParts) {
  std::string raw = "Content-Type: multipart/mixed; boundary=p\r\n\r\n";
  for (int i = 0; i < 30000; ++i) raw += "--p\r\n\r\nx\r\n";
  raw += "--p--\r\n";
  govmail::store::MimeLimits limits;
  limits.max_parts = 500;
  const auto start = Clock::now();
  const View v = parse(raw, limits);
  std::printf("30,000 parts (max_parts 500): %.3f s\n", seconds_since(start));
  EXPECT_EQ(v.body["parts"].size(), 499u);  // the multipart itself is one of the 500
  EXPECT_EQ(v.body["end_offset"], raw.size());
  EXPECT_FALSE(v.msg.warnings.empty());
}

TEST(mimeHostile, SearchTextBounded) {
  std::string raw = "Content-Type: text/plain; charset=utf-8\r\n\r\n";
  for (int i = 0; i < 100000; ++i) raw += "Nguy\u1EC5n ";
  govmail::store::MimeLimits limits;
  limits.max_search_text = 1001;
  const View v = parse(raw, limits);
  EXPECT_LE(v.msg.search_text.size(), 1001u);
  EXPECT_GE(v.msg.search_text.size(), 995u);
  // Cut on a character boundary: still valid UTF-8 ending in a whole "ễ" or ASCII.
  EXPECT_EQ(json(v.msg.search_text).dump().find("\\ufffd"), std::string::npos);
}

TEST(mimeHostile, LongBoundaryLikeLines) {
  std::string raw = "Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n\r\n";
  for (int i = 0; i < 2000; ++i) raw += "--" + std::string(1000, 'q') + "\r\n";
  raw += "--q--\r\n";
  const View v = parse(raw);
  EXPECT_EQ(check_offsets(raw, v.body), 2u);
}

}  // namespace
