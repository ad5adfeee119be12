#include "smtp/spf.hpp"

#include <arpa/inet.h>

#include <optional>
#include <vector>

#include "auth/spf_record.hpp"
#include "core/asio.hpp"
#include "core/dns.hpp"

namespace govmail::smtp::spf {

using namespace detail;

std::string_view to_string(Result result) {
  switch (result) {
    case Result::none:
      return "none";
    case Result::neutral:
      return "neutral";
    case Result::pass:
      return "pass";
    case Result::fail:
      return "fail";
    case Result::softfail:
      return "softfail";
    case Result::temperror:
      return "temperror";
    case Result::permerror:
      return "permerror";
  }
  return "permerror";
}

namespace {

// RFC 7208 4.6.4.
constexpr int kMaxLookupTerms = 10;
constexpr int kMaxVoidLookups = 2;
constexpr std::size_t kMaxMxNames = 10;
// RFC 7208 4.6.4 and 5.5: PTR names beyond the first 10 are ignored, so at most 10 address
// lookups validate them.
constexpr std::size_t kMaxPtrNames = 10;

// Client and DNS text in an explanation: cut short, control bytes and non-ASCII replaced.
std::string printable(std::string_view s) {
  constexpr std::size_t kMax = 80;
  std::string out;
  for (char c : s.substr(0, kMax)) out += (c >= 0x20 && c <= 0x7e) ? c : '?';
  if (s.size() > kMax) out += "...";
  return out;
}

Result result_of(Qualifier q) {
  switch (q) {
    case Qualifier::pass:
      return Result::pass;
    case Qualifier::fail:
      return Result::fail;
    case Qualifier::softfail:
      return Result::softfail;
    case Qualifier::neutral:
      return Result::neutral;
  }
  return Result::neutral;
}

// The client address as text for a PTR query; an IPv4-mapped address is asked as IPv4.
std::string ip_text(const ClientIp& ip) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(ip.v6 ? AF_INET6 : AF_INET, ip.bytes.data(), text, sizeof text);
  return text;
}

struct Outcome {
  Result result;
  std::string explanation;
};

// One mechanism: it matched, it did not, or the evaluation ends here (errors, limits).
struct Step {
  bool matched = false;
  std::optional<Outcome> stop;
};

class Evaluator {
 public:
  Evaluator(core::Resolver& resolver, ClientIp ip, MacroContext base, Limits limits)
      : resolver_(resolver),
        ip_(ip),
        base_(std::move(base)),
        limits_(limits),
        start_(std::chrono::steady_clock::now()) {}

  awaitable<Outcome> check(std::string domain) {
    if (!domain.empty() && domain.back() == '.') domain.pop_back();
    if (!valid_name(domain, true)) {
      co_return Outcome{Result::none, "not a domain name: " + printable(domain)};
    }
    if (auto stop = before_query()) co_return *stop;
    const core::TxtAnswer txt = co_await resolver_.txt(domain);
    switch (txt.status) {
      case core::DnsStatus::temporary:
        co_return Outcome{Result::temperror,
                          "DNS " + printable(txt.error) + " for TXT " + printable(domain)};
      case core::DnsStatus::nxdomain:
        co_return Outcome{Result::none, "no such domain " + printable(domain)};
      case core::DnsStatus::nodata:
        co_return Outcome{Result::none, "no SPF record in " + printable(domain)};
      case core::DnsStatus::ok:
        break;
    }
    std::vector<const std::string*> records;
    for (const std::string& t : txt.texts) {
      if (is_spf1(t)) records.push_back(&t);
    }
    if (records.empty()) co_return Outcome{Result::none, "no SPF record in " + printable(domain)};
    if (records.size() > 1) {
      co_return Outcome{Result::permerror,
                        std::to_string(records.size()) + " SPF records in " + printable(domain)};
    }
    auto record = parse_record(*records[0]);
    if (!record) {
      co_return Outcome{Result::permerror,
                        "syntax: " + printable(record.error()) + " in " + printable(domain)};
    }
    MacroContext ctx = base_;
    ctx.domain = domain;
    for (const Directive& d : record->directives) {
      Step step = co_await evaluate(d, ctx);
      if (step.stop) co_return std::move(*step.stop);
      if (step.matched) {
        co_return Outcome{result_of(d.qualifier),
                          "matched " + printable(d.text) + " in " + printable(domain)};
      }
    }
    if (record->redirect) {
      if (auto stop = count_lookup()) co_return *stop;
      auto target = co_await expand_spec(*record->redirect, ctx);
      if (!target) co_return Outcome{Result::permerror, "redirect: " + target.error()};
      Outcome out = co_await check(*target);
      if (out.result == Result::none) {
        co_return Outcome{Result::permerror,
                          "redirect to " + printable(*target) + ": " + out.explanation};
      }
      co_return out;
    }
    co_return Outcome{Result::neutral, "no term matched in " + printable(domain)};
  }

 private:
  awaitable<Step> evaluate(const Directive& d, const MacroContext& ctx) {
    switch (d.mechanism) {
      case Mechanism::all:
        co_return Step{true, std::nullopt};
      case Mechanism::ip4:
        co_return Step{!ip_.v6 && in_network(ip_, d.network, d.cidr4), std::nullopt};
      case Mechanism::ip6:
        co_return Step{ip_.v6 && in_network(ip_, d.network, d.cidr6), std::nullopt};
      case Mechanism::ptr:
        co_return co_await ptr(d, ctx);
      case Mechanism::include:
        co_return co_await include(d, ctx);
      case Mechanism::a:
      case Mechanism::mx:
      case Mechanism::exists:
        break;
    }
    if (auto stop = count_lookup()) co_return Step{false, std::move(stop)};
    std::string target = ctx.domain;
    if (!d.domain_spec.empty()) {
      auto name = co_await expand_spec(d.domain_spec, ctx);
      if (!name) co_return Step{false, Outcome{Result::permerror, name.error()}};
      target = std::move(*name);
    }
    // A name that macro expansion made unusable (empty labels, spaces from a local part)
    // cannot exist in the DNS: the mechanism does not match, nothing is asked.
    if (!valid_name(target, false)) co_return Step{};
    if (d.mechanism == Mechanism::mx) co_return co_await mx(d, target);
    if (auto stop = before_query()) co_return Step{false, std::move(stop)};
    const core::AddressAnswer answer = co_await resolver_.addresses(target);
    if (answer.status == core::DnsStatus::temporary) {
      co_return Step{false, temperror(answer.error, target)};
    }
    // exists asks for A records whatever the client's family; a asks the client's family.
    const bool v6 = d.mechanism == Mechanism::exists ? false : ip_.v6;
    const int cidr = v6 ? d.cidr6 : d.cidr4;
    bool any = false;
    bool matched = false;
    for (const std::string& text : answer.addresses) {
      auto addr = parse_ip(text, false);
      if (!addr || addr->v6 != v6) continue;
      any = true;
      matched = matched || d.mechanism == Mechanism::exists || in_network(ip_, addr->bytes, cidr);
    }
    if (!any) {
      if (auto stop = void_lookup(target)) co_return Step{false, std::move(stop)};
    }
    co_return Step{matched, std::nullopt};
  }

  awaitable<Step> include(const Directive& d, const MacroContext& ctx) {
    if (auto stop = count_lookup()) co_return Step{false, std::move(stop)};
    auto target = co_await expand_spec(d.domain_spec, ctx);
    if (!target) co_return Step{false, Outcome{Result::permerror, "include: " + target.error()}};
    Outcome inner = co_await check(*target);
    switch (inner.result) {
      case Result::pass:
        co_return Step{true, std::nullopt};
      case Result::fail:
      case Result::softfail:
      case Result::neutral:
        co_return Step{};
      case Result::temperror:
      case Result::permerror:
        co_return Step{false, std::move(inner)};
      case Result::none:
        break;
    }
    // RFC 7208 5.2: an included domain without a record is a permerror.
    co_return Step{false, Outcome{Result::permerror,
                                  "include of " + printable(*target) + ": " + inner.explanation}};
  }

  awaitable<Step> mx(const Directive& d, const std::string& target) {
    if (auto stop = before_query()) co_return Step{false, std::move(stop)};
    const core::MxAnswer answer = co_await resolver_.mx(target);
    if (answer.status == core::DnsStatus::temporary) {
      co_return Step{false, temperror(answer.error, target)};
    }
    if (answer.status != core::DnsStatus::ok) {
      if (auto stop = void_lookup(target)) co_return Step{false, std::move(stop)};
      co_return Step{};
    }
    if (answer.hosts.size() > kMaxMxNames) {
      co_return Step{false,
                     Outcome{Result::permerror, "more than 10 MX names for " + printable(target)}};
    }
    const int cidr = ip_.v6 ? d.cidr6 : d.cidr4;
    for (const core::MxHost& host : answer.hosts) {
      if (auto stop = before_query()) co_return Step{false, std::move(stop)};
      const core::AddressAnswer addrs = co_await resolver_.addresses(host.host);
      if (addrs.status == core::DnsStatus::temporary) {
        co_return Step{false, temperror(addrs.error, host.host)};
      }
      for (const std::string& text : addrs.addresses) {
        auto addr = parse_ip(text, false);
        if (addr && addr->v6 == ip_.v6 && in_network(ip_, addr->bytes, cidr)) {
          co_return Step{true, std::nullopt};
        }
      }
    }
    co_return Step{};
  }

  // RFC 7208 5.5. A PTR lookup that fails or finds nothing is no match, not an error.
  awaitable<Step> ptr(const Directive& d, const MacroContext& ctx) {
    if (auto stop = count_lookup()) co_return Step{false, std::move(stop)};
    std::string target = ctx.domain;
    if (!d.domain_spec.empty()) {
      auto name = co_await expand_spec(d.domain_spec, ctx);
      if (!name) co_return Step{false, Outcome{Result::permerror, name.error()}};
      target = std::move(*name);
    }
    if (!valid_name(target, false)) co_return Step{};
    if (auto stop = before_query()) co_return Step{false, std::move(stop)};
    const std::vector<std::string> names = co_await validated_names();
    if (ptr_void_) {
      ptr_void_ = false;  // counted once, by the mechanism that asked
      if (auto stop = void_lookup(ptr_name_)) co_return Step{false, std::move(stop)};
    }
    for (const std::string& name : names) {
      if (within_domain(name, target)) co_return Step{true, std::nullopt};
    }
    co_return Step{};
  }

  // The client's PTR names whose addresses include the client (RFC 7208 5.5), asked once per
  // evaluation: ptr and %{p} share them. DNS errors leave a name out, or all of them.
  awaitable<std::vector<std::string>> validated_names() {
    if (validated_) co_return *validated_;
    validated_.emplace();
    ptr_name_ = ip_text(ip_);
    if (before_query()) co_return *validated_;
    const core::PtrAnswer answer = co_await resolver_.ptr(ptr_name_);
    ptr_void_ =
        answer.status == core::DnsStatus::nxdomain || answer.status == core::DnsStatus::nodata;
    if (answer.status != core::DnsStatus::ok) co_return *validated_;
    const std::size_t count = std::min(answer.names.size(), kMaxPtrNames);
    for (std::size_t i = 0; i < count; ++i) {
      const std::string& name = answer.names[i];
      if (before_query()) break;
      const core::AddressAnswer addrs = co_await resolver_.addresses(name);
      for (const std::string& text : addrs.addresses) {
        auto addr = parse_ip(text, false);
        if (addr && addr->v6 == ip_.v6 && in_network(ip_, addr->bytes, ip_.v6 ? 128 : 32)) {
          validated_->push_back(name);
          break;
        }
      }
    }
    co_return *validated_;
  }

  // expand_domain(), with %{p} looked up first when the spec uses it (RFC 7208 7.3).
  awaitable<govmail::Result<std::string, std::string>> expand_spec(const std::string& spec,
                                                                   const MacroContext& ctx) {
    if (!uses_ptr_macro(spec)) co_return expand_domain(spec, ctx);
    MacroContext with_p = ctx;
    const std::vector<std::string> names = co_await validated_names();
    with_p.validated_domain = validated_domain(names, ctx.domain);
    co_return expand_domain(spec, with_p);
  }

  std::optional<Outcome> count_lookup() {
    if (++lookups_ <= kMaxLookupTerms) return std::nullopt;
    return Outcome{Result::permerror, "DNS lookup limit (10) exceeded"};
  }

  std::optional<Outcome> void_lookup(const std::string& name) {
    if (++voids_ <= kMaxVoidLookups) return std::nullopt;
    return Outcome{Result::permerror, "void lookup limit (2) exceeded at " + printable(name)};
  }

  std::optional<Outcome> before_query() const {
    if (std::chrono::steady_clock::now() - start_ < limits_.budget) return std::nullopt;
    return Outcome{Result::temperror, "time budget exceeded"};
  }

  static Outcome temperror(const std::string& error, const std::string& name) {
    return Outcome{Result::temperror, "DNS " + printable(error) + " for " + printable(name)};
  }

  core::Resolver& resolver_;
  ClientIp ip_;
  MacroContext base_;
  Limits limits_;
  std::chrono::steady_clock::time_point start_;
  int lookups_ = 0;
  int voids_ = 0;
  std::optional<std::vector<std::string>> validated_;
  std::string ptr_name_;   // the client address the PTR lookup asked for
  bool ptr_void_ = false;  // that lookup found nothing: a void lookup not yet counted
};

}  // namespace

awaitable<Evaluation> check_host(core::Resolver& resolver, std::string ip, std::string domain,
                                 std::string sender, std::string helo) {
  return check_host(resolver, std::move(ip), std::move(domain), std::move(sender), std::move(helo),
                    Limits{});
}

awaitable<Evaluation> check_host(core::Resolver& resolver, std::string ip, std::string domain,
                                 std::string sender, std::string helo, Limits limits) {
  if (!domain.empty() && domain.back() == '.') domain.pop_back();
  const std::optional<ClientIp> client = parse_ip(ip);
  if (!client) {
    co_return Evaluation{Result::none, domain, "client address not an IP: " + printable(ip)};
  }
  MacroContext ctx;
  // RFC 7208 4.3: a sender without a local part is postmaster@domain.
  const std::size_t at = sender.rfind('@');
  ctx.sender_domain =
      at == std::string::npos ? (sender.empty() ? domain : sender) : sender.substr(at + 1);
  ctx.local_part = at == std::string::npos || at == 0 ? "postmaster" : sender.substr(0, at);
  ctx.sender = ctx.local_part + "@" + ctx.sender_domain;
  ctx.ip = macro_ip(*client);
  ctx.ip_v6 = client->v6;
  ctx.helo = std::move(helo);
  Evaluator evaluator(resolver, *client, std::move(ctx), limits);
  Outcome out = co_await evaluator.check(domain);
  co_return Evaluation{out.result, std::move(domain), std::move(out.explanation)};
}

}  // namespace govmail::smtp::spf
