// Private to core: the Asio side of core::Stream, so that the listener can build a Stream from
// an accepted socket. Not for use outside core/src.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/asio.hpp"
#include "core/stream.hpp"

#include "tls_socket.hpp"

namespace govmail::core {

using tcp = asio::ip::tcp;

// Normalised peer address: v4-mapped v6 shown as plain v4, so limits and logs see one form.
asio::ip::address normalise_address(const asio::ip::address& a);
bool is_loopback_address(const asio::ip::address& a);

struct Stream::Impl : std::enable_shared_from_this<Stream::Impl> {
  explicit Impl(tcp::socket s);

  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }
  const tcp::socket& socket() const { return tls ? tls->next_layer() : *plain; }

  // Exactly one of the two holds the connection; start_tls moves the socket from plain to tls.
  std::optional<tcp::socket> plain;
  std::optional<TlsSocket> tls;

  // The deadline of one direction's running operation. Its timer is armed lazily: an
  // operation that ends in time touches no timer (arming and cancelling one per read cost a
  // timer-queue update and a posted completion, often a wake-up of the other io thread, on
  // every read and write); a timer that fires before the running operation's deadline re-arms
  // for it, and one that finds no operation running stays disarmed.
  struct Watch {
    explicit Watch(const tcp::socket::executor_type& ex) : timer(ex) {}
    asio::steady_timer timer;
    std::chrono::steady_clock::time_point due = std::chrono::steady_clock::time_point::max();
    unsigned pending_wait = 0;     // id of the timer's pending wait; 0 = none
    unsigned waits = 0;            // ids handed out
    bool close_on_expiry = false;  // else shut the receive side down
    bool expired = false;
  };
  // One per direction: IMAP IDLE reads while it writes updates.
  Watch read_watch;
  Watch write_watch;
  std::chrono::milliseconds read_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds write_timeout{std::chrono::minutes(5)};
  bool read_shut = false;         // a read deadline expired: the receive side is shut down
  bool read_interrupted = false;  // interrupt_reads(): the server is shutting down

  std::function<void()> on_authenticated;  // set by the listener; called once

  std::string remote;
  std::uint16_t remote_port = 0;
  std::uint16_t local_port = 0;
  bool loopback = false;
};

}  // namespace govmail::core
