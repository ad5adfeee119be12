// parse_message: envelope, bodystructure with exact offsets, search text, charsets, malformed mail.
#include <gtest/gtest.h>

#include <iconv.h>

#include "mime/crosscheck.hpp"
#include "mime_test_util.hpp"

namespace {

using namespace mimetest;

// ---------------------------------------------------------------- envelope

struct SubjectCase {
  const char* header;
  const char* raw;
  const char* decoded;
};

TEST(mimeEnvelope, SubjectDecodingTable) {
  const SubjectCase cases[] = {
      {"Subject: =?UTF-8?B?Q8O0bmcgdsSDbiBz4buRIDEy?=", "=?UTF-8?B?Q8O0bmcgdsSDbiBz4buRIDEy?=",
       "C\u00F4ng v\u0103n s\u1ED1 12"},
      {"Subject: =?utf-8?q?H=E1=BB=8Dp_giao_ban?=", "=?utf-8?q?H=E1=BB=8Dp_giao_ban?=",
       "H\u1ECDp giao ban"},
      // Two adjacent encoded words: the white space between them disappears (RFC 2047 6.2).
      {"Subject: =?UTF-8?Q?Nguy=E1=BB=85n?= =?UTF-8?Q?_V=C4=83n?=",
       "=?UTF-8?Q?Nguy=E1=BB=85n?= =?UTF-8?Q?_V=C4=83n?=", "Nguy\u1EC5n V\u0103n"},
      // Raw 8-bit UTF-8, decomposed (NFD): raw kept byte-exact, decoded composed.
      {"Subject: Nguye\u0302\u0303n", "Nguye\u0302\u0303n", "Nguy\u1EC5n"},
      // Folded header: unfolded by removing the line break only.
      {"Subject: first\r\n second", "first second", "first second"},
      // ISO-8859-1 encoded word.
      {"Subject: =?ISO-8859-1?Q?caf=E9?=", "=?ISO-8859-1?Q?caf=E9?=", "caf\u00E9"},
      {"Subject: plain", "plain", "plain"},
  };
  for (const SubjectCase& c : cases) {
    const View v = parse(crlf("From: a@b.vn\n") + c.header + "\r\n\r\nbody\r\n");
    EXPECT_EQ(v.env["subject"]["raw"], c.raw) << c.header;
    EXPECT_EQ(v.env["subject"]["decoded"], c.decoded) << c.header;
    EXPECT_EQ(v.msg.subject, c.decoded) << c.header;
  }
}

TEST(mimeEnvelope, AddressesNamesAndDefaults) {
  const View v = parse(data_file("simple.eml"));
  const json& from = v.env["from"];
  ASSERT_EQ(from.size(), 1u);
  EXPECT_EQ(from[0]["name"], "=?UTF-8?B?Tmd1eeG7hW4gVsSDbiBB?=");  // raw phrase, for IMAP
  EXPECT_EQ(from[0]["name_decoded"], "Nguy\u1EC5n V\u0103n A");
  EXPECT_TRUE(from[0]["adl"].is_null());
  EXPECT_EQ(from[0]["mailbox"], "nva");
  EXPECT_EQ(from[0]["host"], "sotttt.gov.vn");
  // Sender and Reply-To absent: both default to From (RFC 3501).
  EXPECT_EQ(v.env["sender"], from);
  EXPECT_EQ(v.env["reply_to"], from);
  const json& to = v.env["to"];
  ASSERT_EQ(to.size(), 2u);
  EXPECT_EQ(to[0]["name"], "Tran, B");  // quoted phrase with a comma, unquoted
  EXPECT_EQ(to[0]["mailbox"], "b");
  EXPECT_EQ(to[1]["name"], "Le C");  // "addr (comment)" form
  EXPECT_EQ(to[1]["host"], "bo.gov.vn");
  EXPECT_TRUE(v.env["cc"].is_null());
  EXPECT_TRUE(v.env["bcc"].is_null());
  EXPECT_TRUE(v.env["in_reply_to"]["raw"].is_null());
  EXPECT_EQ(v.env["message_id"]["raw"], "<abc123@sotttt.gov.vn>");
  EXPECT_EQ(v.env["date"]["raw"], "Tue, 04 Mar 2025 09:15:00 +0700");
  EXPECT_EQ(v.env["date"]["unix"], 1741054500);
  EXPECT_EQ(v.msg.date, 1741054500);
  EXPECT_EQ(v.msg.message_id, "abc123@sotttt.gov.vn");
  EXPECT_EQ(v.msg.from_address, "nva@sotttt.gov.vn");
}

TEST(mimeEnvelope, GroupSyntax) {
  const View v =
      parse(crlf("From: a@b.vn\n"
                 "To: undisclosed-recipients:;\n"
                 "Cc: Ban Giam Doc: x@b.vn, \"Y\" <y@b.vn>;, z@c.vn\n\nbody\n"));
  const json& to = v.env["to"];
  ASSERT_EQ(to.size(), 2u);
  EXPECT_EQ(to[0]["mailbox"], "undisclosed-recipients");
  EXPECT_TRUE(to[0]["host"].is_null());
  EXPECT_TRUE(to[1]["mailbox"].is_null());
  EXPECT_TRUE(to[1]["host"].is_null());
  const json& cc = v.env["cc"];
  ASSERT_EQ(cc.size(), 5u);
  EXPECT_EQ(cc[0]["mailbox"], "Ban Giam Doc");
  EXPECT_TRUE(cc[0]["host"].is_null());
  EXPECT_EQ(cc[1]["mailbox"], "x");
  EXPECT_EQ(cc[2]["name"], "Y");
  EXPECT_TRUE(cc[3]["mailbox"].is_null() && cc[3]["host"].is_null());
  EXPECT_EQ(cc[4]["host"], "c.vn");
}

// What IMAP shows for the spoof forms of issue 11 is what SMTP's From: check reads (one parser).
TEST(mimeEnvelope, ObsoleteAddressFormsAreShownJoined) {
  const View v =
      parse(crlf("From: Boss <boss @ local . gov . vn>\n"
                 "Sender: boss@\n local.gov.vn\n"
                 "Reply-To: <@relay.vn:\"boss\"@local.gov.vn>\n\nbody\n"));
  EXPECT_EQ(v.env["from"][0]["mailbox"], "boss");
  EXPECT_EQ(v.env["from"][0]["host"], "local.gov.vn");
  EXPECT_EQ(v.env["sender"][0]["host"], "local.gov.vn");
  EXPECT_EQ(v.env["reply_to"][0]["adl"], "@relay.vn");
  EXPECT_EQ(v.env["reply_to"][0]["mailbox"], "boss");
  EXPECT_EQ(v.env["reply_to"][0]["host"], "local.gov.vn");
  EXPECT_EQ(v.msg.from_address, "boss@local.gov.vn");
}

TEST(mimeEnvelope, Raw8BitUtf8NameAndIds) {
  const View v =
      parse(crlf("From: Nguy\u1EC5n V\u0103n A <nva@b.vn>\n"
                 "Sender: bot@b.vn\n"
                 "In-Reply-To: <p1@b.vn> (comment)\n"
                 "References: <r0@b.vn>\n <r1@b.vn>\t<p1@b.vn>\n"
                 "Subject: \n\nbody\n"));
  EXPECT_EQ(v.env["from"][0]["name"], "Nguy\u1EC5n V\u0103n A");
  EXPECT_EQ(v.env["from"][0]["name_decoded"], "Nguy\u1EC5n V\u0103n A");
  EXPECT_EQ(v.env["sender"][0]["mailbox"], "bot");
  EXPECT_EQ(v.env["reply_to"], v.env["from"]);
  EXPECT_EQ(v.msg.in_reply_to, "p1@b.vn");
  EXPECT_EQ(v.msg.references, (std::vector<std::string>{"r0@b.vn", "r1@b.vn", "p1@b.vn"}));
  EXPECT_EQ(v.env["subject"]["raw"], "");
  EXPECT_TRUE(v.env["date"]["raw"].is_null());
  EXPECT_FALSE(v.msg.date.has_value());
  EXPECT_TRUE(v.env["to"].is_null());
}

// ---------------------------------------------------------------- bodystructure

TEST(mimeBodyStructure, SinglePartHandComputedOffsets) {
  // "From: a@b\r\n" = 11 bytes, "Content-Type: text/plain; charset=utf-8\r\n" = 41, "\r\n" = 2:
  // the body starts at 54 and "hello\r\nworld\r\n" is 14 bytes.
  const std::string raw =
      crlf("From: a@b\nContent-Type: text/plain; charset=utf-8\n\nhello\nworld\n");
  const View v = parse(raw);
  const json& b = v.body;
  EXPECT_EQ(b["section"], "1");
  EXPECT_EQ(b["type"], "text");
  EXPECT_EQ(b["subtype"], "plain");
  EXPECT_EQ(b["params"], json::parse(R"([["charset","utf-8"]])"));
  EXPECT_EQ(b["encoding"], "7BIT");
  EXPECT_EQ(b["header_offset"], 0);
  EXPECT_EQ(b["body_offset"], 54);
  EXPECT_EQ(b["end_offset"], 68);
  EXPECT_EQ(b["size"], 14);
  EXPECT_EQ(b["lines"], 2);
  EXPECT_EQ(b["charset"], "utf-8");
  EXPECT_TRUE(b["disposition"].is_null());
  EXPECT_TRUE(b["md5"].is_null());
  EXPECT_EQ(v.msg.search_text, "hello\r\nworld\r\n");
}

TEST(mimeBodyStructure, DefaultContentType) {
  const View v = parse(crlf("Subject: x\n\nbody\n"));
  EXPECT_EQ(v.body["type"], "text");
  EXPECT_EQ(v.body["subtype"], "plain");
  EXPECT_EQ(v.body["params"], json::parse(R"([["charset","us-ascii"]])"));
}

TEST(mimeBodyStructure, MixedWithRfc2231Attachment) {
  const std::string raw = data_file("mixed_attachment.eml");
  const View v = parse(raw);
  EXPECT_EQ(check_offsets(raw, v.body), 3u);
  const json& root = v.body;
  EXPECT_EQ(root["section"], "");
  EXPECT_EQ(root["type"], "multipart");
  EXPECT_EQ(root["subtype"], "mixed");
  EXPECT_EQ(root["params"], json::parse(R"([["boundary","=_mixed_001"]])"));
  ASSERT_EQ(root["parts"].size(), 2u);
  const json& text = root["parts"][0];
  EXPECT_EQ(text["section"], "1");
  EXPECT_EQ(text["encoding"], "8BIT");
  EXPECT_EQ(
      slice(raw, text, "header_offset", "body_offset"),
      "Content-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
  EXPECT_EQ(slice(raw, text, "body_offset", "end_offset"),
            "G\u1EEDi k\u00E8m c\u00F4ng v\u0103n s\u1ED1 12.");
  EXPECT_EQ(text["lines"], 1);
  const json& pdf = root["parts"][1];
  EXPECT_EQ(pdf["section"], "2");
  EXPECT_EQ(pdf["type"], "application");
  EXPECT_EQ(pdf["subtype"], "pdf");
  EXPECT_EQ(pdf["encoding"], "BASE64");
  EXPECT_EQ(pdf["filename"], "C\u00F4ng v\u0103n s\u1ED1 12.pdf");
  EXPECT_EQ(pdf["id"], "<pdf1@ubnd>");
  EXPECT_EQ(pdf["language"], json::parse(R"(["vi","en"])"));
  EXPECT_EQ(pdf["disposition"]["type"], "attachment");
  EXPECT_EQ(pdf["disposition"]["params"][0][0], "filename*");
  EXPECT_TRUE(pdf["lines"].is_null());
  // The body ends right before the CRLF that precedes the close delimiter.
  EXPECT_EQ(raw.substr(pdf["end_offset"].get<std::size_t>(), 17), "\r\n--=_mixed_001--");
  ASSERT_EQ(v.msg.attachments.size(), 1u);
  EXPECT_EQ(v.msg.attachments[0].section, "2");
  EXPECT_EQ(v.msg.attachments[0].filename, "C\u00F4ng v\u0103n s\u1ED1 12.pdf");
  EXPECT_EQ(v.msg.attachments[0].content_type, "application/pdf");
  EXPECT_EQ(v.msg.attachments[0].size, 9u + 1024u);
  EXPECT_NE(v.msg.search_text.find("G\u1EEDi k\u00E8m"), std::string::npos);
  EXPECT_NE(v.msg.search_text.find("C\u00F4ng v\u0103n s\u1ED1 12.pdf"), std::string::npos);
  EXPECT_EQ(v.msg.search_text.find("PDF"), std::string::npos);  // binary not indexed
  EXPECT_TRUE(v.msg.warnings.empty()) << v.msg.warnings[0];
}

TEST(mimeBodyStructure, AlternativeIndexesOneTextAndStripsHtml) {
  const std::string raw = data_file("alternative.eml");
  const View v = parse(raw);
  EXPECT_EQ(check_offsets(raw, v.body), 3u);
  EXPECT_EQ(v.body["subtype"], "alternative");
  EXPECT_EQ(v.body["parts"][1]["subtype"], "html");
  EXPECT_EQ(v.msg.search_text, "Xin ch\u00E0o H\u00E0 N\u1ED9i");
}

TEST(mimeHtmlText, TagsScriptsEntities) {
  const std::string raw = crlf(
      "Content-Type: text/html; charset=utf-8\n\n"
      "<html><head><style>p {color:red}</style><script>var x = 1;</script></head><body>"
      "<p>Xin ch&agrave;o <b>H\u00E0 N\u1ED9i</b> &amp; Hu\u1EBF&nbsp;&#272;&#x00E0; N&#7861;ng</p>"
      "<!-- hidden --></body></html>\n");
  const View v = parse(raw);
  // &agrave; is not in the small entity table and stays as written; <p> and </p> break lines.
  EXPECT_EQ(v.msg.search_text,
            "\nXin ch&agrave;o H\u00E0 N\u1ED9i & Hu\u1EBF \u0110\u00E0 N\u1EB5ng\n\r\n");
}

TEST(mimeBodyStructure, NestedMessageRfc822) {
  const std::string raw = data_file("forward.eml");
  const View v = parse(raw);
  EXPECT_EQ(check_offsets(raw, v.body), 6u);
  const json* msg = find_section(v.body, "2");
  ASSERT_NE(msg, nullptr);
  EXPECT_EQ((*msg)["type"], "message");
  EXPECT_EQ((*msg)["subtype"], "rfc822");
  EXPECT_TRUE((*msg)["lines"].is_number());
  const json& m = (*msg)["message"];
  EXPECT_EQ(m["envelope"]["subject"]["decoded"], "B\u00E1o c\u00E1o tu\u1EA7n");
  EXPECT_EQ(m["envelope"]["message_id"]["raw"], "<inner-1@tinh.gov.vn>");
  // BODY[2.HEADER] and BODY[2.TEXT] straight from the offsets.
  const std::string header =
      raw.substr(m["header_offset"].get<std::size_t>(),
                 m["body_offset"].get<std::size_t>() - m["header_offset"].get<std::size_t>());
  EXPECT_EQ(header.substr(0, 25), "From: Pham D <d@tinh.gov.");
  EXPECT_EQ(header.substr(header.size() - 5), "\"\r\n\r\n");
  EXPECT_EQ(m["body"]["section"], "2");  // the embedded multipart has the message's number
  EXPECT_EQ(m["body"]["subtype"], "alternative");
  const json* inner_html = find_section(v.body, "2.2");
  ASSERT_NE(inner_html, nullptr);
  EXPECT_EQ(slice(raw, *inner_html, "body_offset", "end_offset"),
            "<p>B\u00E1o c\u00E1o tu\u1EA7n 10.</p>");
  EXPECT_EQ(slice(raw, *inner_html, "header_offset", "body_offset"),
            "Content-Type: text/html; charset=utf-8\r\n\r\n");
  EXPECT_EQ(v.msg.in_reply_to, "x1@a");
  EXPECT_EQ(v.msg.references, (std::vector<std::string>{"x0@a", "x1@a"}));
  // Forwarded text is searchable; the inner alternative is indexed once.
  EXPECT_EQ(v.msg.search_text, "See attached.\nB\u00E1o c\u00E1o tu\u1EA7n 10.");
  EXPECT_TRUE(v.msg.warnings.empty());
}

TEST(mimeBodyStructure, BareLfNestedOffsetsHandComputed) {
  const std::string raw = data_file("lf_only.eml");
  ASSERT_EQ(raw.find('\r'), std::string::npos);
  const View v = parse(raw);
  EXPECT_EQ(check_offsets(raw, v.body), 6u);
  // Hand-computed: the header block is 80 bytes ("From: a@b.vn\n" 13 + "Subject: bare LF\n" 17 +
  // "Content-Type: multipart/mixed; boundary=LF1\n" 44 + "\n" 1 = 75), then "pre\n" (4) and
  // "--LF1\n" (6): part 1 starts at 85.
  EXPECT_EQ(v.body["body_offset"], 75);
  const json* p1 = find_section(v.body, "1");
  ASSERT_NE(p1, nullptr);
  EXPECT_EQ((*p1)["header_offset"], 85);
  EXPECT_EQ((*p1)["body_offset"], 85 + 30);  // "Content-Type: message/rfc822\n\n"
  const json* one = find_section(v.body, "1.1");
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(slice(raw, *one, "header_offset", "body_offset"), "\n");  // no header lines
  EXPECT_EQ(slice(raw, *one, "body_offset", "end_offset"), "inner one");
  const json* two = find_section(v.body, "1.2");
  EXPECT_EQ(slice(raw, *two, "body_offset", "end_offset"), "inner two");
  const json* last = find_section(v.body, "2");
  EXPECT_EQ(slice(raw, *last, "body_offset", "end_offset"), "last");
  // The message/rfc822 body runs to the CRLF-less LF before "--LF1".
  EXPECT_EQ(raw.substr((*p1)["end_offset"].get<std::size_t>(), 6), "\n--LF1");
}

TEST(mimeBodyStructure, PreambleEpilogueExcludedFromParts) {
  const std::string raw =
      crlf("Content-Type: multipart/mixed; boundary=b\n\npreamble\n--b\n\nA\n--b--\nepilogue\n");
  const View v = parse(raw);
  ASSERT_EQ(v.body["parts"].size(), 1u);
  EXPECT_EQ(slice(raw, v.body["parts"][0], "body_offset", "end_offset"), "A");
  EXPECT_EQ(slice(raw, v.body, "body_offset", "end_offset"),
            "preamble\r\n--b\r\n\r\nA\r\n--b--\r\nepilogue\r\n");
}

TEST(mimeBodyStructure, DigestDefaultsToMessageRfc822) {
  const std::string raw = data_file("digest.eml");
  const View v = parse(raw);
  ASSERT_EQ(v.body["parts"].size(), 2u);
  EXPECT_EQ(v.body["parts"][0]["type"], "message");
  EXPECT_EQ(v.body["parts"][0]["message"]["envelope"]["subject"]["raw"], "first");
  EXPECT_EQ(v.body["parts"][1]["message"]["body"]["section"], "2.1");
}

// The offsets scanner agrees with GMime's own parser on every well-formed sample: same parts,
// same types, and decoding raw[body_offset, end_offset) gives GMime's decoded content.
TEST(mimeBodyStructure, CrossCheckWithGMime) {
  for (const char* name : {"simple.eml", "mixed_attachment.eml", "alternative.eml", "forward.eml",
                           "cp1258.eml", "lf_only.eml", "digest.eml", "no_final_boundary.eml"}) {
    const std::string raw = data_file(name);
    ASSERT_FALSE(raw.empty()) << name;
    const auto gmime = govmail::store::mime::gmime_outline(raw);
    EXPECT_FALSE(gmime.empty()) << name;
    EXPECT_EQ(govmail::store::mime::offsets_outline(raw), gmime) << name;
  }
}

// ---------------------------------------------------------------- charsets

TEST(mimeCharset, Windows1258CombiningMarksComeOutNfc) {
  const View v = parse(data_file("cp1258.eml"));
  // 0xEA 0xDE = ê + combining tilde; 0xE3 = ă; 0xD0 = Đ; 0xF4 = ô.
  EXPECT_EQ(v.msg.search_text, "Nguy\u1EC5n V\u0103n \u0110\u00F4\r\n");
  EXPECT_TRUE(v.msg.warnings.empty());
}

std::string iconv_from_utf8(const std::string& utf8, const char* to) {
  iconv_t cd = iconv_open(to, "UTF-8");
  EXPECT_NE(cd, reinterpret_cast<iconv_t>(-1)) << to;
  std::string out(utf8.size() * 4, '\0');
  char* in = const_cast<char*>(utf8.data());
  std::size_t in_left = utf8.size();
  char* dst = out.data();
  std::size_t dst_left = out.size();
  EXPECT_NE(iconv(cd, &in, &in_left, &dst, &dst_left), static_cast<std::size_t>(-1)) << to;
  iconv(cd, nullptr, nullptr, &dst, &dst_left);
  iconv_close(cd);
  out.resize(out.size() - dst_left);
  return out;
}

TEST(mimeCharset, LegacyCharsetsTable) {
  const std::string text = "Tr\u01B0\u1EDDng \u0110\u1EA1i h\u1ECDc Hu\u1EBF";
  const struct {
    const char* iconv_name;
    const char* label;
  } cases[] = {{"VISCII", "VISCII"},
               {"TCVN5712-1", "tcvn5712-1"},
               {"CP1258", "windows-1258"},
               {"UTF-16LE", "utf-16le"}};
  for (const auto& c : cases) {
    const std::string body = iconv_from_utf8(text, c.iconv_name);
    ASSERT_NE(body, text);
    const std::string raw = "Content-Type: text/plain; charset=\"" + std::string(c.label) +
                            "\"\r\nContent-Transfer-Encoding: binary\r\n\r\n" + body;
    const View v = parse(raw);
    EXPECT_EQ(v.msg.search_text, text) << c.label;
  }
  const std::string latin2 = "P\u0159\u00EDli\u0161 \u017Elu\u0165ou\u010Dk\u00FD";
  const View v = parse("Content-Type: text/plain; charset=iso-8859-2\r\n\r\n" +
                       iconv_from_utf8(latin2, "ISO-8859-2"));
  EXPECT_EQ(v.msg.search_text, latin2);
}

TEST(mimeCharset, UnknownCharsetWarnsAndKeepsText) {
  const View v = parse(crlf("Content-Type: text/plain; charset=x-no-such\n\nabc\n"));
  EXPECT_EQ(v.msg.search_text, "abc\r\n");
  ASSERT_FALSE(v.msg.warnings.empty());
  EXPECT_NE(v.msg.warnings[0].find("unknown charset"), std::string::npos);
}

TEST(mimeCharset, Unlabelled8BitReadAsWindows1258) {
  const View v = parse(std::string("Subject: x\r\n\r\nNguy\xEA\xDEn\r\n"));
  EXPECT_EQ(v.msg.search_text, "Nguy\u1EC5n\r\n");
}

// ---------------------------------------------------------------- malformed

TEST(mimeMalformed, NoFinalBoundary) {
  const std::string raw = data_file("no_final_boundary.eml");
  const View v = parse(raw);
  EXPECT_EQ(check_offsets(raw, v.body), 3u);
  const json& last = v.body["parts"][1];
  EXPECT_EQ(last["end_offset"], raw.size());
  EXPECT_EQ(slice(raw, last, "body_offset", "end_offset"),
            "second, and the message just stops\r\n");
  ASSERT_FALSE(v.msg.warnings.empty());
  EXPECT_NE(v.msg.warnings[0].find("no closing boundary"), std::string::npos);
}

TEST(mimeMalformed, GarbageHeaders) {
  const std::string raw = data_file("garbage_headers.eml");
  const View v = parse(raw);
  check_offsets(raw, v.body);
  EXPECT_EQ(v.env["from"][0]["mailbox"], "a");  // mbox "From " line skipped
  // The non-header line ends the header block: Content-Type after it is body text.
  EXPECT_EQ(slice(raw, v.body, "body_offset", "end_offset").substr(0, 25),
            "this line is not a header");
  EXPECT_FALSE(v.msg.warnings.empty());
  EXPECT_EQ(v.env["subject"]["raw"], "=?bogus-charset?Q?abc?=");
}

TEST(mimeMalformed, NulBytesTruncationAndEmpty) {
  const std::string with_nul("Subject: a\0b\r\nFrom: x\0@y\r\n\r\nbo\0dy\r\n", 36);
  const View v = parse(with_nul);
  EXPECT_EQ(v.env["subject"]["raw"], "ab");  // NUL never reaches JSON or text columns
  EXPECT_EQ(v.msg.search_text.find('\0'), std::string::npos);
  EXPECT_EQ(v.body["end_offset"], with_nul.size());

  const std::string full = data_file("mixed_attachment.eml");
  for (std::size_t cut : {0ul, 1ul, 20ul, 150ul, 260ul, 400ul, 900ul, full.size() - 3}) {
    const std::string raw = full.substr(0, cut);
    const View t = parse(raw);
    check_offsets(raw, t.body);
  }
}

TEST(mimeMalformed, MultipartWithoutBoundaryOrParts) {
  View v = parse(crlf("Content-Type: multipart/mixed\n\nno boundary here\n"));
  EXPECT_EQ(v.body["type"], "application");
  EXPECT_EQ(v.body["opaque_type"], "multipart/mixed");
  v = parse(crlf("Content-Type: multipart/mixed; boundary=zz\n\nnever a delimiter\n"));
  EXPECT_EQ(v.body["type"], "application");
  EXPECT_TRUE(v.body["opaque"].get<bool>());
  EXPECT_FALSE(v.msg.warnings.empty());
}

TEST(mimeMalformed, InvalidUtf8InHeadersBecomesReplacement) {
  const View v = parse(std::string("Subject: caf\xE9\r\nFrom: \xFF <a@b>\r\n\r\nx"));
  EXPECT_EQ(v.env["subject"]["raw"], "caf\uFFFD");
  EXPECT_FALSE(v.env["subject"]["decoded"].get<std::string>().empty());
}

}  // namespace
