// Fuzz target for the POP3 wire pieces: command lines must parse or fail with a reason, never
// crash; dot-stuffing fed whole or one byte at a time must agree, end with ".\r\n", and undo
// to the message (plus the CRLF added when it lacked one); SASL PLAIN decoding never crashes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pop3/proto.hpp"

namespace {

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "pop3_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

// What a client does with a multi-line answer: lines up to the lone ".", the leading dot of
// each stuffed line removed.
std::string unstuff(std::string_view body) {
  std::string out;
  while (!body.empty()) {
    auto lf = body.find('\n');
    std::string_view line = body.substr(0, lf == std::string_view::npos ? body.size() : lf + 1);
    body.remove_prefix(line.size());
    if (line == ".\r\n") break;
    if (!line.empty() && line[0] == '.') line.remove_prefix(1);
    out += line;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (std::string_view rest = input; !rest.empty();) {
    auto lf = rest.find('\n');
    auto line = rest.substr(0, lf);
    rest.remove_prefix(lf == std::string_view::npos ? rest.size() : lf + 1);
    auto cmd = govmail::pop3::parse_command(line);
    if (!cmd) {
      require(!cmd.error().empty(), "error has a reason");
      continue;
    }
    require(cmd->keyword.size() >= 3 && cmd->keyword.size() <= 4, "keyword length");
    for (const auto& a : cmd->args) {
      require(!a.empty() && a.find(' ') == std::string::npos, "argument split");
      (void)govmail::pop3::parse_number(a);
      (void)govmail::pop3::decode_sasl_plain(a);
    }
  }
  const std::string whole = govmail::pop3::dot_stuffed(input);
  require(whole.size() >= 3 && whole.ends_with(".\r\n"), "terminator");
  std::string expected(input);
  if (!expected.empty() && !expected.ends_with("\r\n")) expected += "\r\n";
  require(unstuff(whole) == expected, "unstuffing gives the message back");
  std::string pieces;
  govmail::pop3::DotStuffer d(size % 7);
  for (char ch : input)
    if (!d.feed(std::string_view(&ch, 1), pieces)) break;
  d.finish(pieces);
  require(pieces == govmail::pop3::dot_stuffed(input, size % 7), "bytewise TOP equals whole");
  return 0;
}
