// Fuzz target for DKIM signing: hostile header blocks and bodies into Signer::sign() (both
// algorithms, small limits so that they trip), and the relaxed canonicalisation fed in pieces.
// Invariants: no crash; a signature is one header field ("DKIM-Signature:", continuation lines
// start with a tab, CRLF only, ends with CRLF); signing is repeatable; the streamed body equals
// the one-piece body.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "smtp/dkim.hpp"

namespace {

using namespace govmail::smtp;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "dkim_sign_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

dkim::Signer make_signer(dkim::Algorithm alg) {
  auto key = dkim::generate_key(alg);
  require(key.ok(), "key generation");
  auto s = dkim::Signer::load(alg, key->private_pem, "example.gov.vn", "fuzz",
                              {.max_header_bytes = 8192, .max_header_fields = 64});
  require(s.ok(), "key loads");
  return std::move(s).value();
}

void check_field(std::string_view f) {
  require(f.starts_with("DKIM-Signature: v=1; a="), "field name and first tags");
  require(f.ends_with("\r\n"), "field ends with CRLF");
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] == '\r') require(i + 1 < f.size() && f[i + 1] == '\n', "no bare CR");
    if (f[i] == '\n') {
      require(i > 0 && f[i - 1] == '\r', "no bare LF");
      require(i + 1 == f.size() || f[i + 1] == '\t', "continuation lines are folded");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const dkim::Signer ed = make_signer(dkim::Algorithm::ed25519_sha256);
  static const dkim::Signer rsa = make_signer(dkim::Algorithm::rsa_sha256);
  std::string_view input(reinterpret_cast<const char*>(data), size);

  const dkim::Signer& signer = size % 4 == 1 ? rsa : ed;  // RSA is slower: a quarter of runs
  auto first = signer.sign(input, 1767225600);
  if (first.ok()) {
    check_field(*first);
    auto again = signer.sign(input, 1767225600);
    require(again.ok(), "signing is repeatable");
    if (&signer == &ed) require(*again == *first, "Ed25519 signatures are deterministic");
  } else {
    require(!first.error().empty() && first.error().starts_with("dkim: "), "error text");
  }

  const std::size_t piece = 1 + size % 97;
  std::string streamed;
  dkim::RelaxedBody rb;
  for (std::size_t pos = 0; pos < input.size(); pos += piece)
    rb.feed(input.substr(pos, piece), streamed);
  rb.finish(streamed);
  require(streamed == dkim::relaxed_body(input), "streamed body equals one-piece body");
  require(streamed.empty() || streamed.ends_with("\r\n"), "canonical body ends with CRLF");
  if (!input.ends_with("\r\n"))
    require(streamed == dkim::relaxed_body(std::string(input) + "\r\n"),
            "an unterminated body reads as if it ended with CRLF");

  std::string h = dkim::relaxed_header(input.substr(0, 4096));
  require(h.ends_with("\r\n") && h.find(':') != std::string::npos, "canonical header shape");
  return 0;
}
