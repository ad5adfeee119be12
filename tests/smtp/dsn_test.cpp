// RFC 3464 reports built without I/O: structure, per-recipient blocks, the returned headers.
#include <gtest/gtest.h>

#include "smtp/dsn.hpp"

namespace govmail::smtp {
namespace {

TEST(SmtpDsn, HeaderBlockStopsAtTheEmptyLine) {
  EXPECT_EQ(header_block("A: 1\r\nB: 2\r\n\r\nbody\r\n\r\nmore"), "A: 1\r\nB: 2\r\n\r\n");
  EXPECT_EQ(header_block("A: 1\r\n"), "A: 1\r\n");
  EXPECT_EQ(header_block("\r\nbody"), "\r\n");
}

TEST(SmtpDsn, FailureReportIsAMultipartReport) {
  DsnReport r;
  r.reporting_host = "mx.so.gov.vn";
  r.to = "ba@bo.vn";
  r.queue_id = "ABC123";
  r.date = "Sat, 21 Nov 2026 10:00:00 +0000";
  r.headers = "From: ba@bo.vn\r\nSubject: x\r\n\r\n";
  r.recipients = {{"phong@so.gov.vn", "an@so.gov.vn", "5.2.2", "552 5.2.2 Mailbox full", "", ""},
                  {"phong@so.gov.vn", "binh@so.gov.vn", "5.2.2", "552 5.2.2 Mailbox full", "", ""}};
  const std::string m = make_failure_dsn(r);
  const std::string b = "=_govmail-dsn-ABC123";
  EXPECT_EQ(
      m.rfind("From: Mail Delivery System <MAILER-DAEMON@mx.so.gov.vn>\r\nTo: <ba@bo.vn>\r\n", 0),
      0u);
  EXPECT_NE(m.find("Auto-Submitted: auto-replied\r\n"), std::string::npos);
  EXPECT_NE(m.find("boundary=\"" + b + "\"\r\n\r\n"), std::string::npos);
  // Three parts in order, then the closing boundary at the very end.
  auto text = m.find("--" + b +
                     "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: base64\r\n\r\n");
  auto status = m.find("--" + b +
                       "\r\nContent-Type: message/delivery-status\r\n\r\n"
                       "Reporting-MTA: dns; mx.so.gov.vn\r\n\r\n"
                       "Original-Recipient: rfc822;phong@so.gov.vn\r\n"
                       "Final-Recipient: rfc822;an@so.gov.vn\r\nAction: failed\r\n"
                       "Status: 5.2.2\r\nDiagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n\r\n"
                       "Original-Recipient: rfc822;phong@so.gov.vn\r\n"
                       "Final-Recipient: rfc822;binh@so.gov.vn\r\n");
  auto headers = m.find("--" + b + "\r\nContent-Type: text/rfc822-headers\r\n\r\n" + r.headers +
                        "\r\n--" + b + "--\r\n");
  ASSERT_NE(text, std::string::npos) << m;
  ASSERT_NE(status, std::string::npos) << m;
  ASSERT_NE(headers, std::string::npos) << m;
  EXPECT_LT(text, status);
  EXPECT_LT(status, headers);
  EXPECT_TRUE(m.ends_with("--" + b + "--\r\n"));
  EXPECT_EQ(m.find("Original-Envelope-Id"), std::string::npos);
}

}  // namespace
}  // namespace govmail::smtp
