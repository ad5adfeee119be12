#include "smtp/inbound_auth.hpp"

#include <random>

#include "core/asio.hpp"
#include "core/dns.hpp"
#include "smtp/command.hpp"
#include "smtp/dkim_verify.hpp"
#include "smtp/dmarc.hpp"
#include "smtp/headers.hpp"
#include "smtp/spf.hpp"

namespace govmail::smtp {
namespace {

// The domain of an address, lower-case ("" without '@').
std::string domain_part(std::string_view address) {
  return lower_ascii(domain_of(address));
}

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// RFC 7489 6.6.3: _dmarc.<From domain>, then the organizational domain's.
awaitable<dmarc::Input> discover(core::Resolver& resolver, std::string from_domain) {
  dmarc::Input in;
  in.from_domain = from_domain;
  const auto names = dmarc::lookup_names(from_domain);
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto txt = co_await resolver.txt(names[i]);
    if (txt.status == core::DnsStatus::temporary) {
      in.dns_temporary = true;
      break;
    }
    auto found = dmarc::select_record(txt.texts);
    if (found.status == dmarc::Discovery::Status::no_record) continue;
    if (found.status == dmarc::Discovery::Status::record) {
      in.record = found.record;
      in.record_invalid = !found.record.has_value();
      in.record_from_org = i > 0;
    }
    break;
  }
  co_return in;
}

double sample() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

InboundAuth::InboundAuth(std::shared_ptr<core::Resolver> resolver, std::string authserv_id,
                         std::string dmarc_reject_action)
    : resolver_(std::move(resolver)),
      authserv_id_(std::move(authserv_id)),
      dmarc_reject_action_(std::move(dmarc_reject_action)) {}

InboundAuth::~InboundAuth() = default;

awaitable<InboundVerdict> InboundAuth::check(InboundQuery q) const {
  InboundVerdict v;
  const std::string_view message = q.message;
  // SPF: the MAIL FROM domain, or the HELO name for the null reverse-path (RFC 7208 2.4).
  std::string spf_domain = q.mail_from.empty() ? q.helo : domain_part(q.mail_from);
  std::string sender = q.mail_from.empty() ? "postmaster@" + q.helo : q.mail_from;
  auto spf = co_await spf::check_host(*resolver_, q.client_ip, spf_domain, sender, q.helo);
  auto sigs = co_await dkim::verify(*resolver_, message, now_unix());

  const auto froms = header_addresses(message, "From");
  v.from_domain = froms.size() == 1 ? domain_part(froms.front()) : "";
  auto in = co_await discover(*resolver_, v.from_domain);
  in.spf_result = std::string(spf::to_string(spf.result));
  in.spf_domain = spf_domain;
  for (const auto& s : sigs) in.dkim.emplace_back(std::string(dkim::to_string(s.result)), s.domain);
  const auto d = dmarc::evaluate(in, sample());

  std::vector<auth_results::Method> methods;
  if (sigs.empty()) methods.push_back({"dkim", "none", "no signature", {}});
  for (const auto& s : sigs)
    methods.push_back(
        {"dkim",
         std::string(dkim::to_string(s.result)),
         s.reason,
         {{"header.d", s.domain}, {"header.s", s.selector}, {"header.b", s.b_prefix}}});
  auth_results::Method spf_method{
      "spf", std::string(spf::to_string(spf.result)), spf.explanation, {}};
  if (q.mail_from.empty())
    spf_method.properties.push_back({"smtp.helo", q.helo});
  else
    spf_method.properties.push_back({"smtp.mailfrom", spf_domain});
  methods.push_back(std::move(spf_method));
  auth_results::Method dm{"dmarc", std::string(dmarc::to_string(d.result)), d.reason, {}};
  if (d.result == dmarc::Result::fail)
    dm.comment = "p=" + std::string(dmarc::to_string(d.policy)) + "; " + d.reason;
  if (!v.from_domain.empty()) dm.properties.push_back({"header.from", v.from_domain});
  methods.push_back(std::move(dm));
  v.header = auth_results::header(authserv_id_, methods);

  v.summary = "spf=" + in.spf_result + " dkim=";
  if (sigs.empty()) v.summary += "none";
  for (std::size_t i = 0; i < sigs.size(); ++i)
    v.summary += (i ? "," : "") + std::string(dkim::to_string(sigs[i].result));
  v.summary += " dmarc=" + std::string(dmarc::to_string(d.result));
  if (d.result == dmarc::Result::fail) {
    if (d.policy == dmarc::Policy::reject)
      v.action = dmarc_reject_action_ == "junk" ? InboundVerdict::Action::junk
                                                : InboundVerdict::Action::reject;
    else if (d.policy == dmarc::Policy::quarantine)
      v.action = InboundVerdict::Action::junk;
  }
  co_return v;
}

}  // namespace govmail::smtp
