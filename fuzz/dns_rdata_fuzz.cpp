// Fuzz target for the DNS rdata parsers of the outbound resolver (core/src/dns_rdata.hpp): the
// answers come from any DNS server on the path, so MX, TXT, PTR and address rdata are hostile
// bytes.
// The input is read as a list of rdata records (<length byte><bytes>...), fed to every parser
// and to the answer mapping; names that come out must be usable as SMTP hosts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dns_rdata.hpp"

namespace {

namespace dns = govmail::core::dns;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "dns_rdata_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

void check_host(const std::string& host) {
  require(host.size() <= 253, "host within 253 bytes");
  require(host.empty() || (host.front() != '.' && host.back() != '.'), "no leading/trailing dot");
  require(host.find("..") == std::string::npos, "no empty label");
  for (char c : host) {
    require((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.',
            "host is lower-case letters, digits, '-', '_', '.'");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  // The whole input as one rdata of each type.
  if (auto mx = dns::parse_mx_rdata(input)) check_host(mx->host);
  if (auto name = dns::parse_ptr_rdata(input)) {
    check_host(*name);
    require(!name->empty(), "PTR names a host");
  }
  if (auto txt = dns::parse_txt_rdata(input)) require(txt->size() < input.size(), "TXT shrinks");
  require(dns::parse_a_rdata(input).has_value() == (input.size() == 4), "A only from 4 bytes");
  require(dns::parse_aaaa_rdata(input).has_value() == (input.size() == 16),
          "AAAA only from 16 bytes");
  std::size_t used = 0;
  if (auto name = dns::parse_wire_name(input, used)) {
    check_host(*name);
    require(used >= 1 && used <= input.size() && used <= dns::kMaxWireName, "name length");
  }

  // As a list of records for the answer mapping.
  dns::RawAnswer raw;
  raw.havedata = true;
  for (std::size_t pos = 0; pos < input.size();) {
    std::size_t len = static_cast<unsigned char>(input[pos]);
    ++pos;
    len = std::min(len, input.size() - pos);
    raw.rdata.emplace_back(input.substr(pos, len));
    pos += len;
  }
  std::mt19937 rng(size);
  govmail::core::MxAnswer mx = dns::mx_answer(raw, rng);
  require(!(mx.null_mx && !mx.hosts.empty()), "null MX has no hosts");
  require(mx.status != govmail::core::DnsStatus::ok || mx.null_mx || !mx.hosts.empty(),
          "ok MX answer has hosts or is null MX");
  for (std::size_t i = 0; i < mx.hosts.size(); ++i) {
    check_host(mx.hosts[i].host);
    require(!mx.hosts[i].host.empty(), "no root host");
    if (i > 0) require(mx.hosts[i - 1].preference <= mx.hosts[i].preference, "sorted");
  }
  govmail::core::TxtAnswer txt = dns::txt_answer(raw);
  require(txt.status != govmail::core::DnsStatus::ok || !txt.texts.empty(), "ok TXT has texts");
  govmail::core::PtrAnswer ptr = dns::ptr_answer(raw);
  require(ptr.status != govmail::core::DnsStatus::ok || !ptr.names.empty(), "ok PTR has names");
  for (const std::string& name : ptr.names) {
    check_host(name);
    require(!name.empty(), "no root PTR name");
  }
  govmail::core::AddressAnswer addresses = dns::address_answer(raw, raw);
  require(addresses.status != govmail::core::DnsStatus::ok || !addresses.addresses.empty(),
          "ok address answer has addresses");
  return 0;
}
