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
    if (!k.active || next->usable.count(k.domain) || next->unusable.count(k.domain)) continue;
    auto alg = dkim::parse_algorithm(k.algorithm);
    if (!alg) continue;
    auto pem = dkim::private_key_pem(master_.get(), k);
    auto signer = pem ? dkim::Signer::load(*alg, *pem, k.domain, k.selector)
                      : Result<dkim::Signer, std::string>(unexpected(pem.error()));
    if (!signer) {
      const std::string why =
          pem ? "DKIM key " + k.selector + " of " + k.domain + " does not load: " + signer.error()
              : pem.error();
      spdlog::error("outbound: {}; mail from {} is deferred until it is fixed", why, k.domain);
      next->unusable[k.domain] = why;
      continue;
    }
    next->usable[k.domain] = std::make_shared<const dkim::Signer>(std::move(*signer));
  }
  std::lock_guard lock(mu_);
  signers_ = std::move(next);
}

Result<std::string, std::string> DkimKeys::prepare(std::string_view stored, bool sign,
                                                   std::int64_t now_unix) const {
  const std::string_view body = without_return_path(stored);
  if (!sign) return std::string(body);
  std::shared_ptr<const Signers> signers;
  {
    std::lock_guard lock(mu_);
    signers = signers_;
  }
  if (signers->usable.empty() && signers->unusable.empty()) return std::string(body);
  const auto froms = header_addresses(body, "From");
  if (froms.empty()) return std::string(body);
  const std::string domain = domain_of_address(froms.front());
  if (auto bad = signers->unusable.find(domain); bad != signers->unusable.end())
    return unexpected(bad->second);
  const auto it = signers->usable.find(domain);
  if (it == signers->usable.end()) return std::string(body);
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
