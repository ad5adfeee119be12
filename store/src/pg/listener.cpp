// LISTEN on a dedicated connection; reconnects with back-off and LISTENs again.
// Everything runs on a private strand, so stop() from any thread is safe.
#include <libpq-fe.h>

#include <atomic>

#include "core/asio.hpp"
#include "core/spawn.hpp"
#include "pg/pg.hpp"

namespace govmail::store::pg {

struct Listener::Impl {
  Impl(Executor ex, std::string info, std::vector<std::string> chans,
       std::function<void(const Connection::Notification&)> notify, std::function<void()> reconnect)
      : strand(asio::make_strand(ex)),
        timer(strand),
        conninfo(std::move(info)),
        channels(std::move(chans)),
        on_notify(std::move(notify)),
        on_reconnect(std::move(reconnect)) {}

  asio::strand<Executor> strand;
  asio::steady_timer timer;  // back-off between reconnect attempts
  std::string conninfo;
  std::vector<std::string> channels;
  std::function<void(const Connection::Notification&)> on_notify;
  std::function<void()> on_reconnect;
  std::atomic<bool> stopped{false};
  Connection* current = nullptr;  // only touched on the strand

  static awaitable<void> run(std::shared_ptr<Impl> self);
  awaitable<PgResultOr<std::unique_ptr<Connection>>> open();
  awaitable<void> pause(std::chrono::milliseconds d);
};

awaitable<PgResultOr<std::unique_ptr<Connection>>> Listener::Impl::open() {
  auto c = co_await Connection::connect(strand, conninfo);
  if (!c) co_return c;
  std::string sql;
  for (const auto& ch : channels) {
    char* quoted = PQescapeIdentifier((*c)->raw(), ch.data(), ch.size());
    if (!quoted) co_return unexpected(PgError{"", "listen: cannot quote channel name"});
    sql += "LISTEN " + std::string(quoted) + ";";
    PQfreemem(quoted);
  }
  if (!sql.empty())
    if (auto r = co_await (*c)->exec(sql); !r) co_return unexpected(r.error());
  co_return c;
}

awaitable<void> Listener::Impl::pause(std::chrono::milliseconds d) {
  timer.expires_after(d);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
}

awaitable<void> Listener::Impl::run(std::shared_ptr<Impl> self) {
  constexpr std::chrono::milliseconds kFirstDelay{50}, kMaxDelay{2000};
  auto delay = kFirstDelay;
  bool had_connection = false;
  bool just_lost = false;
  while (!self->stopped) {
    auto c = co_await self->open();
    if (self->stopped) break;
    if (!c) {
      // Right after a loss the server is often back at once (terminated backend): retry
      // immediately once, then back off (capped) while it stays down.
      if (!just_lost) {
        co_await self->pause(delay);
        delay = std::min(delay * 2, kMaxDelay);
      }
      just_lost = false;
      continue;
    }
    delay = kFirstDelay;
    self->current = c->get();
    if (had_connection && self->on_reconnect) self->on_reconnect();
    had_connection = true;
    while (!self->stopped) {
      auto n = co_await (*c)->wait_notification();
      if (!n) break;
      if (self->on_notify) self->on_notify(*n);
    }
    self->current = nullptr;
    just_lost = true;
  }
}

std::shared_ptr<Listener> Listener::start(
    Executor ex, std::string conninfo, std::vector<std::string> channels,
    std::function<void(const Connection::Notification&)> on_notify,
    std::function<void()> on_reconnect) {
  auto impl = std::make_shared<Impl>(ex, std::move(conninfo), std::move(channels),
                                     std::move(on_notify), std::move(on_reconnect));
  // An exception ends the listener (logged): every subscriber is told that changes may have been
  // missed, as after a reconnect, rather than waiting for notifications that no longer come.
  asio::co_spawn(impl->strand, Impl::run(impl),
                 core::LogExit("store: notification listener", [impl](bool failed) {
                   if (failed && !impl->stopped && impl->on_reconnect) impl->on_reconnect();
                 }));
  return std::make_shared<Listener>(std::move(impl));
}

Listener::Listener(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Listener::~Listener() {
  stop();
}

void Listener::stop() {
  if (impl_->stopped.exchange(true)) return;
  asio::post(impl_->strand, [impl = impl_] {
    impl->timer.cancel();
    if (impl->current) impl->current->cancel();
  });
}

}  // namespace govmail::store::pg
