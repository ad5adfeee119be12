// The little header reading SMTP needs before the store parses the message: who the message
// claims is sending it (From, Sender, Reply-To), read with the store's own address-list parser
// (store/address.hpp) so that the checks see exactly the addresses IMAP and clients will show.
// Sans-I/O, bounded by the header block.
#pragma once
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/mail_date.hpp"
#include "store/header_fields.hpp"

namespace govmail::smtp {

// How a sender field names a domain.
enum class Naming {
  address,       // the domain of one of its mailboxes
  display_name,  // "x@domain" in a display name, comment or group name (RFC 2047 decoded)
  unparseable,   // domain-like text of a field that is not an RFC 5322 address list
};

struct NamedDomain {
  std::string domain;  // as the directory stores domains (core::domain_to_ascii form)
  std::string field;   // "From", "Sender" or "Reply-To"
  Naming how = Naming::address;
};

struct SenderFields {
  std::size_t from_fields = 0;       // RFC 5322 3.6: exactly one
  std::vector<std::string> from;     // mailboxes of every From field (mailbox@host)
  std::vector<std::string> sender;   // mailboxes of every Sender field
  bool from_valid = true;            // every From field is an RFC 5322 address list
  bool sender_valid = true;          // likewise for Sender
  std::vector<NamedDomain> domains;  // distinct; the first reason a domain was named
};

// Everything From, Sender and Reply-To name. A host that is not a valid IDNA name is given both
// as written (ASCII lower case) and with its non-ASCII bytes dropped, so that no look-alike
// escapes the lookup.
SenderFields sender_fields(std::string_view message);

// Header reading and dates shared with the store and the other front ends.
using core::rfc5322_date;
using store::header_addresses;
using store::header_values;

}  // namespace govmail::smtp
