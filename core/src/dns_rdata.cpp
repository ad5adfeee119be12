#include "dns_rdata.hpp"

#include <arpa/inet.h>

#include <algorithm>

namespace govmail::core::dns {

namespace {

bool host_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

char lower(unsigned char c) {
  return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

std::optional<std::string> address_text(int family, std::string_view rdata, std::size_t size) {
  if (rdata.size() != size) return std::nullopt;
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(family, rdata.data(), text, sizeof text) == nullptr) return std::nullopt;
  return std::string(text);
}

}  // namespace

std::optional<std::string> parse_wire_name(std::string_view wire, std::size_t& used) {
  std::string name;
  std::size_t pos = 0;
  for (;;) {
    if (pos >= wire.size()) return std::nullopt;  // truncated: no root label
    const auto len = static_cast<unsigned char>(wire[pos]);
    if (len == 0) break;
    if (len > kMaxLabel) return std::nullopt;  // 0xC0 pointer, 0x40 extended type, or too long
    if (wire.size() - pos - 1 < len) return std::nullopt;
    if (pos + 1 + len + 1 > kMaxWireName) return std::nullopt;  // counting the root byte
    if (!name.empty()) name.push_back('.');
    for (std::size_t i = 0; i < len; ++i) {
      const auto c = static_cast<unsigned char>(wire[pos + 1 + i]);
      if (!host_byte(c)) return std::nullopt;
      name.push_back(lower(c));
    }
    pos += 1 + len;
  }
  used = pos + 1;
  return name;
}

std::optional<MxHost> parse_mx_rdata(std::string_view rdata) {
  if (rdata.size() < 3) return std::nullopt;
  const auto hi = static_cast<unsigned char>(rdata[0]);
  const auto lo = static_cast<unsigned char>(rdata[1]);
  std::size_t used = 0;
  std::optional<std::string> host = parse_wire_name(rdata.substr(2), used);
  if (!host || 2 + used != rdata.size()) return std::nullopt;
  return MxHost{static_cast<std::uint16_t>(hi << 8 | lo), std::move(*host)};
}

std::optional<std::string> parse_ptr_rdata(std::string_view rdata) {
  std::size_t used = 0;
  std::optional<std::string> name = parse_wire_name(rdata, used);
  if (!name || name->empty() || used != rdata.size()) return std::nullopt;
  return name;
}

std::optional<std::string> reverse_name(const std::string& ip) {
  unsigned char bytes[16] = {};
  std::string out;
  if (inet_pton(AF_INET, ip.c_str(), bytes) == 1) {
    for (int i = 3; i >= 0; --i) out += std::to_string(bytes[i]) + ".";
    return out + "in-addr.arpa";
  }
  if (inet_pton(AF_INET6, ip.c_str(), bytes) != 1) return std::nullopt;
  constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out += kHex[bytes[i] & 0xf];
    out += '.';
    out += kHex[bytes[i] >> 4];
    out += '.';
  }
  return out + "ip6.arpa";
}

std::optional<std::string> parse_txt_rdata(std::string_view rdata) {
  if (rdata.empty()) return std::nullopt;
  std::string text;
  std::size_t pos = 0;
  while (pos < rdata.size()) {
    const auto len = static_cast<unsigned char>(rdata[pos]);
    if (rdata.size() - pos - 1 < len) return std::nullopt;
    text.append(rdata.substr(pos + 1, len));
    pos += 1 + len;
  }
  return text;
}

std::optional<std::string> parse_a_rdata(std::string_view rdata) {
  return address_text(AF_INET, rdata, 4);
}

std::optional<std::string> parse_aaaa_rdata(std::string_view rdata) {
  return address_text(AF_INET6, rdata, 16);
}

std::string rcode_text(int rcode) {
  switch (rcode) {
    case 0:
      return "NOERROR";
    case 1:
      return "FORMERR";
    case 2:
      return "SERVFAIL";
    case 3:
      return "NXDOMAIN";
    case 4:
      return "NOTIMP";
    case 5:
      return "REFUSED";
    default:
      return "rcode " + std::to_string(rcode);
  }
}

DnsStatus base_status(const RawAnswer& raw, std::string& error) {
  if (raw.stopped) {
    error = "resolver stopped";
    return DnsStatus::temporary;
  }
  if (raw.timed_out) {
    error = "timeout";
    return DnsStatus::temporary;
  }
  if (raw.ub_error != 0) {
    error = raw.ub_error_text.empty() ? "resolver error " + std::to_string(raw.ub_error)
                                      : raw.ub_error_text;
    return DnsStatus::temporary;
  }
  if (raw.rcode == 3 || (raw.rcode == 0 && raw.nxdomain)) return DnsStatus::nxdomain;
  if (raw.rcode != 0) {
    error = rcode_text(raw.rcode);
    return DnsStatus::temporary;
  }
  if (!raw.havedata || raw.rdata.empty()) return DnsStatus::nodata;
  return DnsStatus::ok;
}

MxAnswer mx_answer(const RawAnswer& raw, std::mt19937& rng) {
  MxAnswer out;
  out.status = base_status(raw, out.error);
  if (out.status != DnsStatus::ok) return out;
  bool root_seen = false;
  for (const std::string& rd : raw.rdata) {
    std::optional<MxHost> mx = parse_mx_rdata(rd);
    if (!mx) continue;
    if (mx->host.empty()) {
      root_seen = true;  // "." is no host to connect to, whatever else the RRset says
      continue;
    }
    out.hosts.push_back(std::move(*mx));
  }
  if (out.hosts.empty()) {
    if (root_seen) {
      // RFC 7505: the domain says it accepts no mail. Only "." targets were valid; a lone
      // "." with a preference other than 0 means the same, there being nowhere to go.
      out.null_mx = true;
      return out;
    }
    out.status = DnsStatus::temporary;
    out.error = "no valid MX record";
    return out;
  }
  std::shuffle(out.hosts.begin(), out.hosts.end(), rng);
  std::stable_sort(out.hosts.begin(), out.hosts.end(),
                   [](const MxHost& a, const MxHost& b) { return a.preference < b.preference; });
  return out;
}

AddressAnswer address_answer(const RawAnswer& a, const RawAnswer& aaaa) {
  AddressAnswer out;
  std::string error_a;
  std::string error_aaaa;
  const DnsStatus sa = base_status(a, error_a);
  const DnsStatus s6 = base_status(aaaa, error_aaaa);
  bool malformed = false;
  if (sa == DnsStatus::ok) {
    for (const std::string& rd : a.rdata) {
      std::optional<std::string> text = parse_a_rdata(rd);
      if (text)
        out.addresses.push_back(std::move(*text));
      else
        malformed = true;
    }
  }
  if (s6 == DnsStatus::ok) {
    for (const std::string& rd : aaaa.rdata) {
      std::optional<std::string> text = parse_aaaa_rdata(rd);
      if (text)
        out.addresses.push_back(std::move(*text));
      else
        malformed = true;
    }
  }
  if (!out.addresses.empty()) {
    out.status = DnsStatus::ok;
    // One family failing does not hide the other; say why for the log.
    if (sa == DnsStatus::temporary) out.error = "A: " + error_a;
    if (s6 == DnsStatus::temporary) out.error = "AAAA: " + error_aaaa;
    return out;
  }
  if (sa == DnsStatus::temporary || s6 == DnsStatus::temporary) {
    out.status = DnsStatus::temporary;
    out.error = sa == DnsStatus::temporary ? "A: " + error_a : "AAAA: " + error_aaaa;
    return out;
  }
  if (malformed) {
    out.status = DnsStatus::temporary;
    out.error = "no valid address record";
    return out;
  }
  out.status = sa == DnsStatus::nxdomain && s6 == DnsStatus::nxdomain ? DnsStatus::nxdomain
                                                                      : DnsStatus::nodata;
  return out;
}

TxtAnswer txt_answer(const RawAnswer& raw) {
  TxtAnswer out;
  out.status = base_status(raw, out.error);
  if (out.status != DnsStatus::ok) return out;
  for (const std::string& rd : raw.rdata) {
    std::optional<std::string> text = parse_txt_rdata(rd);
    if (text) out.texts.push_back(std::move(*text));
  }
  if (out.texts.empty()) {
    out.status = DnsStatus::temporary;
    out.error = "no valid TXT record";
  }
  return out;
}

PtrAnswer ptr_answer(const RawAnswer& raw) {
  PtrAnswer out;
  out.status = base_status(raw, out.error);
  if (out.status != DnsStatus::ok) return out;
  for (const std::string& rd : raw.rdata) {
    std::optional<std::string> name = parse_ptr_rdata(rd);
    if (name) out.names.push_back(std::move(*name));
  }
  if (out.names.empty()) {
    out.status = DnsStatus::temporary;
    out.error = "no valid PTR record";
  }
  return out;
}

}  // namespace govmail::core::dns
