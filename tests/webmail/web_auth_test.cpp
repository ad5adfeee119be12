// What requests carry for authentication (RFC 7617 Basic, RFC 6750 bearer, the session cookie,
// Origin), the session token primitives, and the URL helpers of the blob endpoints.
#include <gtest/gtest.h>

#include <set>

#include "auth/credentials.hpp"
#include "core/hex.hpp"
#include "jmap/url.hpp"

namespace govmail::webmail {
namespace {

using namespace auth;
using namespace jmap;

TEST(Credentials, BasicByTable) {
  // RFC 7617 2: "Aladdin:open sesame"
  auto c = parse_basic("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "Aladdin");
  EXPECT_EQ(c->password, "open sesame");
  auto colon = parse_basic("basic dTpwOnE=");  // "u:p:q": the password keeps its colon
  ASSERT_TRUE(colon);
  EXPECT_EQ(colon->password, "p:q");
  EXPECT_FALSE(parse_basic("Basic !!!"));
  EXPECT_FALSE(parse_basic("Basic dXNlcg=="));  // "user": no colon
  EXPECT_FALSE(parse_basic("Bearer abc"));
  EXPECT_FALSE(parse_basic(""));
}

TEST(Credentials, BearerAndCookie) {
  EXPECT_EQ(parse_bearer("Bearer abc.def"), "abc.def");
  EXPECT_EQ(parse_bearer("bearer  xyz "), "xyz");
  EXPECT_FALSE(parse_bearer("Bearer "));
  EXPECT_FALSE(parse_bearer("Basic abc"));
  EXPECT_FALSE(parse_bearer("Bearer " + std::string(600, 'a')));
  EXPECT_EQ(cookie_value("a=1; govmail_session=tok; b=2", "govmail_session"), "tok");
  EXPECT_EQ(cookie_value("govmail_session=tok", "govmail_session"), "tok");
  EXPECT_FALSE(cookie_value("xgovmail_session=tok", "govmail_session"));
  EXPECT_FALSE(cookie_value("", "govmail_session"));
}

TEST(Credentials, SameOriginComparesSchemeHostAndPort) {
  EXPECT_TRUE(same_origin("https://mail.example.gov.vn", "mail.example.gov.vn", true));
  EXPECT_TRUE(same_origin("http://127.0.0.1:8080", "127.0.0.1:8080", false));
  EXPECT_FALSE(same_origin("http://mail.example.gov.vn", "mail.example.gov.vn", true));
  EXPECT_FALSE(same_origin("https://evil.example", "mail.example.gov.vn", true));
  EXPECT_FALSE(same_origin("https://mail.example.gov.vn.evil", "mail.example.gov.vn", true));
  EXPECT_FALSE(same_origin("null", "mail.example.gov.vn", true));
  EXPECT_FALSE(same_origin("https://x", "", true));
}

TEST(Credentials, TokensAreRandomUrlSafeAndHashed) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string t = random_token();
    EXPECT_EQ(t.size(), 43u);
    EXPECT_EQ(
        t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_EQ(core::to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // FIPS 180-2
  EXPECT_TRUE(equal_secret("abc", "abc"));
  EXPECT_FALSE(equal_secret("abc", "abd"));
  EXPECT_FALSE(equal_secret("abc", "abcd"));
}

TEST(Credentials, SessionCookieAttributes) {
  std::string tls = session_cookie("T", 3600, true);
  EXPECT_EQ(tls, "govmail_session=T; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600; Secure");
  EXPECT_EQ(session_cookie("T", 60, false).find("Secure"), std::string::npos);
  EXPECT_NE(clear_session_cookie(true).find("Max-Age=0"), std::string::npos);
}

TEST(Url, QueryPathAndDisposition) {
  EXPECT_EQ(query_param("types=*&closeafter=no&ping=30", "ping"), "30");
  EXPECT_EQ(query_param("accept=image%2Fpng", "accept"), "image/png");
  EXPECT_EQ(query_param("a=1", "accept"), std::nullopt);
  EXPECT_EQ(query_param("accept=%zz", "accept"), std::nullopt);
  EXPECT_EQ(query_param("accept=%4", "accept"), std::nullopt);
  auto seg = path_segments("/jmap/download/a1/G00/t%E1%BB%9D%20tr%C3%ACnh.pdf", "/jmap/download/");
  ASSERT_TRUE(seg);
  EXPECT_EQ(*seg, (std::vector<std::string>{"a1", "G00", "tờ trình.pdf"}));
  EXPECT_FALSE(path_segments("/other/a1", "/jmap/download/"));
  EXPECT_TRUE(valid_media_type("application/pdf"));
  EXPECT_TRUE(valid_media_type("image/svg+xml"));
  EXPECT_FALSE(valid_media_type("text/html\r\nX-Evil: 1"));
  EXPECT_FALSE(valid_media_type("text"));
  EXPECT_FALSE(valid_media_type("/x"));
  EXPECT_EQ(content_disposition("report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf");
  std::string evil = content_disposition("a\"\r\nSet-Cookie: x.txt");
  EXPECT_EQ(evil.find('\r'), std::string::npos);
  EXPECT_EQ(evil.find('\n'), std::string::npos);
  EXPECT_EQ(content_disposition("tờ.pdf"),
            "attachment; filename=\"t___.pdf\"; filename*=UTF-8''t%E1%BB%9D.pdf");
}

}  // namespace
}  // namespace govmail::webmail
