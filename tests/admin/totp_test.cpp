#include "admin/totp.hpp"

#include <gtest/gtest.h>

namespace govmail::admin {
namespace {

// RFC 6238 appendix B, SHA1 key "12345678901234567890" (base32 below), 8 digits there: the last
// 6 digits are the 6-digit code.
constexpr const char* kSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

TEST(Totp, Rfc6238Vectors) {
  EXPECT_EQ(totp_code(kSecret, 59), "287082");
  EXPECT_EQ(totp_code(kSecret, 1111111109), "081804");
  EXPECT_EQ(totp_code(kSecret, 1234567890), "005924");
  EXPECT_EQ(totp_code(kSecret, 20000000000), "353130");
}

TEST(Totp, VerifyAcceptsOneStepOfDriftOnly) {
  auto code = *totp_code(kSecret, 1111111109);
  EXPECT_TRUE(totp_verify(kSecret, code, 1111111109));
  EXPECT_TRUE(totp_verify(kSecret, code, 1111111109 + 30));
  EXPECT_FALSE(totp_verify(kSecret, code, 1111111109 + 90));
  EXPECT_FALSE(totp_verify(kSecret, "000000", 1111111109));
  EXPECT_FALSE(totp_verify(kSecret, "08180", 1111111109));
  EXPECT_FALSE(totp_verify("not base32!", code, 1111111109));
}

TEST(Totp, MatchNamesTheStepOfTheCode) {
  auto code = *totp_code(kSecret, 1111111109);  // step 37037036
  EXPECT_EQ(totp_match(kSecret, code, 1111111109), 37037036);
  EXPECT_EQ(totp_match(kSecret, code, 1111111109 + 30), 37037036);  // the previous step's code
  EXPECT_EQ(totp_match(kSecret, code, 1111111109 - 30), 37037036);  // the next step's code
  EXPECT_EQ(totp_match(kSecret, code, 1111111109 + 90), std::nullopt);
}

TEST(Totp, NewSecretsAreRandomBase32) {
  auto a = new_totp_secret(), b = new_totp_secret();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(totp_code(a, 0).has_value());
  EXPECT_NE(otpauth_uri("govmail", "x@y.vn", a).find("secret=" + a), std::string::npos);
}

}  // namespace
}  // namespace govmail::admin
