// Push over EventSource (RFC 8620 7.3): GET /jmap/eventsource?types=&closeafter=&ping= keeps a
// text/event-stream open and sends a StateChange whenever the account's state moves. Changes
// come from the store's notification hub (LISTEN/NOTIFY: every govmail process, every protocol);
// the state sent is the account's modseq, the same string the mail methods return.
#include <spdlog/spdlog.h>

#include "core/asio.hpp"
#include "core/session_registry.hpp"
#include "jmap/service.hpp"
#include "jmap/url.hpp"
#include "store/database.hpp"
#include "store/jmap_store.hpp"

namespace govmail::webmail::jmap {

using core::HttpRequest;
using core::HttpResponse;

namespace {

constexpr std::chrono::seconds kMaxPing{600};
// With ping=0 the stream still wakes this often to check that its login is still valid.
constexpr std::chrono::seconds kRecheck{60};

struct PushStream {
  explicit PushStream(Executor executor) : ex(executor), timer(executor) {}
  Executor ex;
  boost::asio::steady_timer timer;  // touched on `ex` only
  bool changed = false;             // on `ex` only
  bool revoked = false;             // on `ex` only
  std::shared_ptr<store::Database> db;
  store::AccountId account = 0;
  std::string account_id;
  std::vector<std::string> types;  // of Email, Mailbox, Thread: those asked for
  bool close_after_state = false;
  std::chrono::seconds ping{0};
  std::string token_sha256;  // empty for Basic
  std::int64_t idle_seconds = 0;
  store::ModSeq sent = 0;
  store::Subscription subscription;
  core::SessionRegistry::Registration registration;
  AccountGate::Ticket ticket;
};

// Wakes the stream from any thread.
void wake(const std::weak_ptr<PushStream>& weak, bool revoke) {
  auto s = weak.lock();
  if (!s) return;
  boost::asio::post(s->ex, [weak, revoke] {
    if (auto p = weak.lock()) {
      if (revoke)
        p->revoked = true;
      else
        p->changed = true;
      p->timer.cancel();
    }
  });
}

std::string state_event(const PushStream& s, store::ModSeq modseq) {
  Json types = Json::object();
  for (const auto& t : s.types) types[t] = std::to_string(modseq);
  Json ev{{"@type", "StateChange"}, {"changed", {{s.account_id, std::move(types)}}}};
  return "event: state\nid: " + std::to_string(modseq) + "\ndata: " + ev.dump() + "\n\n";
}

awaitable<bool> still_logged_in(PushStream& s) {
  if (s.token_sha256.empty()) co_return true;  // Basic: the registry ends it on a change
  auto found = co_await s.db->jmap().find_session(s.token_sha256, s.idle_seconds);
  co_return found || found.error() != store::StoreError::not_found;
}

awaitable<void> run_push(std::shared_ptr<PushStream> s, core::BodyWriter& out) {
  // A first comment line: proxies and clients see the stream open at once.
  if (!co_await out.write(": govmail push\n\n")) co_return;
  auto next_ping = std::chrono::steady_clock::now() + s->ping;
  auto next_check = std::chrono::steady_clock::now() + kRecheck;
  for (;;) {
    if (s->revoked) co_return;
    if (s->changed) {
      s->changed = false;
      auto modseq = co_await s->db->jmap().account_modseq(s->account);
      if (modseq && *modseq != s->sent) {
        s->sent = *modseq;
        if (!co_await out.write(state_event(*s, *modseq))) co_return;
        if (s->close_after_state) co_return;
      }
      continue;
    }
    auto now = std::chrono::steady_clock::now();
    if (s->ping.count() > 0 && now >= next_ping) {
      std::string ping =
          "event: ping\ndata: {\"interval\":" + std::to_string(s->ping.count()) + "}\n\n";
      if (!co_await out.write(std::move(ping))) co_return;
      next_ping = now + s->ping;
    }
    if (now >= next_check) {
      if (!co_await still_logged_in(*s)) co_return;
      next_check = now + kRecheck;
    }
    auto wait_until = next_check;
    if (s->ping.count() > 0) wait_until = std::min(wait_until, next_ping);
    s->timer.expires_at(wait_until);
    boost::system::error_code ec;
    co_await s->timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
}

}  // namespace

awaitable<HttpResponse> JmapService::eventsource(const HttpRequest& request) {
  auto verified_at = sessions ? sessions->now() : core::SessionRegistry::Clock::now();
  auto who = co_await auth.authenticate(request, false);
  if (auto* refusal = std::get_if<HttpResponse>(&who)) co_return std::move(*refusal);
  const auto& p = std::get<auth::Principal>(who);

  auto types_param = query_param(request.query, "types").value_or("*");
  auto close_after = query_param(request.query, "closeafter").value_or("no");
  auto ping_param = query_param(request.query, "ping").value_or("0");
  if (close_after != "state" && close_after != "no")
    co_return HttpResponse::error(400, "closeafter must be \"state\" or \"no\"");
  long ping = 0;
  try {
    std::size_t used = 0;
    ping = std::stol(ping_param, &used);
    if (used != ping_param.size() || ping < 0) throw std::invalid_argument("ping");
  } catch (const std::exception&) {
    co_return HttpResponse::error(400, "ping must be a non-negative integer");
  }

  auto ex = co_await boost::asio::this_coro::executor;
  auto s = std::make_shared<PushStream>(ex);
  s->ticket = push_streams.enter(p.account_id);
  if (!s->ticket) co_return HttpResponse::error(429, "too many push streams for this account");
  s->db = db;
  s->account = p.account_id;
  s->account_id = account_id_string(p.account_id);
  for (const char* t : {"Email", "Mailbox", "Thread"}) {
    bool wanted = types_param == "*";
    for (std::size_t at = 0; !wanted && at <= types_param.size();) {
      auto comma = types_param.find(',', at);
      if (comma == std::string::npos) comma = types_param.size();
      wanted = types_param.compare(at, comma - at, t) == 0;
      at = comma + 1;
    }
    if (wanted) s->types.push_back(t);
  }
  s->close_after_state = close_after == "state";
  if (ping > 0) {
    s->ping = std::clamp(std::chrono::seconds(ping), cfg.jmap.eventsource_ping_min, kMaxPing);
  }
  s->token_sha256 = p.token_sha256;
  s->idle_seconds = cfg.jmap.session_idle_timeout.count();
  auto modseq = co_await db->jmap().account_modseq(p.account_id);
  if (!modseq) co_return HttpResponse::error(503, "temporarily unavailable; try later");
  s->sent = *modseq;

  std::weak_ptr<PushStream> weak = s;
  s->subscription = db->subscribe_account_mailboxes(
      p.account_id, [weak](const store::MailboxEvent&) { wake(weak, false); });
  if (sessions) {
    // A password change or suspension (any process) ends the stream like an IMAP IDLE.
    s->registration = sessions->add(p.account_id, p.credentials_version, verified_at,
                                    [weak] { wake(weak, true); });
  }
  // A change between reading the state and subscribing would be missed: look once more.
  s->changed = true;

  HttpResponse r;
  r.content_type = "text/event-stream";
  r.headers.emplace_back("Cache-Control", "no-cache, no-store");
  r.headers.emplace_back("X-Accel-Buffering", "no");
  r.stream_body = [s](core::BodyWriter& out) { return run_push(s, out); };
  co_return r;
}

}  // namespace govmail::webmail::jmap
