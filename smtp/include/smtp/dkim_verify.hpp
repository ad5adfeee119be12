// DKIM verification (RFC 6376, Ed25519 from RFC 8463, RFC 8301 algorithm rules) of inbound mail.
//
// Why not libopendkim: Debian's libopendkim resolves keys through its own DNS layer, either
// synchronous (blocking the calling io thread, and every session on it, for the length of the
// lookup) or through a query-service callback API that would need a thread or a hand-written
// bridge to core::Resolver. The verification itself is small, so it is written here as a
// sans-I/O core (prepare() -> key names, finish() with the key records -> result, unit-testable
// and fuzzable without DNS) and one short coroutine, verify(), over core::Resolver.
//
// What is checked: the tag list of each DKIM-Signature (v=1; a, b, bh, d, h, s required; c, i, l,
// q, t, x optional; z ignored), c= simple and relaxed for header and body (simple/simple when c=
// is absent, "relaxed" alone is relaxed/simple), a=rsa-sha256 and ed25519-sha256 (rsa-sha1 is a
// permerror, RFC 8301), h= must name From, header fields taken bottom-up with names listed more
// often than present hashed as null (over-signing), the signature's own field hashed with the
// value of b= deleted (RFC 6376 3.7), i= in d= or a subdomain, t= not in the future (beyond a
// clock skew), x= not passed and not before t=, l= honoured (the result notes "l=" in its
// reason: content past l= is unsigned). Key records (RFC 6376 3.6.1): v=DKIM1 first if present,
// k= rsa/ed25519 matching a=, h= must allow sha256, s= must allow email, t=s forbids an i=
// subdomain, t=y noted, p= empty means revoked (fail); RSA keys under 1024 bits are a permerror
// (RFC 8301) and over 8192 bits too (CPU bound).
//
// Results (RFC 8601 dkim=): pass; fail (body hash or signature mismatch, revoked key, l= beyond
// the body); permerror (malformed signature or key record, unacceptable algorithm, no key record:
// NXDOMAIN or no TXT, expired or future signature, h= without From); temperror (the key lookup
// failed temporarily). A body hash mismatch is decided in prepare(), without a key lookup.
//
// Bounds (VerifyLimits): header block size and field count, at most 5 signatures checked (the
// topmost ones; later ones are not reported), size of one signature field, number of tags, of h=
// entries, key record size, base64 sizes (b= up to 8192-bit signatures), time spent on key
// lookups. The body is hashed as a stream in pieces, whatever its size, once per distinct
// (body canonicalisation, l=) pair. Hostile input never crashes (fuzz/dkim_verify_fuzz.cpp).
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "smtp/dkim.hpp"

namespace govmail::core {
class Resolver;
}

namespace govmail::smtp::dkim {

// RFC 8601 2.7.1 dkim= values. none: the message has no signature (verify() then returns no
// checks at all). policy and neutral are never produced by this verifier (kept for callers that
// apply local policy on top).
enum class VerifyResult { none, pass, fail, neutral, temperror, permerror, policy };
std::string_view to_string(VerifyResult result);

struct SignatureCheck {
  VerifyResult result = VerifyResult::none;
  std::string domain;     // d=, lower-case ("" when the signature was too malformed to tell)
  std::string selector;   // s=
  std::string algorithm;  // a= as written (lower-case)
  std::string identity;   // i= (or "@" + d= when absent)
  std::string b_prefix;   // the first 8 characters of b=, for header.b (RFC 6008)
  // Why, short, ASCII: "body hash did not verify", "signature did not verify", "key revoked",
  // "no key for signature", "rsa-sha1 not accepted", ... A pass with l= says so
  // ("l= body length limit used"). Texts from the message are cut short and made printable.
  std::string reason;
};

struct VerifyLimits {
  std::size_t max_header_bytes = 1u << 20;
  std::size_t max_header_fields = 1000;
  std::size_t max_signatures = 5;           // the topmost ones are checked, the rest ignored
  std::size_t max_signature_bytes = 16384;  // one DKIM-Signature field, folding included
  std::size_t max_tags = 64;                // per tag list (signature or key record)
  std::size_t max_signed_fields = 128;      // entries of h=
  std::size_t max_key_record_bytes = 8192;  // one TXT record, strings concatenated
  std::int64_t clock_skew_seconds = 900;    // t= may lie this far in the future
  // verify(): no key lookup starts once this much time has passed (those signatures are
  // temperror); each lookup also has the resolver's own timeout.
  std::chrono::milliseconds lookup_budget{15000};
};

// One signature after prepare(): either decided already (check.result is set and key_name is
// empty) or waiting for its key record, the TXT records at key_name.
struct Pending {
  std::string key_name;  // "sel._domainkey.example.com"; empty when decided
  SignatureCheck check;  // result none until decided
  // Internal to finish(): the key type a= needs, the SHA-256 of the canonicalised header data,
  // the decoded b=, the i= domain, whether l= was used.
  Algorithm algorithm = Algorithm::rsa_sha256;
  std::string header_digest;
  std::string signature;
  std::string auid_domain;
  bool body_length_used = false;

  bool needs_key() const { return !key_name.empty(); }
};

// Parses and body-hash-checks the DKIM-Signature fields of `message` (header block, CRLF CRLF,
// body; CRLF line endings as after SMTP DATA), the topmost limits.max_signatures of them.
// now_unix is checked against t= and x=. Malformed signatures come back decided (permerror); a
// header block that cannot be read gives one permerror check when it holds a DKIM-Signature.
// An empty result: the message is not signed.
std::vector<Pending> prepare(std::string_view message, std::int64_t now_unix,
                             const VerifyLimits& limits = {});

enum class KeyStatus { ok, nxdomain, nodata, temporary };
struct KeyAnswer {
  KeyStatus status = KeyStatus::temporary;
  std::vector<std::string> records;  // each TXT record, its character-strings concatenated
  std::string error;                 // why, when temporary ("timeout", "SERVFAIL")
};

// The result of one pending signature given the answer for its key_name. A decided Pending is
// returned as it is. nxdomain and nodata: permerror "no key for signature"; temporary: temperror.
// With several TXT records the first that parses as a DKIM key record is used.
SignatureCheck finish(const Pending& pending, const KeyAnswer& key,
                      const VerifyLimits& limits = {});

// prepare(), the key lookups through `resolver` (one by one, each name once; each lookup bounded
// by the resolver's timeout, no lookup started after limits.lookup_budget), finish(). `message` is
// read only before the first suspension: it must stay alive until the coroutine has started
// (co_await it directly).
awaitable<std::vector<SignatureCheck>> verify(core::Resolver& resolver, std::string_view message,
                                              std::int64_t now_unix, VerifyLimits limits = {});

}  // namespace govmail::smtp::dkim
