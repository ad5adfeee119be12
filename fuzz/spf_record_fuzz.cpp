// Fuzz target for the SPF record parser and macro expander (smtp/src/auth/spf_record.hpp): SPF
// records are TXT text from any DNS server, and the macro values (sender, HELO) come from the
// SMTP client. The input is parsed as a record; every domain-spec it accepts is expanded with a
// hostile context, and the input is also expanded as a macro-string on its own.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/spf_record.hpp"

namespace {

namespace spf = govmail::smtp::spf::detail;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "spf_record_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

void check_expansion(std::string_view spec, const spf::MacroContext& ctx) {
  auto name = spf::expand_domain(spec, ctx);
  if (name) require(name->size() <= spf::kMaxDomainLength, "expanded name within 253 bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  spf::MacroContext ctx;
  ctx.sender = "a.b-c+d@x.example";
  ctx.local_part = "a.b-c+d";
  ctx.sender_domain = "x.example";
  ctx.domain = std::string(input.substr(0, 300));
  ctx.ip = spf::macro_ip(*spf::parse_ip("2001:db8::1"));
  ctx.ip_v6 = true;
  ctx.helo = std::string(input.substr(0, 100));
  auto record = spf::parse_record(input);
  if (record) {
    require(input.size() <= spf::kMaxRecordLength, "record within the length limit");
    for (const spf::Directive& d : record->directives) {
      require(d.cidr4 >= 0 && d.cidr4 <= 32 && d.cidr6 >= 0 && d.cidr6 <= 128, "cidr in range");
      if (!d.domain_spec.empty()) {
        require(spf::valid_domain_spec(d.domain_spec), "accepted domain-spec is valid");
        check_expansion(d.domain_spec, ctx);
      }
    }
    if (record->redirect) check_expansion(*record->redirect, ctx);
  }
  if (spf::valid_macro_string(input)) (void)spf::expand(input, ctx);
  (void)spf::parse_ip(input);
  (void)spf::valid_name(input, true);
  return 0;
}
