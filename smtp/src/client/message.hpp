// Private to the SMTP client: a message checked and put into wire form once, before any command
// is sent (sans-I/O). Lines end with CRLF whatever the input used (a bare LF becomes CRLF).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace govmail::smtp::client {

struct WireMessage {
  bool eight_bit = false;         // a byte >= 0x80 anywhere: BODY=8BITMIME
  bool header_non_ascii = false;  // a byte >= 0x80 in the header block: SMTPUTF8 (RFC 6532)
  std::size_t size = 0;           // bytes with CRLF line ends, before dot-stuffing (SIZE=)
  std::size_t long_line = 0;      // 1-based number of the first line over 998 octets; 0: none
  std::string wire;               // CRLF lines; for DATA dot-stuffed and ending in ".\r\n"
};

// The message must be at most what the caller accepted for sending: it is copied once.
WireMessage prepare_message(std::string_view message, bool for_data);

bool has_non_ascii(std::string_view s);

}  // namespace govmail::smtp::client
