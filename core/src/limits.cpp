#include "core/limits.hpp"

#include <algorithm>

#include "core/asio.hpp"

namespace govmail::core {

std::string network_key(std::string_view ip, unsigned v4_prefix, unsigned v6_prefix) {
  boost::system::error_code ec;
  asio::ip::address a = asio::ip::make_address(std::string(ip), ec);
  if (ec) return std::string(ip);
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  if (a.is_v4()) {
    unsigned prefix = std::min(v4_prefix, 32u);
    std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    auto net = asio::ip::make_address_v4(a.to_v4().to_uint() & mask);
    return net.to_string() + "/" + std::to_string(prefix);
  }
  unsigned prefix = std::min(v6_prefix, 128u);
  auto bytes = a.to_v6().to_bytes();
  for (unsigned i = 0; i < bytes.size(); ++i) {
    unsigned bit = i * 8;
    if (bit >= prefix)
      bytes[i] = 0;
    else if (prefix - bit < 8)
      bytes[i] &= static_cast<unsigned char>(0xff << (8 - (prefix - bit)));
  }
  return asio::ip::make_address_v6(bytes).to_string() + "/" + std::to_string(prefix);
}

bool ByteBudget::try_reserve(std::uint64_t n) {
  std::uint64_t used = used_.load();
  do {
    if (used > limit_.load() || n > limit_.load() - used) return false;
  } while (!used_.compare_exchange_weak(used, used + n));
  return true;
}

void ByteBudget::release(std::uint64_t n) {
  used_.fetch_sub(n);
}

ByteBudget::Reservation::Reservation(Reservation&& o) noexcept
    : budget_(o.budget_), bytes_(std::exchange(o.bytes_, 0)) {}

ByteBudget::Reservation& ByteBudget::Reservation::operator=(Reservation&& o) noexcept {
  if (this != &o) {
    release();
    budget_ = o.budget_;
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

bool ByteBudget::Reservation::grow(std::uint64_t n) {
  if (!budget_ || !budget_->try_reserve(n)) return false;
  bytes_ += n;
  return true;
}

void ByteBudget::Reservation::release() {
  if (budget_ && bytes_) budget_->release(bytes_);
  bytes_ = 0;
}

ByteBudget& inflight_message_bytes() {
  static ByteBudget budget(1ull << 30);
  return budget;
}

ConnectionDeadlines::ConnectionDeadlines(std::chrono::milliseconds session,
                                         std::chrono::milliseconds command, Clock::time_point now)
    : command_(command) {
  if (session.count() > 0) session_end_ = now + session;
}

void ConnectionDeadlines::command_state(bool mid_command, Clock::time_point now) {
  if (!mid_command || command_.count() <= 0)
    command_end_.reset();
  else if (!command_end_)
    command_end_ = now + command_;
}

std::chrono::milliseconds ConnectionDeadlines::read_timeout(std::chrono::milliseconds per_read,
                                                            Clock::time_point now) const {
  using std::chrono::milliseconds;
  std::optional<Clock::time_point> end = session_end_;
  if (command_end_ && (!end || *command_end_ < *end)) end = command_end_;
  if (!end) return per_read;
  auto left = std::chrono::ceil<milliseconds>(*end - now);
  left = std::max(left, milliseconds(1));
  return per_read.count() <= 0 ? left : std::min(per_read, left);
}

bool ConnectionDeadlines::expired(Clock::time_point now) const {
  return (session_end_ && now >= *session_end_) || (command_end_ && now >= *command_end_);
}

}  // namespace govmail::core
