// RFC 5322 address lists (From, Sender, Reply-To, To, ...): the one parser behind both what IMAP
// ENVELOPE and JMAP show (parse_message) and what SMTP checks (a From: in a local domain), so a
// check can never be run on a different reading of the address than the one clients display.
// Sans-I/O, linear in the input, never throws (only std::bad_alloc).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace govmail::store {

// One item of an address list, in the RFC 3501 ENVELOPE shape.
// Mailbox: mailbox and host set. Group start: mailbox = group name, host null. Group end: both
// null.
struct Address {
  // Display name (or group name's display for "user@host (Name)": the comment): words joined by
  // one space, quoting and comments removed, RFC 2047 encoded words NOT decoded.
  std::optional<std::string> name;
  std::optional<std::string> adl;      // obsolete source route "@a,@b", if any
  std::optional<std::string> mailbox;  // local part (unquoted, CFWS removed) or group name
  std::optional<std::string> host;     // domain (CFWS removed); "" when no '@' was written
};

struct AddressList {
  std::vector<Address> items;
  // False when the value does not follow RFC 5322 (section 4 obsolete syntax accepted): items
  // is then the best reading of it, which is still what IMAP and JMAP show.
  bool valid = true;
};

// Unfolds (CR/LF are white space), skips comments (nested), unquotes quoted strings and quoted
// pairs, joins obs-local-part and obs-domain ("boss @ local . gov . vn" -> boss, local.gov.vn),
// reads groups ("Team: a@x, b@y;"), obsolete routes ("<@r1,@r2:a@b>") and empty list items.
AddressList parse_address_list(std::string_view value);

// "mailbox@host" of a mailbox item ("mailbox" when host is empty); "" for group items.
std::string addr_spec(const Address& a);

}  // namespace govmail::store
