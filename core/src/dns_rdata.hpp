// The pure half of the resolver (core/dns.hpp): rdata parsers and the mapping of a finished
// libunbound answer to the public answer types. No I/O, no libunbound: unit tests and the fuzz
// target (fuzz/dns_rdata_fuzz.cpp) feed them hostile bytes directly.
#pragma once
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/dns.hpp"

namespace govmail::core::dns {

// DNS limits (RFC 1035 2.3.4).
inline constexpr std::size_t kMaxLabel = 63;
inline constexpr std::size_t kMaxWireName = 255;

// What libunbound reported for one question, copied out of its ub_result.
struct RawAnswer {
  int ub_error = 0;        // ub_resolve_async / callback error (UB_*); 0 when answered
  bool timed_out = false;  // our deadline passed first
  bool stopped = false;    // Resolver::stop() came first
  int rcode = 0;
  bool havedata = false;
  bool nxdomain = false;
  std::vector<std::string> rdata;  // one per RR of the asked type (after CNAMEs)
  std::string ub_error_text;       // ub_strerror(ub_error)
};

// An uncompressed wire-format name at the start of `wire`. Returns the name lower-cased
// without trailing dot ("" for the root) and sets `used` to its length in bytes; nullopt on a
// compression pointer or extended label type, a label over 63 bytes, a name over 255 bytes,
// truncation, or a byte that is not a letter, digit, '-' or '_'.
std::optional<std::string> parse_wire_name(std::string_view wire, std::size_t& used);

// MX rdata: 2-byte preference then the exchange name, nothing after it. host "" is the root
// (null MX).
std::optional<MxHost> parse_mx_rdata(std::string_view rdata);

// PTR rdata: one name, nothing after it; nullopt for the root, which names no host.
std::optional<std::string> parse_ptr_rdata(std::string_view rdata);

// The reverse-lookup name of an address (RFC 1035 3.5, RFC 3596 2.5), without trailing dot:
// "192.0.2.1" -> "1.2.0.192.in-addr.arpa", "2001:db8::1" -> "1.0.0.0...8.b.d.0.1.0.0.2.ip6.arpa".
// nullopt when `ip` is not an IPv4 or IPv6 address.
std::optional<std::string> reverse_name(const std::string& ip);

// TXT rdata: one or more <length><bytes> character-strings, concatenated; nullopt when a
// length runs past the end or there is no string at all.
std::optional<std::string> parse_txt_rdata(std::string_view rdata);

// A (4 bytes) or AAAA (16 bytes) rdata as text; nullopt on any other length.
std::optional<std::string> parse_a_rdata(std::string_view rdata);
std::optional<std::string> parse_aaaa_rdata(std::string_view rdata);

// "SERVFAIL", "REFUSED", ... or "rcode N".
std::string rcode_text(int rcode);

// The status of a raw answer before looking at the data: ok means "parse the rdata".
// Sets `error` for temporary.
DnsStatus base_status(const RawAnswer& raw, std::string& error);

// Mapping of finished answers. `rng` orders MX hosts of equal preference.
MxAnswer mx_answer(const RawAnswer& raw, std::mt19937& rng);
AddressAnswer address_answer(const RawAnswer& a, const RawAnswer& aaaa);
TxtAnswer txt_answer(const RawAnswer& raw);
PtrAnswer ptr_answer(const RawAnswer& raw);

}  // namespace govmail::core::dns
