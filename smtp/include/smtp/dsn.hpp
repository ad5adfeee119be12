// Delivery status notifications (RFC 3464 multipart/report): for group members left out at
// delivery, and for remote recipients that failed, are delayed, or were relayed to a server
// that does not report on its own. Sans-I/O: the report's fields in, the message bytes out.
// The human-readable part is in Vietnamese and English (base64, so that it survives any hop).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace govmail::smtp {

enum class DsnKind { failed, delayed, relayed };

struct DsnRecipient {
  std::string original;          // Original-Recipient: the address the sender used (or ORCPT)
  std::string final_recipient;   // the address delivery was attempted to
  std::string status;            // RFC 3463, "5.2.2"
  std::string diagnostic;        // "552 5.2.2 Mailbox full" (the remote reply or local reason)
  std::string remote_mta;        // Remote-MTA: host that gave the reply ("" when none)
  std::string will_retry_until;  // delayed only: RFC 5322 date of the last attempt
};

struct DsnReport {
  DsnKind kind = DsnKind::failed;
  std::string reporting_host;  // Reporting-MTA, From: MAILER-DAEMON@host
  std::string to;              // the envelope sender the report goes to
  std::string queue_id;        // of the original transaction
  std::string envid;           // RFC 3461 ENVID= of the original, kept encoded (may be empty)
  std::string date;            // RFC 5322 date of the report
  std::string arrival_date;    // RFC 5322 date the message was accepted ("" = not shown)
  std::string headers;         // header block of the original message (text/rfc822-headers)
  std::string full_message;    // RET=FULL: the whole original (message/rfc822) instead
  std::vector<DsnRecipient> recipients;
};

// The whole report message (CRLF line endings), with From:, To:, Subject:, Message-ID:,
// Auto-Submitted: auto-replied and a boundary derived from the queue id.
std::string make_dsn(const DsnReport& report);
// make_dsn of a report whose kind is failed.
std::string make_failure_dsn(DsnReport report);

// The header block of a message: everything up to and including the empty line (or the whole
// message when it has no body).
std::string_view header_block(std::string_view message);

// RFC 3463 status from a reply text "550 5.1.1 ...": its enhanced code when present, else the
// class of the reply code with ".0.0" ("4.0.0").
std::string status_of_reply(std::string_view reply);

}  // namespace govmail::smtp
