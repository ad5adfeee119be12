// DKIM signatures for outbound mail (RFC 6376, with Ed25519 from RFC 8463). Sans-I/O: the
// message bytes and a time in, the DKIM-Signature header field out. relaxed/relaxed only.
// Private keys are PEM text (PKCS#8 or traditional, unencrypted); key material never appears in
// an error text.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace govmail::smtp::dkim {

enum class Algorithm { rsa_sha256, ed25519_sha256 };

// "rsa-sha256" / "ed25519-sha256", the a= tag.
std::string_view to_string(Algorithm alg);
// "rsa", "rsa-sha256", "ed25519", "ed25519-sha256" (ASCII case-insensitive); nullopt otherwise.
std::optional<Algorithm> parse_algorithm(std::string_view text);

struct KeyPair {
  Algorithm algorithm = Algorithm::rsa_sha256;
  std::string private_pem;  // PKCS#8 PEM; secret: never log it
  std::string public_b64;   // the p= value of the DNS record
};

// A new key: RSA 2048 bits, or Ed25519.
Result<KeyPair, std::string> generate_key(Algorithm alg);

// The text of the TXT record to publish at SELECTOR._domainkey.DOMAIN:
// "v=DKIM1; k=rsa; p=<SubjectPublicKeyInfo DER, base64>" or
// "v=DKIM1; k=ed25519; p=<raw 32-byte key, base64>" (RFC 8463 4.2). An RSA record is longer than
// 255 bytes: the zone file must split it into several character-strings.
std::string dns_txt_record(const KeyPair& key);

// Limits on the header block sign() reads; the body is hashed as a stream whatever its size.
struct Limits {
  std::size_t max_header_bytes = 1u << 20;
  std::size_t max_header_fields = 1000;
};

// Relaxed canonicalisation (RFC 6376 3.4.2): one header field as it appears in the message (name,
// colon, value, folding, with or without its final CRLF) -> "name:value\r\n".
std::string relaxed_header(std::string_view field);

// Relaxed body canonicalisation (RFC 6376 3.4.4) as a stream: feed() the body in pieces of any
// size; each call appends to `out` only what is final, finish() the rest. An empty body (or one of
// empty lines only) canonicalises to nothing; a body that does not end with CRLF is read as if it
// did (the form it has after SMTP DATA). A bare CR or LF is an ordinary character (as dkimpy;
// OpenDKIM drops a bare CR).
class RelaxedBody {
 public:
  void feed(std::string_view piece, std::string& out);
  void finish(std::string& out);

 private:
  void content(char c, std::string& out);
  std::size_t pending_crlf_ = 0;  // line ends not yet known not to be trailing empty lines
  bool pending_wsp_ = false;      // a WSP run not yet known not to end its line
  bool pending_cr_ = false;       // a CR that may start a CRLF
  bool any_content_ = false;
};

// The whole body in one piece (tests, small bodies).
std::string relaxed_body(std::string_view body);

// Loaded once, then immutable: sign() may run on many threads at once.
class Signer {
 public:
  // private_pem must hold a key of `alg`'s type (RSA of at least 1024 bits, or Ed25519).
  static Result<Signer, std::string> load(Algorithm alg, std::string_view private_pem,
                                          std::string domain, std::string selector,
                                          Limits limits = {});

  // The complete "DKIM-Signature: ...\r\n" field (folded, lines under 78 characters) to put at
  // the top of `message` (header block + CRLF + body, CRLF line endings). Signs the fields of
  // signed_fields() present, over-signs from, subject, date, to and cc; t= is unix_time.
  // Errors: no From:, a malformed header line, a header block over the limits.
  Result<std::string, std::string> sign(std::string_view message, std::int64_t unix_time) const;

  Algorithm algorithm() const { return algorithm_; }
  // The p= value of the key's DNS record, as in KeyPair::public_b64.
  const std::string& public_b64() const { return public_b64_; }
  const std::string& domain() const { return domain_; }
  const std::string& selector() const { return selector_; }

  Signer(Signer&&) noexcept;
  Signer& operator=(Signer&&) noexcept;
  ~Signer();

 private:
  struct Key;
  Signer(Algorithm alg, std::unique_ptr<Key> key, std::string public_b64, std::string domain,
         std::string selector, Limits limits);
  Algorithm algorithm_;
  std::unique_ptr<Key> key_;
  std::string public_b64_;
  std::string domain_;
  std::string selector_;
  Limits limits_;
};

// The header fields sign() signs when present, in h= order.
std::span<const std::string_view> signed_fields();

}  // namespace govmail::smtp::dkim
