// Fuzz target for the DMARC and Authentication-Results code (smtp/include/smtp/dmarc.hpp): DMARC
// records are TXT text from any DNS server; message headers, From domains and the values written
// into Authentication-Results come from the SMTP client. The input is parsed as a record, used as
// a domain, stripped as a message, and written into a header that must then strip cleanly.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/dmarc.hpp"

namespace {

namespace dmarc = govmail::smtp::dmarc;
namespace auth_results = govmail::smtp::auth_results;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "dmarc_record_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

bool no_separators(const std::string& uri) {
  return uri.find_first_of(",; \t\r\n") == std::string::npos && !uri.empty();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kId = "mx.so.gov.vn";

  auto record = dmarc::parse_record(input);
  if (record) {
    require(input.size() <= 4096, "record within the length limit");
    require(record->pct >= 0 && record->pct <= 100, "pct in 0..100");
    require(record->rua.size() <= 16 && record->ruf.size() <= 16, "URI lists bounded");
    for (const auto& uri : record->rua) require(no_separators(uri), "rua URI has no separator");
    for (const auto& uri : record->ruf) require(no_separators(uri), "ruf URI has no separator");
  }
  (void)dmarc::select_record({std::string(input), std::string(input)});

  const std::string domain(input.substr(0, 300));
  for (const std::string& name : dmarc::lookup_names(domain)) {
    require(name.size() <= 253, "lookup name within 253 bytes");
  }
  dmarc::Input in;
  in.from_domain = domain;
  in.record = record ? *record : dmarc::Record{};
  in.spf_result = "pass";
  in.spf_domain = std::string(input.substr(input.size() / 2));
  in.dkim = {{"pass", std::string(input.substr(0, input.size() / 3))}};
  const auto ev = dmarc::evaluate(in, size % 100 / 100.0);
  require(ev.result != dmarc::Result::pass || ev.aligned_spf || ev.aligned_dkim,
          "pass means aligned");
  require(ev.result == dmarc::Result::fail || ev.policy == dmarc::Policy::none,
          "a policy only on fail");

  const std::string stripped = auth_results::strip_own(input, kId);
  require(stripped.size() <= input.size(), "strip_own only removes");
  require(auth_results::strip_own(stripped, kId) == stripped, "strip_own is idempotent");

  const std::string value(input.substr(0, 400));
  const std::string h = auth_results::header(
      value, {{"spf", "pass", value, {{"smtp.mailfrom", value}}},
              {"dkim", "fail", "", {{"header.d", value}, {"header.b", value}}}});
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (h[i] == '\r') require(i + 1 < h.size() && h[i + 1] == '\n', "CR only in CRLF");
    if (h[i] == '\n') {
      require(i > 0 && h[i - 1] == '\r', "LF only in CRLF");
      require(i + 1 == h.size() || h[i + 1] == '\t', "every line break is a fold");
    }
  }
  // Our own header (a printable authserv-id, short enough not to be cut) strips away.
  bool printable = value.size() <= 256 && value.find_first_not_of(" \t") != std::string::npos;
  for (char c : value) printable = printable && c >= 0x20 && c < 0x7f;
  if (printable && value.find_first_not_of(" \t.") != std::string::npos) {
    require(auth_results::strip_own(h + "\r\nbody", value) == "\r\nbody",
            "strip_own removes the header we wrote");
  }
  return 0;
}
