// Fuzz target for the MTA-STS parsers (smtp/include/smtp/mta_sts.hpp): the _mta-sts TXT record
// comes from any DNS server and the policy body from any HTTPS server that a recipient domain
// names. The input is read as a record, as a selection of records and as a policy, and its
// pieces are matched as MX patterns and host names.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/mta_sts.hpp"

namespace {

namespace mta_sts = govmail::smtp::mta_sts;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "mta_sts_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

bool alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto id = mta_sts::parse_record(input)) {
    require(input.starts_with("v=STSv1"), "a record starts with v=STSv1");
    require(!id->empty() && id->size() <= 32, "id of 1 to 32 characters");
    for (char c : *id) require(alnum(c), "id of letters and digits");
  }
  const auto d = mta_sts::select_record({std::string(input), "v=spf1 -all"});
  require(d.status != mta_sts::Discovery::Status::record || mta_sts::parse_record(input),
          "a selected record parses");
  require(mta_sts::select_record({std::string(input), std::string(input)}).status !=
              mta_sts::Discovery::Status::record,
          "two copies are never one record");

  if (auto p = mta_sts::parse_policy(input)) {
    require(input.size() <= mta_sts::kMaxPolicyBytes, "policy within 64 KiB");
    require(p->max_age >= 0 && p->max_age <= mta_sts::kMaxAge, "max_age bounded");
    require(p->mode == mta_sts::Mode::none || !p->mx.empty(), "mx present unless mode none");
    for (const auto& pattern : p->mx) {
      require(!pattern.empty() && pattern.find_first_of(" \t\r\n") == std::string::npos,
              "mx pattern without spaces");
      // A plain pattern matches itself; a wildcard matches one more label, never its suffix.
      if (pattern.starts_with("*.")) {
        require(mta_sts::mx_matches(pattern, "x" + pattern.substr(1)), "wildcard matches a label");
        require(!mta_sts::mx_matches(pattern, pattern.substr(2)), "wildcard needs a label");
        require(!mta_sts::mx_matches(pattern, "a.b" + pattern.substr(1)), "only one label");
      } else {
        require(mta_sts::mx_matches(pattern, pattern), "a name matches itself");
      }
    }
  }
  const std::size_t half = input.size() / 2;
  const std::string_view pattern = input.substr(0, half), host = input.substr(half);
  if (mta_sts::mx_matches(pattern, host)) {
    require(!pattern.empty(), "an empty pattern matches nothing");
  }
  return 0;
}
