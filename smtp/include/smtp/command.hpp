// SMTP command parsing (RFC 5321 with the ESMTP parameters govmail offers). Sans-I/O, no store:
// a command line (without CRLF) in, a typed command or the reply that refuses it out.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "smtp/reply.hpp"

namespace govmail::smtp {

enum class Verb {
  helo,
  ehlo,
  mail,
  rcpt,
  data,
  bdat,
  rset,
  noop,
  quit,
  vrfy,
  expn,
  help,
  starttls,
  auth,
  unknown
};

struct Command {
  Verb verb = Verb::unknown;
  std::string_view arg;  // the rest of the line after the verb and one space, trailing WSP cut
};

// The verb is matched case-insensitively; arguments are left to the per-command parsers.
Command parse_command(std::string_view line);

enum class Body { unspecified, seven_bit, eight_bit_mime };

// A reverse- or forward-path without the angle brackets: "" for the null path <>.
struct MailFrom {
  std::string address;
  std::optional<std::uint64_t> size;  // SIZE=
  Body body = Body::unspecified;      // BODY=
  bool smtputf8 = false;              // SMTPUTF8
  std::string ret;                    // RET=FULL|HDRS (RFC 3461)
  std::string envid;                  // ENVID= (xtext, kept encoded)
};

struct RcptTo {
  std::string address;
  std::string notify;  // NOTIFY= (RFC 3461), upper-cased
  std::string orcpt;   // ORCPT= (kept encoded)
};

// "FROM:<a@b> SIZE=10 BODY=8BITMIME". A space after the colon is tolerated (old clients).
Result<MailFrom, Reply> parse_mail_from(std::string_view arg);
// "TO:<a@b> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@b". "<postmaster>" is accepted (RFC 5321).
Result<RcptTo, Reply> parse_rcpt_to(std::string_view arg);

struct Bdat {
  std::uint64_t size = 0;
  bool last = false;
};
// "1234" or "1234 LAST".
std::optional<Bdat> parse_bdat(std::string_view arg);

// Mailbox syntax of RFC 5321 (dot-string or quoted local part, domain or address literal;
// UTF-8 allowed as RFC 6531 permits). Lengths: local part <= 64, domain <= 255.
bool valid_mailbox(std::string_view address);
bool is_ascii(std::string_view s);
// Lower-cased ASCII letters (addresses are stored lower-case); the domain part of an address.
std::string lower_ascii(std::string_view s);
std::string_view domain_of(std::string_view address);

}  // namespace govmail::smtp
