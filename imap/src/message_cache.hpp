// What FETCH reads of a message that never changes once stored: its ENVELOPE and BODYSTRUCTURE
// documents and its raw header block, kept per process (shared by all sessions) so that a
// client listing the same mailbox again, or many clients listing theirs, costs the database the
// entries only: the work Dovecot's dovecot.index.cache saves. Bounded in bytes
// (limits.imap_message_cache_bytes; 0 turns it off), least recently used first out.
// Keyed by message id: a session looks up only ids the store has just listed for its own
// account and mailbox, so the cache never opens a message to an account that does not hold it.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/types.hpp"

namespace govmail::imap {

class MessageCache {
 public:
  // The stored JSON documents, the raw header block, and the IMAP renderings (each in the
  // plain and the UTF8=ACCEPT form) that a FETCH answers without parsing JSON.
  enum class Part : unsigned {
    envelope_json,
    bodystructure_json,
    header,
    envelope,
    envelope_utf8,
    bodystructure,
    bodystructure_utf8,
    body,
    body_utf8,
    count
  };

  explicit MessageCache(std::uint64_t max_bytes = 0) : max_bytes_(max_bytes) {}
  void set_max_bytes(std::uint64_t max_bytes);
  bool enabled() const { return max_bytes_ > 0; }

  // Values are shared, never copied out: an eviction meanwhile leaves a holder its value.
  using Value = std::shared_ptr<const std::string>;

  // The part when cached, else null (and marks the message recently used).
  Value find(store::MessageId message, Part part);
  bool contains(store::MessageId message, Part part) const;

  // The parts named by `wanted` (a bit per Part) of each message, null where not cached, in
  // `out` (one element per message, in order): one lock for a whole listing and one lookup per
  // message, where a FETCH of a mailbox would otherwise lock and look up each part of each
  // message. Marks the messages found recently used.
  using Parts = std::array<Value, static_cast<unsigned>(Part::count)>;
  static constexpr unsigned bit(Part p) { return 1u << static_cast<unsigned>(p); }
  void find_all(std::span<const store::MessageId> messages, unsigned wanted,
                std::vector<Parts>& out);
  void put(store::MessageId message, Part part, Value value);
  void put(store::MessageId message, Part part, const std::string& value);

  std::uint64_t bytes() const;
  std::uint64_t evicted() const;  // messages evicted since start

 private:
  struct Entry {
    Value parts[static_cast<unsigned>(Part::count)];
    std::list<store::MessageId>::iterator lru;
    std::uint64_t bytes = 0;
  };
  bool refuses(std::size_t size) const;
  void evict_locked();
  void log_eviction_locked();

  std::uint64_t max_bytes_;
  mutable std::mutex mutex_;
  std::list<store::MessageId> lru_;  // most recently used first
  std::unordered_map<store::MessageId, Entry> entries_;
  std::uint64_t bytes_ = 0;
  std::uint64_t evicted_ = 0;
  std::uint64_t part_bytes_[static_cast<unsigned>(Part::count)] = {};
  std::chrono::steady_clock::time_point logged_;  // the last "evicting" log line
};

}  // namespace govmail::imap
