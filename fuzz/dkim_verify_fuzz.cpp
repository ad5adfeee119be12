// Fuzz target for DKIM verification: a hostile message into prepare() (small limits so that they
// trip), and hostile key records into finish() for every signature waiting for its key.
// Input: MESSAGE [ "\n==KEY==\n" RECORD [ "\n--\n" RECORD ... ] ]; without the marker the message
// is checked against fixed Ed25519 and RSA records.
// Invariants: no crash; at most max_signatures results; a decided signature has a result and no
// key name, a pending one a key name "<s>._domainkey.<d>" and no result yet; finish() always
// decides, the same way twice, and only pass when the answer was ok.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/dkim_verify.hpp"

namespace {

using namespace govmail::smtp::dkim;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "dkim_verify_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

constexpr std::string_view kKeyMarker = "\n==KEY==\n";
constexpr std::string_view kRecordMarker = "\n--\n";

std::vector<std::string> default_records() {
  static const std::string ed = [] {
    auto k = generate_key(Algorithm::ed25519_sha256);
    require(k.ok(), "key generation");
    return dns_txt_record(*k);
  }();
  return {ed,
          "v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAPAPso0Q55Fb/ABT7eZNh6/h+4Osu3rT1g8mD0"
          "IluBDKtGKOo8y+eWoHgcmQ27kjjWzx6JOI4YVAWXLDC67BNd0CAwEAAQ=="};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view message = input;
  std::vector<std::string> records;
  if (auto k = input.find(kKeyMarker); k != std::string_view::npos) {
    message = input.substr(0, k);
    std::string_view rest = input.substr(k + kKeyMarker.size());
    while (true) {
      auto r = rest.find(kRecordMarker);
      records.emplace_back(rest.substr(0, r));
      if (r == std::string_view::npos || records.size() >= 4) break;
      rest.remove_prefix(r + kRecordMarker.size());
    }
  } else {
    records = default_records();
  }

  const VerifyLimits limits{.max_header_bytes = 16384,
                            .max_header_fields = 100,
                            .max_signatures = 3,
                            .max_signature_bytes = 4096,
                            .max_tags = 16,
                            .max_signed_fields = 32,
                            .max_key_record_bytes = 2048};
  const std::int64_t now = 1900000000;
  std::vector<Pending> pending = prepare(message, now, limits);
  require(pending.size() <= limits.max_signatures, "at most max_signatures");
  for (const Pending& p : pending) {
    if (!p.needs_key()) {
      require(p.check.result != VerifyResult::none, "a decided signature has a result");
      require(!p.check.reason.empty(), "a decided signature says why");
      continue;
    }
    require(p.check.result == VerifyResult::none, "a pending signature has no result yet");
    require(p.key_name == p.check.selector + "._domainkey." + p.check.domain, "key name");
    for (KeyStatus st : {KeyStatus::ok, KeyStatus::nxdomain, KeyStatus::temporary}) {
      KeyAnswer answer{st, records, "fuzz"};
      SignatureCheck a = finish(p, answer, limits);
      SignatureCheck b = finish(p, answer, limits);
      require(a.result != VerifyResult::none, "finish decides");
      require(a.result == b.result && a.reason == b.reason, "finish is deterministic");
      if (st != KeyStatus::ok) require(a.result != VerifyResult::pass, "pass only with a key");
    }
    // Each record alone, too.
    for (const std::string& r : records) {
      KeyAnswer answer{KeyStatus::ok, {r}, ""};
      require(finish(p, answer, limits).result != VerifyResult::none, "finish decides");
    }
  }
  return 0;
}
