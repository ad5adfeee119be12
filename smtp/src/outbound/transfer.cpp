#include "transfer.hpp"

#include <spdlog/spdlog.h>

#include "core/asio.hpp"
#include "core/log.hpp"

namespace govmail::smtp::outbound {
namespace {

client::TlsMode tls_mode(const std::string& s) {
  if (s == "none") return client::TlsMode::none;
  if (s == "required") return client::TlsMode::required;
  if (s == "verify") return client::TlsMode::required_verified;
  return client::TlsMode::opportunistic;
}

AttemptResult::Kind kind_of(const Reply& r) {
  if (r.code >= 200 && r.code < 300) return AttemptResult::Kind::delivered;
  if (r.code >= 500 && r.code < 600) return AttemptResult::Kind::permanent;
  return AttemptResult::Kind::temporary;
}

std::string reply_text(const Reply& r) {
  std::string t = std::to_string(r.code);
  if (!r.enhanced.empty()) t += " " + r.enhanced;
  if (!r.text.empty()) t += " " + r.text;
  for (auto& c : t)
    if (c == '\r' || c == '\n') c = ' ';
  return t;
}

client::Envelope envelope_of(const std::vector<store::ClaimedRecipient>& rcpts) {
  client::Envelope env;
  env.from = rcpts.front().envelope_from;
  env.ret = rcpts.front().dsn_ret;
  env.envid = rcpts.front().dsn_envid;
  for (const auto& r : rcpts) env.rcpts.push_back({r.address, r.dsn_notify, r.dsn_orcpt});
  return env;
}

// Per-recipient results of one transaction outcome.
std::vector<AttemptResult> results_of(const client::Outcome& o, std::size_t n,
                                      const std::string& host, bool remote_dsn) {
  std::vector<AttemptResult> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const bool own_reply = i < o.rcpt_replies.size() && !o.rcpt_replies[i].positive();
    const Reply& r = own_reply ? o.rcpt_replies[i] : o.reply;
    out[i].kind = kind_of(r);
    out[i].reply = reply_text(r);
    out[i].host = host;
    out[i].remote_reports = remote_dsn && out[i].kind == AttemptResult::Kind::delivered;
  }
  return out;
}

// Opens a connection to the first hop that answers; the outcome of the last failure otherwise.
awaitable<std::optional<client::Outcome>> connect(Executor ex, const TransferSettings& settings,
                                                  const Destination& dest, Link& link,
                                                  std::string& failed_host) {
  client::Options opts = settings.options;
  opts.tls = tls_mode(dest.tls);
  // MTA-STS testing: TLS stays opportunistic, but the certificate is checked and reported.
  if (dest.sts == StsMode::testing && opts.tls == client::TlsMode::opportunistic)
    opts.tls = client::TlsMode::opportunistic_checked;
  const bool opportunistic = opts.tls == client::TlsMode::opportunistic ||
                             opts.tls == client::TlsMode::opportunistic_checked;
  opts.auth_user = dest.auth_user;
  opts.auth_password = dest.auth_password;
  std::optional<client::Outcome> last;
  for (const auto& hop : dest.hops) {
    auto c = co_await client::Connection::open(ex, hop.ip, hop.port, hop.host, opts);
    // Opportunistic TLS that fails its handshake falls back to plain text on the same host
    // (RFC 7435 3: better unencrypted than not at all, unless a policy requires TLS).
    if (!c && opportunistic && c.error().stage == client::Outcome::Stage::starttls) {
      spdlog::warn("outbound {}: STARTTLS with {} failed ({}); sending without TLS{}", dest.domain,
                   hop.host, core::log_safe(reply_text(c.error().reply), 200),
                   dest.sts == StsMode::testing ? " (MTA-STS policy in testing mode)" : "");
      client::Options plain = opts;
      plain.tls = client::TlsMode::none;
      c = co_await client::Connection::open(ex, hop.ip, hop.port, hop.host, plain);
    }
    if (c && dest.sts == StsMode::testing) {
      if (const std::string why = (*c)->tls_verify_error(); !why.empty())
        spdlog::warn(
            "outbound {}: MTA-STS policy (testing): {} would be refused under enforce ({}); "
            "delivering anyway",
            dest.domain, hop.host, core::log_safe(why, 200));
    }
    if (c) {
      ++*settings.connections;
      link.connection = std::move(*c);
      link.host = hop.host + "[" + hop.ip + "]:" + std::to_string(hop.port);
      co_return std::nullopt;
    }
    failed_host = hop.host + "[" + hop.ip + "]:" + std::to_string(hop.port);
    last = c.error();
    // The reason recorded for the recipient says which policy refused the host.
    if (dest.sts == StsMode::enforce && last->stage == client::Outcome::Stage::starttls)
      last->reply.text = "MTA-STS policy of " + dest.domain + " (enforce): " + last->reply.text;
    spdlog::debug("outbound {}: {} ({})", dest.domain, failed_host,
                  core::log_safe(reply_text(last->reply), 200));
  }
  co_return last;
}

}  // namespace

awaitable<std::vector<AttemptResult>> transfer(Executor ex, const TransferSettings& settings,
                                               const Destination& destination, Link& link,
                                               const std::vector<store::ClaimedRecipient>& rcpts,
                                               std::string_view message) {
  const client::Envelope env = envelope_of(rcpts);
  // A reused connection that the remote closed while idle is opened anew once.
  for (int round = 0; round < 2; ++round) {
    if (link.connection &&
        (!link.connection->usable() ||
         link.connection->transactions() >= settings.max_messages_per_connection)) {
      co_await link.connection->quit();
      link.connection.reset();
    }
    const bool reused = link.connection != nullptr;
    if (!link.connection) {
      std::string failed_host;
      if (auto failed = co_await connect(ex, settings, destination, link, failed_host))
        co_return results_of(*failed, rcpts.size(), failed_host, false);
    }
    const client::Outcome o = co_await link.connection->send(env, message);
    ++*settings.transactions;
    const bool remote_dsn = link.connection->capabilities().dsn;
    const std::string host = link.host;
    if (!o.connection_usable) link.connection.reset();
    // Nothing was accepted on a connection that died under us: try once on a new one.
    if (reused && round == 0 && o.stage == client::Outcome::Stage::mail && !o.connection_usable &&
        o.reply.code == 421)
      continue;
    co_return results_of(o, rcpts.size(), host, remote_dsn);
  }
  co_return results_of(client::Outcome{}, rcpts.size(), link.host, false);
}

}  // namespace govmail::smtp::outbound
