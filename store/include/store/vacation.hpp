// The vacation response (JMAP VacationResponse, RFC 8621 8) of local recipients, for every path
// that delivers a message: SMTP (MX and submission) and JMAP EmailSubmission. Called after the
// message has committed: each recipient that is away and was named in To/Cc answers the
// envelope sender once per period (RFC 3834), from the null reverse-path, through the same
// delivery path as any message (local INBOX or the outbound queue). A failure here never
// changes the answer to the message already delivered: it is logged.
#pragma once
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "store/types.hpp"

namespace govmail::store {

class Database;

struct VacationRecipient {
  AccountId id = 0;
  std::string address;                    // the account's own address
  std::vector<std::string> addressed_as;  // envelope addresses that reached it directly
};

struct VacationDelivery {
  std::string sender;                         // the envelope sender (empty for <>: never answered)
  std::string_view message;                   // the delivered message; must outlive the call
  std::vector<VacationRecipient> recipients;  // local accounts reached directly, not via a group
  std::string hostname;                       // the right-hand side of the replies' Message-IDs
  std::chrono::seconds resend_after{std::chrono::hours(7 * 24)};
  std::string log_context;  // names the delivery in log lines ("smtp tx id=...")
};

awaitable<void> send_vacation_replies(Database& db, VacationDelivery d);

}  // namespace govmail::store
