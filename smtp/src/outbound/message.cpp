#include "message.hpp"

#include <spdlog/spdlog.h>

#include "core/asio.hpp"
#include "policy.hpp"
#include "smtp/command.hpp"
#include "smtp/headers.hpp"
#include "store/outbound.hpp"

namespace govmail::smtp::outbound {

std::string_view without_return_path(std::string_view stored) {
  if (stored.size() > 12) {
    if (lower_ascii(stored.substr(0, 12)) == "return-path:") {
      // The field with its folded continuation lines.
      std::size_t end = 0;
      do {
        const auto eol = stored.find("\r\n", end);
        if (eol == std::string_view::npos) return stored;
        end = eol + 2;
      } while (end < stored.size() && (stored[end] == ' ' || stored[end] == '\t'));
      return stored.substr(end);
    }
  }
  return stored;
}

awaitable<void> DkimKeys::reload(store::OutboundQueue& queue) {
  auto keys = co_await queue.dkim_keys("");
  if (!keys) {
    spdlog::warn("outbound: DKIM keys not loaded: {}", store::to_string(keys.error()));
    co_return;
  }
  auto next = std::make_shared<Signers>();
  for (const auto& k : *keys) {
    if (!k.active || next->count(k.domain)) continue;
    auto alg = dkim::parse_algorithm(k.algorithm);
    if (!alg) continue;
    auto signer = dkim::Signer::load(*alg, k.private_pem, k.domain, k.selector);
    if (!signer) {
      spdlog::error("outbound: DKIM key {} of {} does not load: {}", k.selector, k.domain,
                    signer.error());
      continue;
    }
    (*next)[k.domain] = std::make_shared<const dkim::Signer>(std::move(*signer));
  }
  std::lock_guard lock(mu_);
  signers_ = std::move(next);
}

std::string DkimKeys::prepare(std::string_view stored, bool sign, std::int64_t now_unix) const {
  const std::string_view body = without_return_path(stored);
  if (!sign) return std::string(body);
  std::shared_ptr<const Signers> signers;
  {
    std::lock_guard lock(mu_);
    signers = signers_;
  }
  if (signers->empty()) return std::string(body);
  const auto froms = header_addresses(body, "From");
  if (froms.empty()) return std::string(body);
  const auto it = signers->find(domain_of_address(froms.front()));
  if (it == signers->end()) return std::string(body);
  auto header = it->second->sign(body, now_unix);
  if (!header) {
    spdlog::warn("outbound: DKIM signing for {} failed: {}", it->first, header.error());
    return std::string(body);
  }
  std::string out;
  out.reserve(header->size() + body.size());
  out += *header;
  out += body;
  return out;
}

}  // namespace govmail::smtp::outbound
