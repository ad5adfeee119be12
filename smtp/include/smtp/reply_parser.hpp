// Client side of SMTP: the remote server's replies and EHLO capabilities (RFC 5321 4.2, RFC 2034,
// RFC 1869). Sans-I/O: bytes in, need-more | complete Reply | error out; no Asio.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/line_reader.hpp"
#include "smtp/reply.hpp"

namespace govmail::smtp::client {

class ReplyParser {
 public:
  struct Limits {
    std::size_t max_line = 4096;  // bytes of one reply line without its CRLF
    std::size_t max_lines = 100;  // lines of one reply (an EHLO reply is the longest)
  };
  enum class Status { need_more, complete, error };
  enum class Error {
    none,
    line_too_long,      // a line over Limits::max_line
    too_many_lines,     // a reply over Limits::max_lines
    syntax,             // not "NNN", "NNN text" or "NNN-text"
    bad_code,           // not 2xx..5xx (1xx included: SMTP has no intermediate replies)
    inconsistent_code,  // the lines of one multi-line reply carry different codes
  };

  ReplyParser();
  explicit ReplyParser(Limits limits);

  // Appends bytes read from the server; drain next() before feeding again.
  void feed(std::string_view bytes);
  // complete: reply() holds the next reply (a pipelined server may have sent several: call
  // next() again). error: the stream is out of sync for good; error() says why.
  Status next();

  const Reply& reply() const { return reply_; }
  Error error() const { return error_; }
  // "remote sent an over-long reply line" and so on, for a local 4.4.2 reason.
  std::string_view error_text() const;
  std::size_t buffered() const { return lines_.buffered(); }  // bytes not yet parsed

 private:
  Status fail(Error e);

  core::LineReader lines_;
  Limits limits_;
  Reply reply_;
  Reply partial_;
  std::size_t lines_in_reply_ = 0;
  Error error_ = Error::none;
};

// Parses one reply line "NNN[ -]text" (without CRLF) and the RFC 2034 enhanced code at the start
// of its text (its class must match the reply code's). Used by ReplyParser; exposed for tests.
struct ReplyLine {
  int code = 0;
  bool last = true;
  std::string_view enhanced;  // "2.1.0", or empty
  std::string_view text;      // after the enhanced code and its space
};
bool parse_reply_line(std::string_view line, ReplyLine& out);

// What a server announced in its EHLO reply (RFC 5321 4.1.1.1; extension keywords
// case-insensitive).
struct Capabilities {
  bool esmtp = false;  // EHLO was answered (false after a HELO fallback)
  bool pipelining = false;
  bool size = false;
  std::uint64_t size_limit = 0;  // SIZE n; 0 when absent or "no fixed limit"
  bool eightbitmime = false;
  bool smtputf8 = false;
  bool chunking = false;
  bool starttls = false;
  bool dsn = false;
  bool enhancedstatuscodes = false;
  std::vector<std::string> auth;  // mechanisms, upper case ("PLAIN", "LOGIN")
  std::string server_name;        // first word of the first line (the server's domain)

  bool has_auth(std::string_view mechanism) const;
};
// From a complete 2xx EHLO reply (the text of its lines joined by "\n").
Capabilities parse_ehlo(const Reply& reply);

}  // namespace govmail::smtp::client
