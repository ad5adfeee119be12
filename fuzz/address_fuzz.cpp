// Fuzz target for the RFC 5322 address-list parser (store/address.hpp) and the SMTP sender checks
// built on it (smtp/headers.hpp). Besides never crashing: groups are balanced, hosts carry no
// white space, and every domain that ENVELOPE will show for a From: value is among the domains
// the SMTP check looks up (the property issue 11 is about).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/text.hpp"
#include "smtp/headers.hpp"
#include "store/address.hpp"

namespace {

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "address_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

bool looked_up(const govmail::smtp::SenderFields& f, std::string_view host) {
  while (!host.empty() && (host.front() == '.' || host.front() == '-')) host.remove_prefix(1);
  if (host.empty() || host.front() == '[') return true;  // literals name no domain
  const auto ascii = govmail::core::domain_to_ascii(host);
  if (!ascii) return true;  // looked up in other forms; not comparable here
  return std::any_of(f.domains.begin(), f.domains.end(),
                     [&](const auto& d) { return d.domain == *ascii; });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const govmail::store::AddressList list = govmail::store::parse_address_list(input);
  int open_groups = 0;
  for (const auto& a : list.items) {
    if (!a.host) {
      open_groups += a.mailbox ? 1 : -1;
      require(open_groups == 0 || open_groups == 1, "groups balanced and not nested");
      continue;
    }
    require(a.mailbox.has_value(), "a mailbox has a local part");
    require(a.host->find_first_of(" \t\r\n") == std::string::npos, "no white space in a host");
    require(!govmail::store::addr_spec(a).empty() || a.mailbox->empty(), "addr_spec");
  }
  require(open_groups == 0, "every group ends");

  if (input.find_first_of("\r\n") != std::string_view::npos) return 0;  // one header line only
  const std::string message = "From: " + std::string(input) + "\r\n\r\n";
  const auto fields = govmail::smtp::sender_fields(message);
  // What ENVELOPE parses: the field value with SP/HTAB trimmed at both ends (the MIME scanner).
  std::string_view value = input;
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  const auto as_header = govmail::store::parse_address_list(value);
  for (const auto& a : as_header.items)
    if (a.host) require(looked_up(fields, *a.host), "every shown domain is checked");
  return 0;
}
