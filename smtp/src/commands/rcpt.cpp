// RCPT TO: local domains are resolved here (aliases and groups expanded once, into the
// transaction's account set) with the quota checked; other domains only for authenticated users.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "../session_impl.hpp"
#include "core/asio.hpp"
#include "core/log.hpp"

namespace govmail::smtp {
namespace {

// Checks the quota and adds the accounts; returns the refusal, if any. Group members over quota
// are left out (logged, and reported to the sender after delivery) so that one full mailbox does
// not block a circular for everyone else.
std::optional<Reply> add_accounts(Session::Impl& s, store::RecipientResolution res,
                                  const RcptTo& rcpt) {
  const std::string& address = rcpt.address;
  const bool report = notify_failure(rcpt.notify);
  const std::uint64_t size = s.tx.from.size.value_or(0);
  if (!res.is_group) {
    for (const auto& a : res.accounts) {
      if (a.quota_bytes && size > a.quota_bytes)
        return Reply{552, "5.2.2", "Mailbox full: message larger than the quota"};
      if (over_quota(a, size)) return Reply{452, "4.2.2", "Mailbox full, try again later"};
    }
  }
  std::size_t full = 0;
  for (const auto& a : res.accounts) {
    if (res.is_group && over_quota(a, size)) {
      ++full;
      if (report) s.tx.skipped.push_back({address, a.address});
      continue;
    }
    auto it =
        s.tx.accounts.try_emplace(a.id, LocalAccount{a, res.is_group, address, report, {}}).first;
    if (!res.is_group) {
      it->second.only_via_group = false;
      it->second.addressed_as.push_back(address);
    }
  }
  if (full)
    spdlog::warn("smtp tx id={} group <{}>: {} member(s) over quota left out", s.tx.queue_id,
                 core::log_safe(address, 80), full);
  if (res.is_group && full == res.accounts.size()) {
    s.tx.skipped.resize(s.tx.skipped.size() - (report ? full : 0));  // refused: nothing to report
    return Reply{452, "4.2.2", "Every mailbox of the group is full, try again later"};
  }
  return std::nullopt;
}

// Whether the authenticated user's domain is the group's, both canonical: a group or a login
// reached through an alias domain (after `admin domain merge`) is in the merged domain.
awaitable<store::Result<bool>> same_domain(Session::Impl& s,
                                           const store::RecipientResolution& group) {
  auto sender = co_await s.backend.resolve_recipient(lower_ascii(s.auth->address));
  if (!sender) {
    if (sender.error() == store::StoreError::not_found) co_return false;
    co_return unexpected(sender.error());
  }
  co_return !group.domain.empty() && sender->domain == group.domain;
}

// The group's send_policy (admin groups): anyone, the group's own domain, its members, or the
// accounts listed as its senders. Only an authenticated user is in a domain or a member.
awaitable<store::Result<bool>> may_send_to_group(Session::Impl& s,
                                                 const store::RecipientResolution& res,
                                                 const std::string& group) {
  using store::SendPolicy;
  if (res.send_policy == SendPolicy::anyone) co_return true;
  if (!s.auth) co_return false;
  switch (res.send_policy) {
    case SendPolicy::same_domain:
      co_return co_await same_domain(s, res);
    case SendPolicy::members:
      co_return std::any_of(res.accounts.begin(), res.accounts.end(),
                            [&](const auto& a) { return a.id == s.auth->account; });
    default:
      co_return co_await s.backend.may_send_as(s.auth->account, lower_ascii(group));
  }
}

}  // namespace

awaitable<void> cmd_rcpt(Session::Impl& s, std::string_view arg) {
  if (!s.tx.active) {
    s.bad_command({503, "5.5.1", "Need MAIL command"});
    co_return;
  }
  auto rcpt = parse_rcpt_to(arg);
  if (!rcpt) {
    s.bad_command(rcpt.error());
    co_return;
  }
  if (s.tx.rcpts.size() >= s.cfg.max_recipients) {
    s.reply(452, "4.5.3", "Too many recipients (limits.smtp_max_recipients)");
    co_return;
  }
  if (!s.tx.from.smtputf8 && !is_ascii(rcpt->address)) {
    s.bad_command({553, "5.6.7", "Non-ASCII recipient address requires SMTPUTF8"});
    co_return;
  }
  // RFC 5321 4.5.1: <postmaster> without a domain is ours.
  if (rcpt->address == "postmaster") rcpt->address = "postmaster@" + s.cfg.hostname;
  auto local = co_await s.is_local_domain(std::string(domain_of(rcpt->address)));
  if (!local) {
    s.reply(store_error_reply(local.error(), s.tx.queue_id));
    co_return;
  }
  if (!*local) {
    if (!s.auth) {
      s.bad_command({554, "5.7.1", "Relay access denied"});
      co_return;
    }
    s.tx.remote.push_back({rcpt->address, rcpt->notify, rcpt->orcpt});
    s.tx.rcpts.push_back({rcpt->address, false, false});
    s.reply(250, "2.1.5", "Ok");
    co_return;
  }
  auto res = co_await s.backend.resolve_recipient(lower_ascii(rcpt->address));
  if (!res) {
    if (res.error() == store::StoreError::not_found)
      s.bad_command({550, "5.1.1", "Recipient address rejected: user unknown"});
    else
      s.reply(store_error_reply(res.error(), s.tx.queue_id));
    co_return;
  }
  const bool group = res->is_group;
  if (group) {
    auto may = co_await may_send_to_group(s, *res, rcpt->address);
    if (!may) {
      s.reply(store_error_reply(may.error(), s.tx.queue_id));
      co_return;
    }
    if (!*may) {
      spdlog::info("smtp tx id={} user={} refused by the send policy of group <{}>", s.tx.queue_id,
                   s.auth ? s.auth->address : "-", core::log_safe(rcpt->address, 80));
      s.bad_command({550, "5.7.1", "Not allowed to send to the group <" + rcpt->address + ">"});
      co_return;
    }
  }
  if (auto refused = add_accounts(s, std::move(*res), *rcpt)) {
    s.reply(*refused);
    co_return;
  }
  s.tx.rcpts.push_back({rcpt->address, true, group});
  s.reply(250, "2.1.5", "Ok");
}

}  // namespace govmail::smtp
