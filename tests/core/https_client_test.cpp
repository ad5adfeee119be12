// The HTTPS client's pure parts; fetching itself is tested through the real binary
// (tests/integration/outbound_mta_sts_itest.py: 200, 404, redirect, media type, certificates).
#include "core/https_client.hpp"

#include <gtest/gtest.h>

namespace govmail::core {
namespace {

TEST(HttpsClient, MediaType) {
  EXPECT_EQ(media_type("text/plain"), "text/plain");
  EXPECT_EQ(media_type("Text/Plain; charset=utf-8"), "text/plain");
  EXPECT_EQ(media_type(" text/plain ;charset=\"x\""), "text/plain");
  EXPECT_EQ(media_type("text/html"), "text/html");
  EXPECT_EQ(media_type(""), "");
}

}  // namespace
}  // namespace govmail::core
