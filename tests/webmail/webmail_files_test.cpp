// The webmail's static files: the embedded index page, its headers, caching and gzip.
#include <zlib.h>

#include <gtest/gtest.h>

#include "webmail/files.hpp"

namespace govmail::webmail {
namespace {

core::HttpRequest get(std::string path, std::string query = {}) {
  core::HttpRequest r;
  r.method = "GET";
  r.path = std::move(path);
  r.query = std::move(query);
  r.target = r.path + (r.query.empty() ? "" : "?" + r.query);
  return r;
}

std::string header(const core::HttpResponse& r, std::string_view name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return {};
}

std::string gunzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

TEST(WebmailFiles, RootIsTheIndexPageWithAStrictPolicy) {
  WebmailFiles files;
  auto r = files.answer(get("/"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("<!doctype html>"), std::string::npos);
  const std::string csp = header(r, "Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos);  // no inline, no eval
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
  // The version marker is replaced, so assets are asked for with ?v=<version>.
  EXPECT_EQ(r.body.find("__GOVMAIL_V__"), std::string::npos);
  EXPECT_NE(r.body.find("?v=" + files.version()), std::string::npos);
}

TEST(WebmailFiles, ScriptsHaveTheirTypeAndVersionedOnesAreImmutable) {
  WebmailFiles files;
  auto r = files.answer(get("/app.js", "v=" + files.version()));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(header(r, "Cache-Control"), "public, max-age=31536000, immutable");
  auto stale = files.answer(get("/app.js", "v=000000000000"));
  EXPECT_EQ(header(stale, "Cache-Control"), "no-cache");
  EXPECT_EQ(files.answer(get("/app.css")).content_type, "text/css; charset=utf-8");
}

TEST(WebmailFiles, GzipWhenAcceptedAndTheSameBytesUnpacked) {
  WebmailFiles files;
  auto plain = files.answer(get("/app.js"));
  auto req = get("/app.js");
  req.headers.emplace_back("Accept-Encoding", "gzip, deflate, br");
  auto packed = files.answer(req);
  EXPECT_EQ(header(packed, "Content-Encoding"), "gzip");
  EXPECT_EQ(header(packed, "Vary"), "Accept-Encoding");
  EXPECT_LT(packed.body.size(), plain.body.size());
  EXPECT_EQ(gunzip(packed.body), plain.body);
  EXPECT_EQ(header(plain, "Content-Encoding"), "");
}

TEST(WebmailFiles, IfNoneMatchGivesNotModified) {
  WebmailFiles files;
  auto first = files.answer(get("/"));
  const std::string etag = header(first, "ETag");
  ASSERT_EQ(etag.front(), '"');
  auto req = get("/");
  req.headers.emplace_back("If-None-Match", etag);
  auto again = files.answer(req);
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  req.headers.back().second = "\"0000000000000000\"";
  EXPECT_EQ(files.answer(req).status, 200);
}

TEST(WebmailFiles, UnknownPathsAndTraversalAre404) {
  WebmailFiles files;
  EXPECT_EQ(files.answer(get("/nope.js")).status, 404);
  EXPECT_EQ(files.answer(get("/../CMakeLists.txt")).status, 404);
  EXPECT_EQ(files.answer(get("/index.html/")).status, 404);
}

}  // namespace
}  // namespace govmail::webmail
