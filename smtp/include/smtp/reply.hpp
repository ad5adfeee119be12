// SMTP replies with RFC 3463 enhanced status codes. Sans-I/O: strings in, wire bytes out.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace govmail::smtp {

struct Reply {
  int code = 250;
  std::string enhanced;  // "2.1.0"; empty only for the greeting and EHLO lines (RFC 2034)
  std::string text;

  // "250 2.1.0 Ok\r\n"; the text is stripped of CR/LF so a reply is always one line.
  std::string wire() const;
  bool positive() const { return code < 400; }
  bool permanent() const { return code >= 500; }
};

// Multi-line reply: "250-first\r\n250-second\r\n250 last\r\n" (each line prefixed by `enhanced`
// when it is not empty).
std::string multiline(int code, std::string_view enhanced, const std::vector<std::string>& lines);

}  // namespace govmail::smtp
