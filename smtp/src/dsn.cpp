#include "smtp/dsn.hpp"

namespace govmail::smtp {

std::string_view header_block(std::string_view message) {
  if (message.starts_with("\r\n")) return message.substr(0, 2);
  auto end = message.find("\r\n\r\n");
  return end == std::string_view::npos ? message : message.substr(0, end + 4);
}

std::string make_failure_dsn(const DsnReport& r) {
  const std::string boundary = "=_govmail-dsn-" + r.queue_id;
  std::string m;
  m += "From: Mail Delivery System <MAILER-DAEMON@" + r.reporting_host + ">\r\n";
  m += "To: <" + r.to + ">\r\n";
  m += "Subject: Undelivered Mail Returned to Sender\r\n";
  m += "Date: " + r.date + "\r\n";
  m += "Message-ID: <" + r.queue_id + ".dsn@" + r.reporting_host + ">\r\n";
  m += "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"" + boundary +
       "\"\r\n\r\n";
  m += "This is a MIME-encapsulated message.\r\n\r\n--" + boundary + "\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n\r\n";
  m += "Your message (queue id " + r.queue_id +
       ") was accepted, but it could not be delivered\r\n"
       "to the following recipients:\r\n\r\n";
  for (const auto& x : r.recipients)
    m += "  <" + x.final_recipient + "> (through <" + x.original + ">): " + x.diagnostic + "\r\n";
  m += "\r\n--" + boundary + "\r\nContent-Type: message/delivery-status\r\n\r\n";
  m += "Reporting-MTA: dns; " + r.reporting_host + "\r\n";
  if (!r.envid.empty()) m += "Original-Envelope-Id: " + r.envid + "\r\n";
  for (const auto& x : r.recipients) {
    m += "\r\nOriginal-Recipient: rfc822;" + x.original + "\r\n";
    m += "Final-Recipient: rfc822;" + x.final_recipient + "\r\n";
    m += "Action: failed\r\nStatus: " + x.status + "\r\n";
    m += "Diagnostic-Code: smtp; " + x.diagnostic + "\r\n";
  }
  m += "\r\n--" + boundary + "\r\nContent-Type: text/rfc822-headers\r\n\r\n";
  m += r.headers;
  if (!r.headers.ends_with("\r\n")) m += "\r\n";
  m += "\r\n--" + boundary + "--\r\n";
  return m;
}

}  // namespace govmail::smtp
