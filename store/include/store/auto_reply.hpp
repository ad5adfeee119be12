// RFC 3834 automatic replies (the JMAP VacationResponse on delivery): whether a message may be
// answered at all, whether it was addressed to the recipient by name, and the reply itself.
// Sans-I/O: store/vacation.hpp claims the once-per-sender right and delivers the result.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace govmail::store {

// False for what must never be answered (RFC 3834 2, 5): the null reverse-path, MAILER-DAEMON,
// owner-* and *-request senders, Auto-Submitted other than "no", Precedence bulk/list/junk,
// and mailing-list mail (List-Id, List-Unsubscribe).
bool may_auto_reply(std::string_view envelope_from, std::string_view message);

// True when one of `addresses` (ASCII case-insensitive) is in the message's To or Cc: mail
// that reached the recipient through a group, or as Bcc, gets no reply (RFC 3834 2).
bool names_recipient(std::string_view message, const std::vector<std::string>& addresses);

struct AutoReply {
  std::string from;     // the recipient who is away
  std::string to;       // the envelope sender of the message answered
  std::string subject;  // the response's subject; empty: "Auto: " + the message's subject
  std::string text_body;
  std::optional<std::string> html_body;
  std::string date;        // RFC 5322 date
  std::string message_id;  // without <>
};

// The reply to `original` (RFC 3834 3): Auto-Submitted: auto-replied, In-Reply-To and
// References from the original, UTF-8 bodies in base64 (multipart/alternative with HTML).
std::string build_auto_reply(const AutoReply& r, std::string_view original);

}  // namespace govmail::store
