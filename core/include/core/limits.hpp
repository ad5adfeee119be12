// Limits that span connections or outlive one read: the network a peer address counts under,
// the process-wide budget of message bytes held in memory, and the whole-command /
// whole-session deadlines a connection's reads must respect. Pure logic, no Asio.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace govmail::core {

// The key under which connections from `ip` are counted: the address masked to its first
// v4_prefix / v6_prefix bits, with the prefix ("192.0.2.0/24", "2001:db8:1:2::/64"). One host
// owns a whole IPv6 /64, so counting v6 per address would count nothing. v4-mapped v6 counts as
// v4. Text that is not an address is its own key.
std::string network_key(std::string_view ip, unsigned v4_prefix, unsigned v6_prefix);

// Bytes reserved against one limit by many sessions at once (messages held in RAM while they
// arrive). Thread-safe; a reservation never takes the total past the limit.
class ByteBudget {
 public:
  explicit ByteBudget(std::uint64_t limit) : limit_(limit) {}
  bool try_reserve(std::uint64_t n);
  void release(std::uint64_t n);
  std::uint64_t used() const { return used_.load(); }
  std::uint64_t limit() const { return limit_.load(); }
  void set_limit(std::uint64_t limit) { limit_ = limit; }

  // What one session holds; given back when it goes (message stored, dropped, connection gone).
  class Reservation {
   public:
    Reservation() = default;
    explicit Reservation(ByteBudget& b) : budget_(&b) {}
    Reservation(Reservation&& o) noexcept;
    Reservation& operator=(Reservation&& o) noexcept;
    ~Reservation() { release(); }
    // Grows the reservation by n; false (nothing reserved) when the budget has no room.
    bool grow(std::uint64_t n);
    void release();
    std::uint64_t bytes() const { return bytes_; }

   private:
    ByteBudget* budget_ = nullptr;
    std::uint64_t bytes_ = 0;
  };

 private:
  std::atomic<std::uint64_t> limit_;
  std::atomic<std::uint64_t> used_{0};
};

// The one budget for message bytes in flight in this process (limits.max_inflight_message_bytes,
// set when the services are built): SMTP and IMAP share it.
ByteBudget& inflight_message_bytes();

// Deadlines that span reads: a whole session (before login, or an MX connection) and a whole
// command (from its first byte to its end). read_timeout() gives what the next read may wait.
class ConnectionDeadlines {
 public:
  using Clock = std::chrono::steady_clock;
  // session: zero = none. command: zero = none.
  ConnectionDeadlines(std::chrono::milliseconds session, std::chrono::milliseconds command,
                      Clock::time_point now = Clock::now());
  void end_session_deadline() { session_end_.reset(); }  // logged in
  // Called before each read: mid_command says a command has begun but not ended.
  void command_state(bool mid_command, Clock::time_point now = Clock::now());
  // min(per_read, time left before the nearer deadline); at least 1 ms once one is due, so
  // that the read fails at once with a timeout.
  std::chrono::milliseconds read_timeout(std::chrono::milliseconds per_read,
                                         Clock::time_point now = Clock::now()) const;
  bool expired(Clock::time_point now = Clock::now()) const;

 private:
  std::optional<Clock::time_point> session_end_;
  std::optional<Clock::time_point> command_end_;
  std::chrono::milliseconds command_;
};

}  // namespace govmail::core
