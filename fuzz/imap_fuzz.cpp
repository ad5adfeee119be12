// Fuzz target for the IMAP wire parser: the Receiver must never crash or throw on any bytes,
// must give the same commands fed whole or one byte at a time, and every command it returns is
// then run through the typed parsers (sequence sets, FETCH items, SEARCH, dates, UTF-7).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "imap/proto.hpp"

namespace {

using govmail::imap::Receiver;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "imap_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

std::vector<std::string> run(std::string_view input, bool bytewise) {
  Receiver r({.line_max = 1024, .literal_max = 4096});
  std::vector<std::string> out;
  auto drain = [&] {
    for (;;) {
      auto ev = r.next();
      if (ev.kind == Receiver::Kind::need_more) return;
      if (ev.kind == Receiver::Kind::command) {
        const auto& c = ev.command;
        std::string desc = c.tag + " " + c.name + " " + std::to_string(c.args.size());
        out.push_back(desc);
        for (const auto& a : c.args) {
          (void)govmail::imap::parse_seq_set(a.value);
          (void)govmail::imap::parse_fetch_atts(a);
          (void)govmail::imap::parse_date_time(a.value);
          if (auto d = govmail::imap::utf7_decode(a.value))
            require(govmail::imap::utf7_decode(govmail::imap::utf7_encode(*d)) == d,
                    "utf7 round-trip");
        }
        (void)govmail::imap::parse_search(c.args);
      } else if (ev.kind == Receiver::Kind::error) {
        require(!ev.reason.empty(), "error has a reason");
        out.push_back("error " + ev.tag);
      }
    }
  };
  if (bytewise) {
    for (char ch : input) {
      r.feed(std::string_view(&ch, 1));
      drain();
    }
  } else {
    r.feed(input);
    drain();
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto whole = run(input, false);
  auto bytewise = run(input, true);
  require(whole == bytewise, "same commands whole and byte at a time");
  return 0;
}
