// SPF (RFC 7208) without I/O: the record parser, macro expansion and address matching that
// check_host() in spf.cpp drives. Nothing here touches DNS, Asio or the clock.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace govmail::smtp::spf::detail {

// A TXT answer longer than this is refused as a permerror before parsing (real records are a
// few hundred bytes; a TXT RRset can reach 64 KiB).
inline constexpr std::size_t kMaxRecordLength = 4096;
// A domain name in presentation form without the trailing dot (RFC 7208 7.3 truncates expanded
// names to this by dropping labels on the left).
inline constexpr std::size_t kMaxDomainLength = 253;

enum class Qualifier { pass, fail, softfail, neutral };  // + - ~ ?
enum class Mechanism { all, include, a, mx, ptr, ip4, ip6, exists };

struct Directive {
  Qualifier qualifier = Qualifier::pass;
  Mechanism mechanism = Mechanism::all;
  // The domain-spec as written (a macro-string, checked), empty when absent: a, mx and ptr
  // then use the current domain.
  std::string domain_spec;
  // ip4: the first 4 bytes; ip6: all 16.
  std::array<std::uint8_t, 16> network{};
  int cidr4 = 32;    // ip4, a, mx
  int cidr6 = 128;   // ip6, a, mx
  std::string text;  // the term as written, for explanations
};

struct Record {
  std::vector<Directive> directives;    // in record order
  std::optional<std::string> redirect;  // domain-spec of redirect=
  std::optional<std::string> exp;       // domain-spec of exp= (checked, otherwise unused)
};

// True when the TXT text is an SPF version 1 record: "v=spf1" (any case) then SP or the end.
bool is_spf1(std::string_view txt);

// Parses a whole record (RFC 7208 4.6.1, 12). The error is a short reason for the explanation
// ("unknown mechanism 'foo'"); every error is a permerror.
govmail::Result<Record, std::string> parse_record(std::string_view txt);

// macro-string of RFC 7208 7.1 (`exp_letters`: also c, r, t, which only explanation text may
// use); domain-spec additionally ends in a macro-expand or "." toplabel ["."].
bool valid_macro_string(std::string_view s, bool exp_letters = false);
bool valid_domain_spec(std::string_view s);

// An address: IPv4 or IPv6.
struct ClientIp {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4: the first 4
};
// `map_v4`: an IPv4-mapped IPv6 address (::ffff:192.0.2.1) is taken as IPv4 (client addresses;
// not AAAA answers, which only ever match IPv6 clients).
std::optional<ClientIp> parse_ip(std::string_view text, bool map_v4 = true);
// "192.0.2.1" or the 32 dot-separated nibbles of RFC 7208 7.3 ("1.0.b.c...2.0.0.1" unreversed).
std::string macro_ip(const ClientIp& ip);
// True when `ip` lies in network/cidr of the same family (cidr 0 matches the whole family).
bool in_network(const ClientIp& ip, const std::array<std::uint8_t, 16>& network, int cidr);

struct MacroContext {
  std::string sender;         // s
  std::string local_part;     // l
  std::string sender_domain;  // o
  std::string domain;         // d
  std::string ip;             // i (macro_ip)
  bool ip_v6 = false;         // v
  std::string helo;           // h
  // p: filled by the caller (it costs DNS lookups) only for macro-strings that use it.
  std::string validated_domain = "unknown";
};
// Expands a checked macro-string. Errors: %{x0}, a letter not allowed outside exp text.
govmail::Result<std::string, std::string> expand(std::string_view macro_string,
                                                 const MacroContext& ctx);
// True when the macro-string has a %{p} (any case): expanding it needs the validated names.
bool uses_ptr_macro(std::string_view macro_string);
// True when `name` is `domain` or a subdomain of it, ignoring case (RFC 7208 5.5).
bool within_domain(std::string_view name, std::string_view domain);
// The %{p} value of RFC 7208 7.3 among the validated names of the client: `domain` itself if
// validated, else a validated subdomain of it, else the first validated name, else "unknown".
std::string validated_domain(const std::vector<std::string>& names, std::string_view domain);

// expand() for a domain-spec: a trailing dot dropped, then labels removed on the left until the
// name fits in kMaxDomainLength (RFC 7208 7.3).
govmail::Result<std::string, std::string> expand_domain(std::string_view domain_spec,
                                                        const MacroContext& ctx);

// A name we are willing to query: 1..253 bytes, labels of 1..63 printable ASCII bytes other than
// space and backslash, at least two labels when `multi_label` (RFC 7208 4.3). A trailing dot is
// allowed.
bool valid_name(std::string_view name, bool multi_label);

}  // namespace govmail::smtp::spf::detail
