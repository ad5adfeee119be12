// The authenticated IMAP and SMTP sessions of this process, by account, so that a change of an
// account's credentials (password, status, address, app passwords: every change the store
// announces on its account channel) ends the sessions opened with the old ones. Front ends
// register a session once it has logged in; app/ calls revoke() from the store's notification.
// Old and new are told apart by the account's credentials version (accounts.credentials_version,
// bumped by every change the store announces), not by the time a notification arrives: a login
// that read the new credentials before the notification of their change came in stays.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace govmail::core {

class Stream;

class SessionRegistry {
 public:
  using Clock = std::chrono::steady_clock;
  // Called from any thread, at most once, with the registry's lock not held: it must only hand
  // the ending over to the session's own executor (post), never end the session inline.
  using EndFn = std::function<void()>;

  // Unregisters the session when destroyed; after that its EndFn is never called.
  class Registration {
   public:
    Registration() = default;
    Registration(Registration&& other) noexcept;
    Registration& operator=(Registration&& other) noexcept;
    ~Registration();
    explicit operator bool() const { return token_ != 0; }

   private:
    friend class SessionRegistry;
    Registration(std::weak_ptr<void> owner, std::uint64_t token) : owner_(owner), token_(token) {}
    void release();
    std::weak_ptr<void> owner_;
    std::uint64_t token_ = 0;
  };

  SessionRegistry();
  ~SessionRegistry();
  SessionRegistry(const SessionRegistry&) = delete;
  SessionRegistry& operator=(const SessionRegistry&) = delete;

  // Means "whatever version a session had": it ends them all.
  static constexpr std::uint64_t kEveryVersion = ~std::uint64_t{0};

  // `credentials_version`: that of the credentials the login was verified against.
  // `verified_at`: a time no later than the moment they were read. When a revocation that
  // concerns them came in first (a newer version was announced, or every session was ended
  // after `verified_at`), `end` is called before add() returns, and the registration is empty.
  Registration add(std::int64_t account, std::uint64_t credentials_version,
                   Clock::time_point verified_at, EndFn end);

  // Ends every registered session of the account opened with credentials older than
  // `credentials_version` (the version the change produced); account 0 ends every session
  // (notifications may have been missed). Returns how many were told to end.
  std::size_t revoke(std::int64_t account, std::uint64_t credentials_version = kEveryVersion);

  std::size_t size() const;
  // The registry's clock: what a front end reads before it verifies a login (`verified_at`).
  Clock::time_point now() const;

  // Tests: replaces the steady clock.
  void set_clock(std::function<Clock::time_point()> now);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// One connection's side of the registry. Once the session logs in it is registered; a
// revocation then marks it revoked and interrupts its reads (IDLE included) on the connection's
// strand, so the front end's pending read fails with asio::error::shut_down: it checks
// revoked(), says goodbye in its protocol and closes. Lives in the connection's coroutine.
class RevocableSession {
 public:
  RevocableSession(Stream& stream, SessionRegistry* registry);  // registry may be null
  ~RevocableSession();
  RevocableSession(const RevocableSession&) = delete;
  RevocableSession& operator=(const RevocableSession&) = delete;

  // Read before each step that may log in; passed to logged_in() after it.
  SessionRegistry::Clock::time_point now() const;
  // Registers the session the first time `account` is not 0.
  void logged_in(std::int64_t account, std::uint64_t credentials_version,
                 SessionRegistry::Clock::time_point verified_at);
  // The registry ended the session (read on the connection's strand).
  bool revoked() const;

  struct State;

 private:
  SessionRegistry* registry_;
  std::shared_ptr<State> state_;
  SessionRegistry::Registration registration_;
};

}  // namespace govmail::core
