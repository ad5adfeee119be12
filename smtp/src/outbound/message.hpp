// The bytes that go out: the stored message without the Return-Path: that final delivery adds
// (RFC 5321 4.4), DKIM-signed with the active key of its From: domain when there is one.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/awaitable_fwd.hpp"
#include "smtp/dkim.hpp"

namespace govmail::store {
class OutboundQueue;
}

namespace govmail::smtp::outbound {

// The stored message without a leading Return-Path: field.
std::string_view without_return_path(std::string_view stored);

class DkimKeys {
 public:
  // Reads the active key of every domain; a key that does not load is logged and skipped.
  awaitable<void> reload(store::OutboundQueue& queue);
  // The message to send: without Return-Path:, with a DKIM-Signature: first when `sign` and
  // its From: domain has a key. A signing failure sends the message unsigned (logged).
  std::string prepare(std::string_view stored, bool sign, std::int64_t now_unix) const;

 private:
  using Signers = std::map<std::string, std::shared_ptr<const dkim::Signer>>;
  mutable std::mutex mu_;
  std::shared_ptr<const Signers> signers_ = std::make_shared<Signers>();
};

}  // namespace govmail::smtp::outbound
