// RFC 3834 automatic replies: what may be answered, who was named, and the reply's headers.
#include <gtest/gtest.h>

#include "core/mail_date.hpp"
#include "store/auto_reply.hpp"
#include "store/header_fields.hpp"
#include "store/mime.hpp"

namespace {

using govmail::store::AutoReply;
using govmail::store::build_auto_reply;
using govmail::store::may_auto_reply;
using govmail::store::names_recipient;

const std::string kPlain =
    "From: an@x.gov.vn\r\nTo: Lan <lan@x.gov.vn>, b@y.vn\r\nSubject: "
    "=?UTF-8?B?Q8O0bmcgdsSDbg==?=\r\n"
    "Message-ID: <m1@x.gov.vn>\r\nReferences: <r0@x.gov.vn>\r\n\r\nbody\r\n";

TEST(AutoReply, OrdinaryMailMayBeAnswered) {
  EXPECT_TRUE(may_auto_reply("an@x.gov.vn", kPlain));
  EXPECT_TRUE(may_auto_reply("an@x.gov.vn", "Auto-Submitted: no\r\n" + kPlain));
}

TEST(AutoReply, WhatRfc3834ForbidsIsNotAnswered) {
  EXPECT_FALSE(may_auto_reply("", kPlain));  // the null reverse-path
  EXPECT_FALSE(may_auto_reply("MAILER-DAEMON@x.vn", kPlain));
  EXPECT_FALSE(may_auto_reply("owner-list@x.vn", kPlain));
  EXPECT_FALSE(may_auto_reply("list-request@x.vn", kPlain));
  for (const char* h : {"Auto-Submitted: auto-generated\r\n", "Auto-Submitted: Auto-Replied\r\n",
                        "Precedence: bulk\r\n", "Precedence: LIST\r\n", "Precedence: junk\r\n",
                        "List-Id: <tin.x.vn>\r\n", "List-Unsubscribe: <mailto:u@x.vn>\r\n"})
    EXPECT_FALSE(may_auto_reply("an@x.gov.vn", std::string(h) + kPlain)) << h;
  // A header in the body is not a header.
  EXPECT_TRUE(may_auto_reply("an@x.gov.vn", kPlain + "Precedence: bulk\r\n"));
}

TEST(AutoReply, OnlyToAndCcNameTheRecipient) {
  EXPECT_TRUE(names_recipient(kPlain, {"LAN@x.gov.vn"}));
  EXPECT_TRUE(names_recipient("Cc: lan@x.gov.vn\r\n\r\n", {"lan@x.gov.vn"}));
  EXPECT_FALSE(names_recipient(kPlain, {"binh@x.gov.vn"}));
  EXPECT_FALSE(names_recipient("Bcc: lan@x.gov.vn\r\n\r\n", {"lan@x.gov.vn"}));
  EXPECT_TRUE(names_recipient("To: team: lan@x.gov.vn, b@y.vn;\r\n\r\n", {"lan@x.gov.vn"}));
}

TEST(AutoReply, ReplyCarriesThreadingAndAutoSubmitted) {
  AutoReply r;
  r.from = "lan@x.gov.vn";
  r.to = "an@x.gov.vn";
  r.text_body = "Tôi nghỉ phép";
  r.date = govmail::core::rfc5322_date(std::chrono::system_clock::from_time_t(0));
  r.message_id = "v1@host";
  const std::string out = build_auto_reply(r, kPlain);
  using govmail::store::header_values;
  EXPECT_EQ(header_values(out, "Auto-Submitted"), std::vector<std::string>{"auto-replied"});
  EXPECT_EQ(header_values(out, "In-Reply-To"), std::vector<std::string>{"<m1@x.gov.vn>"});
  EXPECT_EQ(header_values(out, "References"),
            std::vector<std::string>{"<r0@x.gov.vn> <m1@x.gov.vn>"});
  EXPECT_EQ(header_values(out, "Date"),
            std::vector<std::string>{"Thu, 01 Jan 1970 00:00:00 +0000"});
  ASSERT_EQ(header_values(out, "Subject").size(), 1u);
  EXPECT_EQ(govmail::store::decode_header_text(header_values(out, "Subject").front()),
            "Auto: Công văn");
  const auto parsed = govmail::store::parse_message(out);
  EXPECT_NE(parsed.search_text.find("Tôi nghỉ phép"), std::string::npos);
}

TEST(AutoReply, HeaderInjectionThroughTheSubjectIsFlattened) {
  AutoReply r;
  r.from = "lan@x.gov.vn";
  r.to = "an@x.gov.vn";
  r.subject = "Away\r\nBcc: victim@x.vn";
  r.date = "d";
  r.message_id = "v2@host";
  const std::string out = build_auto_reply(r, kPlain);
  EXPECT_TRUE(govmail::store::header_values(out, "Bcc").empty());
  EXPECT_EQ(govmail::store::header_values(out, "Subject").size(), 1u);
}

}  // namespace
