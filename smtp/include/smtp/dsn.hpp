// Delivery status notifications (RFC 3464 multipart/report) for recipients govmail accepted for
// a group but could not deliver to. Sans-I/O: the report's fields in, the message bytes out.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace govmail::smtp {

struct DsnRecipient {
  std::string original;         // Original-Recipient: the group address the sender used (or ORCPT)
  std::string final_recipient;  // the member's address
  std::string status;           // RFC 3463, "5.2.2"
  std::string diagnostic;       // "552 5.2.2 Mailbox full"
};

struct DsnReport {
  std::string reporting_host;  // Reporting-MTA, From: MAILER-DAEMON@host
  std::string to;              // the envelope sender the report goes to
  std::string queue_id;        // of the original transaction
  std::string envid;           // RFC 3461 ENVID= of the original, kept encoded (may be empty)
  std::string date;            // RFC 5322 date of the report
  std::string headers;         // header block of the original message (text/rfc822-headers)
  std::vector<DsnRecipient> recipients;
};

// The whole report message (CRLF line endings), with From:, To:, Subject:, Message-ID:,
// Auto-Submitted: auto-replied and a boundary derived from the queue id.
std::string make_failure_dsn(const DsnReport& report);

// The header block of a message: everything up to and including the empty line (or the whole
// message when it has no body).
std::string_view header_block(std::string_view message);

}  // namespace govmail::smtp
