// Fuzz target for the SMTP client's reply parser and EHLO capability parsing. The first byte
// picks the piece size the input is fed in. Invariants: no crash; a complete reply has a code in
// 200..599 with as many lines as Limits allow; an error is final; the whole input fed at once
// gives the same replies as the pieces.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/reply_parser.hpp"

namespace {

using namespace govmail::smtp::client;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "smtp_reply_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

std::vector<std::string> run(std::string_view input, std::size_t piece, bool& failed) {
  ReplyParser p(ReplyParser::Limits{256, 20});
  std::vector<std::string> out;
  failed = false;
  for (std::size_t off = 0; off < input.size() && !failed; off += piece) {
    p.feed(input.substr(off, piece));
    for (;;) {
      const ReplyParser::Status st = p.next();
      if (st == ReplyParser::Status::need_more) break;
      if (st == ReplyParser::Status::error) {
        failed = true;
        require(p.next() == ReplyParser::Status::error, "an error is final");
        require(!p.error_text().empty(), "an error has a reason");
        break;
      }
      const auto& r = p.reply();
      require(r.code >= 200 && r.code <= 599, "reply code range");
      require(r.enhanced.empty() || r.enhanced[0] == static_cast<char>('0' + r.code / 100),
              "enhanced code class matches the reply");
      std::size_t lines = 1;
      for (char c : r.text) lines += c == '\n';
      require(lines <= 20, "line limit");
      if (r.code / 100 == 2) (void)parse_ehlo(r);
      out.push_back(std::to_string(r.code) + r.enhanced + "|" + r.text);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t piece = input.empty() ? 1 : 1 + static_cast<unsigned char>(input[0]) % 17;
  bool failed_pieces = false, failed_whole = false;
  const auto a = run(input, piece, failed_pieces);
  const auto b = run(input, input.size() + 1, failed_whole);
  require(failed_pieces == failed_whole, "same verdict whatever the piece size");
  require(a == b, "same replies whatever the piece size");
  return 0;
}
