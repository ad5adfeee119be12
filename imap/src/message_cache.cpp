#include "message_cache.hpp"

namespace govmail::imap {
namespace {

// Map node, list node and string headers: what an entry costs beyond its bytes.
constexpr std::uint64_t kEntryOverhead = 160;

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

void MessageCache::put(store::MessageId message, Part part, const std::string& value) {
  if (!enabled() || value.size() + kEntryOverhead > max_bytes_ / 4) return;
  put(message, part, std::make_shared<const std::string>(value));
}

void MessageCache::put(store::MessageId message, Part part, Value value) {
  if (!enabled() || !value || value->size() + kEntryOverhead > max_bytes_ / 4) return;
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
  if (slot) {
    e.bytes -= slot->size();
    bytes_ -= slot->size();
  }
  e.bytes += value->size();
  bytes_ += value->size();
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

void MessageCache::evict_locked() {
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    auto it = entries_.find(lru_.back());
    bytes_ -= it->second.bytes;
    entries_.erase(it);
    lru_.pop_back();
  }
}

}  // namespace govmail::imap
