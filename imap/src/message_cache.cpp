#include "message_cache.hpp"

#include <spdlog/spdlog.h>

namespace govmail::imap {
namespace {

// What the heap holds beyond the parts' bytes (glibc, measured with mallinfo2 over 200,000
// entries of 3 and 4 parts): the map node, list node and bucket of an entry, and the shared
// string and its allocation of each part.
constexpr std::uint64_t kEntryOverhead = 216;
constexpr std::uint64_t kPartOverhead = 88;
// A cache that evicts all day says so a few times a day, not once per put.
constexpr auto kEvictionLogInterval = std::chrono::minutes(10);

}  // namespace

void MessageCache::set_max_bytes(std::uint64_t max_bytes) {
  std::lock_guard lock(mutex_);
  max_bytes_ = max_bytes;
  evict_locked();
}

MessageCache::Value MessageCache::find(store::MessageId message, Part part) {
  if (!enabled()) return nullptr;
  std::lock_guard lock(mutex_);
  auto it = entries_.find(message);
  if (it == entries_.end()) return nullptr;
  const auto& value = it->second.parts[static_cast<unsigned>(part)];
  if (!value) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return value;
}

void MessageCache::find_all(std::span<const store::MessageId> messages, unsigned wanted,
                            std::vector<Parts>& out) {
  out.assign(messages.size(), Parts{});
  if (!enabled() || wanted == 0) return;
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    auto it = entries_.find(messages[i]);
    if (it == entries_.end()) continue;
    for (unsigned p = 0; p < static_cast<unsigned>(Part::count); ++p)
      if (wanted & (1u << p)) out[i][p] = it->second.parts[p];
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
}

// A value that would take more than a quarter of the cache would evict many to stay a while.
bool MessageCache::refuses(std::size_t size) const {
  return !enabled() || size + kEntryOverhead + kPartOverhead > max_bytes_ / 4;
}

void MessageCache::put(store::MessageId message, Part part, const std::string& value) {
  if (refuses(value.size())) return;  // before the copy
  put(message, part, std::make_shared<const std::string>(value));
}

void MessageCache::put(store::MessageId message, Part part, Value value) {
  if (!value || refuses(value->size())) return;
  std::lock_guard lock(mutex_);
  auto [it, fresh] = entries_.try_emplace(message);
  Entry& e = it->second;
  if (fresh) {
    lru_.push_front(message);
    e.lru = lru_.begin();
    e.bytes = kEntryOverhead;
    bytes_ += kEntryOverhead;
  } else {
    lru_.splice(lru_.begin(), lru_, e.lru);
  }
  auto& slot = e.parts[static_cast<unsigned>(part)];
  auto& part_bytes = part_bytes_[static_cast<unsigned>(part)];
  const std::uint64_t old_bytes = slot ? slot->size() + kPartOverhead : 0;
  const std::uint64_t new_bytes = value->size() + kPartOverhead;
  e.bytes += new_bytes - old_bytes;
  bytes_ += new_bytes - old_bytes;
  part_bytes += new_bytes - old_bytes;
  slot = std::move(value);
  evict_locked();
}

bool MessageCache::contains(store::MessageId message, Part part) const {
  if (!enabled()) return false;
  std::lock_guard lock(mutex_);
  auto it = entries_.find(message);
  return it != entries_.end() && it->second.parts[static_cast<unsigned>(part)] != nullptr;
}

std::uint64_t MessageCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::uint64_t MessageCache::evicted() const {
  std::lock_guard lock(mutex_);
  return evicted_;
}

void MessageCache::evict_locked() {
  if (bytes_ <= max_bytes_ || lru_.empty()) return;
  log_eviction_locked();
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    auto it = entries_.find(lru_.back());
    bytes_ -= it->second.bytes;
    for (unsigned p = 0; p < static_cast<unsigned>(Part::count); ++p)
      if (it->second.parts[p]) part_bytes_[p] -= it->second.parts[p]->size() + kPartOverhead;
    entries_.erase(it);
    lru_.pop_back();
    ++evicted_;
  }
}

// What fills the cache, for sizing limits.imap_message_cache_bytes: bytes per part kind.
void MessageCache::log_eviction_locked() {
  const auto now = std::chrono::steady_clock::now();
  if (evicted_ > 0 && now - logged_ < kEvictionLogInterval) return;
  logged_ = now;
  static constexpr const char* kNames[] = {
      "envelope_json", "bodystructure_json", "header", "envelope", "envelope_utf8",
      "bodystructure", "bodystructure_utf8", "body",   "body_utf8"};
  static_assert(std::size(kNames) == static_cast<std::size_t>(Part::count));
  std::string parts;
  for (unsigned p = 0; p < static_cast<unsigned>(Part::count); ++p)
    if (part_bytes_[p] > 0) parts += fmt::format(" {} {} KiB", kNames[p], part_bytes_[p] >> 10);
  spdlog::info(
      "imap message cache full ({} MiB, limits.imap_message_cache_bytes): {} messages held, {} "
      "evicted so far, least recently used first; held:{}",
      bytes_ >> 20, entries_.size(), evicted_, parts);
}

}  // namespace govmail::imap
