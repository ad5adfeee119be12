#include "smtp/dsn.hpp"

#include <openssl/evp.h>

#include <cctype>

namespace govmail::smtp {
namespace {

// Base64 in lines of 76 characters (RFC 2045 6.8).
std::string base64_lines(std::string_view data) {
  std::string out;
  for (std::size_t i = 0; i < data.size(); i += 57) {
    const auto n = std::min<std::size_t>(57, data.size() - i);
    std::string line(4 * ((n + 2) / 3) + 1, '\0');
    const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(line.data()),
                                    reinterpret_cast<const unsigned char*>(data.data() + i),
                                    static_cast<int>(n));
    line.resize(static_cast<std::size_t>(len));
    out += line + "\r\n";
  }
  return out;
}

std::string encoded_word(std::string_view text) {
  std::string b = base64_lines(text);
  std::string joined;
  for (char c : b)
    if (c != '\r' && c != '\n') joined += c;
  return "=?UTF-8?B?" + joined + "?=";
}

std::string_view subject_of(DsnKind k) {
  switch (k) {
    case DsnKind::delayed:
      return "Thư đang chậm gửi / Delayed Mail (still being retried)";
    case DsnKind::relayed:
      return "Thư đã chuyển tiếp / Relayed Mail";
    case DsnKind::failed:
      break;
  }
  return "Thư không gửi được / Undelivered Mail Returned to Sender";
}

std::string_view action_of(DsnKind k) {
  switch (k) {
    case DsnKind::delayed:
      return "delayed";
    case DsnKind::relayed:
      return "relayed";
    case DsnKind::failed:
      break;
  }
  return "failed";
}

std::string human_text(const DsnReport& r) {
  std::string t;
  switch (r.kind) {
    case DsnKind::failed:
      t += "Thư của đồng chí (mã " + r.queue_id +
           ") KHÔNG gửi được tới những người nhận dưới đây. Hệ thống đã dừng gửi.\r\n"
           "Your message (queue id " +
           r.queue_id +
           ") could NOT be delivered to the recipients below. No further attempts "
           "will be made.\r\n\r\n";
      break;
    case DsnKind::delayed:
      t += "Thư của đồng chí (mã " + r.queue_id +
           ") chưa gửi được tới những người nhận dưới đây. Hệ thống vẫn đang thử lại;\r\n"
           "đồng chí không cần gửi lại.\r\n"
           "Your message (queue id " +
           r.queue_id +
           ") has not yet been delivered to the recipients below. Delivery is "
           "still being retried;\r\nyou do not need to send it again.\r\n\r\n";
      break;
    case DsnKind::relayed:
      t += "Thư của đồng chí (mã " + r.queue_id +
           ") đã được chuyển tới máy chủ của người nhận; máy chủ đó không báo lại việc "
           "phát thư.\r\n"
           "Your message (queue id " +
           r.queue_id +
           ") was handed to the recipients' server, which does not report on "
           "final delivery.\r\n\r\n";
      break;
  }
  for (const auto& x : r.recipients) {
    t += "  <" + x.final_recipient + ">";
    if (!x.original.empty() && x.original != x.final_recipient)
      t += " (qua/through <" + x.original + ">)";
    t += "\r\n    Lý do / Reason: " + x.diagnostic + "\r\n";
    if (!x.remote_mta.empty()) t += "    Máy chủ / Server: " + x.remote_mta + "\r\n";
  }
  return t;
}

std::string status_fields(const DsnReport& r) {
  std::string m = "Reporting-MTA: dns; " + r.reporting_host + "\r\n";
  if (!r.envid.empty()) m += "Original-Envelope-Id: " + r.envid + "\r\n";
  if (!r.arrival_date.empty()) m += "Arrival-Date: " + r.arrival_date + "\r\n";
  for (const auto& x : r.recipients) {
    if (!x.original.empty())
      m += "\r\nOriginal-Recipient: rfc822;" + x.original + "\r\n";
    else
      m += "\r\n";
    m += "Final-Recipient: rfc822;" + x.final_recipient + "\r\n";
    m += "Action: " + std::string(action_of(r.kind)) + "\r\nStatus: " + x.status + "\r\n";
    if (!x.remote_mta.empty()) m += "Remote-MTA: dns; " + x.remote_mta + "\r\n";
    if (!x.diagnostic.empty()) m += "Diagnostic-Code: smtp; " + x.diagnostic + "\r\n";
    if (!x.will_retry_until.empty()) m += "Will-Retry-Until: " + x.will_retry_until + "\r\n";
  }
  return m;
}

}  // namespace

std::string_view header_block(std::string_view message) {
  if (message.starts_with("\r\n")) return message.substr(0, 2);
  auto end = message.find("\r\n\r\n");
  return end == std::string_view::npos ? message : message.substr(0, end + 4);
}

std::string status_of_reply(std::string_view reply) {
  // "550 5.1.1 text": the second word when it is class.subject.detail with a matching class.
  const auto sp = reply.find(' ');
  if (sp != std::string_view::npos && reply.size() > sp + 5) {
    const std::string_view w = reply.substr(sp + 1, reply.find(' ', sp + 1) - sp - 1);
    if (w.size() >= 5 && w.size() <= 11 && (w[0] == '2' || w[0] == '4' || w[0] == '5') &&
        w[1] == '.' && w.find_first_not_of("0123456789.") == std::string_view::npos)
      return std::string(w);
  }
  const char c = reply.empty() ? '4' : reply[0];
  return std::string(1, c == '5' ? '5' : c == '2' ? '2' : '4') + ".0.0";
}

std::string make_failure_dsn(DsnReport report) {
  report.kind = DsnKind::failed;
  return make_dsn(report);
}

std::string make_dsn(const DsnReport& r) {
  const std::string boundary = "=_govmail-dsn-" + r.queue_id;
  std::string m;
  m += "From: Mail Delivery System <MAILER-DAEMON@" + r.reporting_host + ">\r\n";
  m += "To: <" + r.to + ">\r\n";
  m += "Subject: " + encoded_word(subject_of(r.kind)) + "\r\n";
  m += "Date: " + r.date + "\r\n";
  m += "Message-ID: <" + r.queue_id + "." + std::string(action_of(r.kind)) + ".dsn@" +
       r.reporting_host + ">\r\n";
  m += "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"" + boundary +
       "\"\r\n\r\n";
  m += "This is a MIME-encapsulated message.\r\n\r\n--" + boundary + "\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  m += base64_lines(human_text(r));
  m += "\r\n--" + boundary + "\r\nContent-Type: message/delivery-status\r\n\r\n";
  m += status_fields(r);
  if (!r.full_message.empty()) {
    m += "\r\n--" + boundary + "\r\nContent-Type: message/rfc822\r\n\r\n";
    m += r.full_message;
    if (!r.full_message.ends_with("\r\n")) m += "\r\n";
  } else {
    m += "\r\n--" + boundary + "\r\nContent-Type: text/rfc822-headers\r\n\r\n";
    m += r.headers;
    if (!r.headers.ends_with("\r\n")) m += "\r\n";
  }
  m += "\r\n--" + boundary + "--\r\n";
  return m;
}

}  // namespace govmail::smtp
