// Inbound message authentication on the MX: SPF (RFC 7208) of the client and MAIL FROM, DKIM
// (RFC 6376) signatures, and DMARC (RFC 7489) of the From: domain, all over the asynchronous
// resolver, summed up in one Authentication-Results field (RFC 8601) that the session puts on
// top of the message after removing any that claims to be ours. Officials can then tell a
// forged "ministry" message from a real one, and a domain that publishes p=reject gets it.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "core/awaitable_fwd.hpp"

namespace govmail::core {
class Resolver;
}

namespace govmail::smtp {

struct InboundQuery {
  std::string client_ip;
  std::string helo;
  std::string mail_from;     // "" for the null reverse-path
  std::string_view message;  // the caller keeps it alive until check() completes
};

struct InboundVerdict {
  std::string header;   // the Authentication-Results field (CRLF-terminated)
  std::string summary;  // "spf=pass dkim=pass dmarc=pass" for the log
  std::string from_domain;
  enum class Action { deliver, junk, reject } action = Action::deliver;
};

class InboundAuth {
 public:
  // authserv_id: our host name (server.hostname); dmarc_reject_action: smtp.dmarc_reject.
  InboundAuth(std::shared_ptr<core::Resolver> resolver, std::string authserv_id,
              std::string dmarc_reject_action);
  ~InboundAuth();

  awaitable<InboundVerdict> check(InboundQuery q) const;
  const std::string& authserv_id() const { return authserv_id_; }

 private:
  std::shared_ptr<core::Resolver> resolver_;
  std::string authserv_id_;
  std::string dmarc_reject_action_;  // "reject" (550 5.7.1) or "junk"
};

}  // namespace govmail::smtp
