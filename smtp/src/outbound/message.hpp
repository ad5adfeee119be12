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
#include "core/result.hpp"
#include "smtp/dkim.hpp"
#include "smtp/dkim_vault.hpp"

namespace govmail::store {
class OutboundQueue;
}

namespace govmail::smtp::outbound {

// The stored message without a leading Return-Path: field.
std::string_view without_return_path(std::string_view stored);

class DkimKeys {
 public:
  // Sealed keys open with `master` (checked by dkim::prepare_keys before the service starts).
  void set_master(dkim::MasterKey master) { master_ = std::move(master); }
  // Reads the active key of every domain. A key that does not open or load (made meanwhile
  // under another master key, say) is logged and leaves its domain without a usable key.
  awaitable<void> reload(store::OutboundQueue& queue);
  // The message to send: without Return-Path:, with a DKIM-Signature: first when `sign` and
  // its From: domain has a key. An error when the domain's active key is unusable: the caller
  // defers the message rather than send it unsigned. A signing failure of the message itself
  // (no From:, malformed header) sends it unsigned (logged).
  Result<std::string, std::string> prepare(std::string_view stored, bool sign,
                                           std::int64_t now_unix) const;

 private:
  struct Signers {
    std::map<std::string, std::shared_ptr<const dkim::Signer>> usable;
    std::map<std::string, std::string> unusable;  // domain -> why its active key does not load
  };
  dkim::MasterKey master_;
  mutable std::mutex mu_;
  std::shared_ptr<const Signers> signers_ = std::make_shared<Signers>();
};

}  // namespace govmail::smtp::outbound
