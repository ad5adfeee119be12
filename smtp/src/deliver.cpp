// The end of a message (DATA or the LAST chunk): final checks, trace headers, one committed
// delivery through MailboxStore::deliver, then the one reply. 250 only after COMMIT.
#include <ctime>

#include <spdlog/spdlog.h>

#include "core/asio.hpp"
#include "core/log.hpp"
#include "session_impl.hpp"
#include "smtp/dmarc.hpp"
#include "smtp/headers.hpp"
#include "smtp/inbound_auth.hpp"

namespace govmail::smtp {
namespace {

// Submission: every From: and Sender: mailbox must belong to the authenticated account, read
// as the store's parser (and so IMAP and clients) will read it. Reply-To is the user's choice.
awaitable<std::optional<Reply>> check_from_header(Session::Impl& s) {
  const SenderFields f = sender_fields(s.tx.body);
  if (f.from_fields == 0 || f.from.empty())
    co_return Reply{550, "5.6.0", "Message has no From: header"};
  if (f.from_fields > 1) co_return Reply{550, "5.6.0", "Message has more than one From: header"};
  if (!f.from_valid || !f.sender_valid)
    co_return Reply{550, "5.6.0", "From: or Sender: is not a valid RFC 5322 address list"};
  std::vector<std::string> claimed = f.from;
  claimed.insert(claimed.end(), f.sender.begin(), f.sender.end());
  for (const auto& a : claimed) {
    auto may = co_await s.backend.may_send_as(s.auth->account, a);
    if (!may) co_return store_error_reply(may.error(), s.tx.queue_id);
    if (!*may) {
      spdlog::info("smtp tx id={} user={} refused From:/Sender: <{}>: not owned", s.tx.queue_id,
                   s.auth->address, core::log_safe(a, 80));
      co_return Reply{550, "5.7.1", "From: address not owned by the authenticated user"};
    }
  }
  co_return std::nullopt;
}

std::string local_refusal(const NamedDomain& d) {
  switch (d.how) {
    case Naming::address:
      return d.field + ": in a local domain requires authentication";
    case Naming::display_name:
      return d.field + ": display name or comment shows an address in a local domain";
    case Naming::unparseable:
      break;
  }
  return d.field + ": is not a valid address list and names a local domain";
}

// MX without AUTH: From, Sender or Reply-To naming one of our domains (as an address, inside a
// display name, or anywhere in a field that does not parse) would impersonate an official, or
// make an official's reply go where the sender wants. RFC 5322 allows one From field only.
awaitable<std::optional<Reply>> check_local_from(Session::Impl& s) {
  const SenderFields f = sender_fields(s.tx.body);
  if (f.from_fields > 1) co_return Reply{550, "5.6.0", "Message has more than one From: header"};
  if (f.domains.size() > s.cfg.sender_domains_max)
    co_return Reply{550, "5.6.0",
                    "Too many domains in From:, Sender: and Reply-To: "
                    "(limits.smtp_sender_domains_max)"};
  for (const auto& d : f.domains) {
    auto local = co_await s.is_local_domain(d.domain);
    if (!local) co_return store_error_reply(local.error(), s.tx.queue_id);
    if (*local) {
      spdlog::info("smtp tx id={} ip={} refused unauthenticated {}: naming local domain {}",
                   s.tx.queue_id, s.conn.remote_ip, d.field, core::log_safe(d.domain, 80));
      co_return Reply{550, "5.7.1", local_refusal(d)};
    }
  }
  co_return std::nullopt;
}

// Quota with the real size: group members that would overflow are left out (the sender gets a
// DSN); a direct recipient over quota refuses the message (temporarily: the sender retries).
std::optional<Reply> check_quota(Session::Impl& s) {
  const auto size = s.tx.body.size();
  for (auto it = s.tx.accounts.begin(); it != s.tx.accounts.end();) {
    if (!over_quota(it->second.account, size)) {
      ++it;
    } else if (it->second.only_via_group) {
      spdlog::warn("smtp tx id={} group member account {} over quota: left out", s.tx.queue_id,
                   it->first);
      if (it->second.notify_failure)
        s.tx.skipped.push_back({it->second.group, it->second.account.address});
      it = s.tx.accounts.erase(it);
    } else {
      return Reply{452, "4.2.2", "Mailbox full, try again later"};
    }
  }
  if (s.tx.accounts.empty() && s.tx.remote.empty())
    return Reply{452, "4.2.2", "Every mailbox is full, try again later"};
  return std::nullopt;
}

awaitable<std::optional<Reply>> check_message(Session::Impl& s) {
  if (s.tx.too_big)
    co_return Reply{552, "5.3.4", "Message size exceeds fixed maximum message size"};
  if (s.tx.line_too_long)
    co_return Reply{550, "5.6.0", "Message line too long (limits.smtp_data_line_max)"};
  if (s.tx.over_budget) co_return kOverBudget;
  std::optional<Reply> refused;
  if (s.auth)
    refused = co_await check_from_header(s);
  else
    refused = co_await check_local_from(s);
  if (refused) co_return refused;
  co_return check_quota(s);
}

// MX: SPF, DKIM and DMARC of the message; a DMARC p=reject failure is refused (or, by config,
// quarantined like p=quarantine), and the results are written on top of the message.
awaitable<std::optional<Reply>> check_authentication(Session::Impl& s) {
  if (!s.cfg.inbound_auth || s.auth) co_return std::nullopt;
  InboundQuery q;
  q.client_ip = s.conn.remote_ip;
  q.helo = s.helo;
  q.mail_from = s.tx.from.address;
  q.message = s.tx.body;
  const InboundVerdict v = co_await s.cfg.inbound_auth->check(q);
  spdlog::info("smtp tx id={} ip={} from=<{}> header.from={} {}", s.tx.queue_id, s.conn.remote_ip,
               core::log_safe(s.tx.from.address, 80), core::log_safe(v.from_domain, 80),
               core::log_safe(v.summary, 120));
  if (v.action == InboundVerdict::Action::reject)
    co_return Reply{550, "5.7.1",
                    "Message refused: DMARC policy of " + core::log_safe(v.from_domain, 80) +
                        " rejects mail that fails authentication"};
  s.tx.auth_results = v.header;
  s.tx.to_junk = v.action == InboundVerdict::Action::junk;
  co_return std::nullopt;
}

// Quarantined mail goes to each recipient's Junk folder (INBOX when it has none).
awaitable<std::optional<Reply>> route_to_junk(Session::Impl& s, store::Delivery& d) {
  for (auto& l : d.local) {
    auto junk = co_await s.backend.junk_mailbox(l.account_id);
    if (!junk) co_return store_error_reply(junk.error(), s.tx.queue_id);
    l.mailbox_id = *junk;
  }
  co_return std::nullopt;
}

store::Delivery make_delivery(Session::Impl& s) {
  store::Delivery d;
  std::string raw = trace_headers(s, rfc5322_date(std::chrono::system_clock::now()));
  // Ours first; one claiming to be ours that came from a client or another server is removed
  // (RFC 8601 5), on every port: an official could otherwise forge "dkim=pass" too.
  raw.reserve(raw.size() + s.tx.auth_results.size() + s.tx.body.size());
  raw += s.tx.auth_results;
  auth_results::append_without_own(raw, s.tx.body, s.cfg.hostname);
  d.raw = std::make_shared<const std::string>(std::move(raw));
  d.envelope_from = s.tx.from.address;
  for (const auto& [id, acct] : s.tx.accounts) d.local.push_back({id, std::nullopt});
  d.remote = s.tx.remote;
  d.dsn_envid = s.tx.from.envid;
  d.dsn_ret = s.tx.from.ret;
  return d;
}

// What the archive journal records of this transaction: every recipient as given at RCPT
// (groups, bcc and remote ones included), who sent it from where.
store::JournalInfo journal_info(const Session::Impl& s) {
  store::JournalInfo j;
  j.direction = s.cfg.mode == Mode::submission ? "out" : "in";
  if (s.auth) j.auth_user = s.auth->address;
  j.client_ip = s.conn.remote_ip;
  for (const auto& r : s.tx.rcpts) j.recipients.push_back(r.address);
  return j;
}

// The message and the report about members left out, committed together.
awaitable<Reply> deliver(Session::Impl& s) {
  auto d = make_delivery(s);
  if (s.tx.to_junk)
    if (auto failed = co_await route_to_junk(s, d)) co_return *failed;
  if (auto refused = co_await attach_bounce(s, d)) co_return *refused;
  const bool report = !d.companions.empty();
  auto journal = journal_info(s);
  auto delivered = co_await s.backend.deliver_journaled(std::move(d), std::move(journal));
  if (!delivered) co_return store_error_reply(delivered.error(), s.tx.queue_id);
  if (report)
    spdlog::info("smtp tx id={} DSN for group member(s) over quota stored for <{}>", s.tx.queue_id,
                 core::log_safe(s.tx.from.address, 80));
  co_await send_vacation_replies(s);
  co_return Reply{250, "2.0.0", "Ok: queued as " + s.tx.queue_id};
}

}  // namespace

awaitable<void> finish_message(Session::Impl& s) {
  Reply r;
  if (auto refused = co_await check_message(s)) {
    r = *refused;
  } else if (auto unauthentic = co_await check_authentication(s)) {
    r = *unauthentic;
  } else {
    r = co_await deliver(s);
  }
  s.reply(r);
  s.log_transaction(r.wire().substr(0, r.wire().size() - 2));
  s.reset_transaction();
}

Reply store_error_reply(store::StoreError e, std::string_view queue_id) {
  using store::StoreError;
  std::string id = queue_id.empty() ? std::string() : " (" + std::string(queue_id) + ")";
  switch (e) {
    case StoreError::over_quota:
      return {452, "4.2.2", "Mailbox full, try again later"};
    case StoreError::too_big:
      return {552, "5.3.4", "Message size exceeds fixed maximum message size"};
    case StoreError::limit:
      return {452, "4.5.3", "Too many recipients"};
    case StoreError::not_found:
      return {550, "5.1.1", "Recipient address rejected: user unknown"};
    case StoreError::invalid:
      return {554, "5.6.0", "Message refused" + id};
    default:  // temporary, unavailable, permanent, ...: the details are in the log
      spdlog::warn("smtp store error {}{}", store::to_string(e), id);
      return {451, "4.3.0", "Temporary local problem, try again later" + id};
  }
}

std::string trace_headers(const Session::Impl& s, std::string_view date) {
  const auto& ip = s.conn.remote_ip;
  std::string literal = ip.find(':') != std::string::npos ? "[IPv6:" + ip + "]" : "[" + ip + "]";
  std::string h = "Return-Path: <" + s.tx.from.address + ">\r\n";
  h += "Received: from " + s.helo + " (" + literal + ")\r\n\tby " + s.cfg.hostname +
       " (govmail) with " + s.protocol_name() + " id " + s.tx.queue_id;
  if (s.tx.rcpts.size() == 1) h += "\r\n\tfor <" + s.tx.rcpts.front().address + ">";
  h += "; ";
  h += date;
  h += "\r\n";
  return h;
}

}  // namespace govmail::smtp
