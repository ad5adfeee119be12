// POP3 wire format without I/O (RFC 1939, RFC 2449, RFC 5034): command lines in, the pieces of
// answers out. The session (session.hpp) frames lines with core::LineReader and calls these.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace govmail::pop3 {

struct Command {
  std::string keyword;            // upper-cased: "USER", "RETR"...
  std::vector<std::string> args;  // split on spaces
  std::string rest;               // everything after the keyword's space (PASS: the password)
};

// One command line without its CRLF. An error (with the reason for "-ERR") when the keyword is
// not 3 or 4 printable characters, or the line holds a control character (NUL, CR...).
Result<Command, std::string> parse_command(std::string_view line);

// A message number or line count: decimal digits only, no sign, at most 9 digits.
std::optional<std::uint32_t> parse_number(std::string_view text);

// The unique-id of UIDL: the UID and the UIDVALIDITY, 8 upper-case hex digits each (Dovecot's
// default "%08Xu%08Xv", so that mail moved over from Dovecot with its UIDs keeps its ids and
// "leave on server" clients download nothing twice). Stable as long as UIDVALIDITY is.
std::string unique_id(std::uint32_t uidvalidity, std::uint32_t uid);

// Appends the multi-line body of RETR (whole message) or TOP (the header, the blank line and
// the first `body_lines` lines of the body): the stored bytes unchanged except that a line
// starting with "." gets another one, a CRLF added when the message does not end with one, and
// the terminating ".\r\n". Lines end at LF (a bare LF too). Resumable: feed the message in
// pieces through one DotStuffer.
class DotStuffer {
 public:
  explicit DotStuffer(std::optional<std::uint64_t> body_lines = std::nullopt)
      : body_lines_(body_lines), remaining_(body_lines.value_or(0)) {}
  // Appends the stuffed form of the next piece of the message to `out`; false once TOP's lines
  // are all out (the rest of the message need not be fed).
  bool feed(std::string_view piece, std::string& out);
  // Appends the end: CRLF if needed, then ".\r\n".
  void finish(std::string& out);

 private:
  void emit(std::string_view bytes, std::string& out);

  std::optional<std::uint64_t> body_lines_;
  std::uint64_t remaining_;  // TOP: body lines still to send
  bool at_line_start_ = true;
  bool done_ = false;
  bool in_body_ = false;    // TOP: past the header's blank line
  bool line_empty_ = true;  // TOP: the current header line has no byte but CR so far
  bool emitted_ = false;
  char last_ = '\0';  // the last two bytes sent: does the message end with CRLF?
  char before_last_ = '\0';
};

// Convenience: the whole stuffed body for one message.
std::string dot_stuffed(std::string_view message,
                        std::optional<std::uint64_t> body_lines = std::nullopt);

// SASL PLAIN (RFC 4616) from the base64 client response: authzid, authcid, password.
struct PlainCredentials {
  std::string authzid;
  std::string authcid;
  std::string password;
};
Result<PlainCredentials, std::string> decode_sasl_plain(std::string_view base64);

}  // namespace govmail::pop3
