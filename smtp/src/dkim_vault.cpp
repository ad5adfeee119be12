#include "smtp/dkim_vault.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <system_error>

#include "core/asio.hpp"

namespace govmail::smtp::dkim {
namespace {

std::string key_name(const store::DkimKey& k) {
  return "DKIM key " + k.selector + " of " + k.domain;
}

}  // namespace

std::string associated_data(std::string_view domain, std::string_view selector) {
  std::string ad = "govmail dkim private key";
  ad += '\0';
  ad += domain;
  ad += '\0';
  ad += selector;
  return ad;
}

std::string seal_private_key(const core::SecretBox& master, std::string_view domain,
                             std::string_view selector, std::string_view private_pem) {
  return master.seal(private_pem, associated_data(domain, selector));
}

Result<std::string, std::string> private_key_pem(const core::SecretBox* master,
                                                 const store::DkimKey& key) {
  if (!core::SecretBox::is_sealed(key.private_pem)) return key.private_pem;
  if (!master)
    return unexpected(key_name(key) + " is sealed but outbound.dkim_master_key_file is not set");
  auto pem = master->open(key.private_pem, associated_data(key.domain, key.selector));
  if (!pem) return unexpected(key_name(key) + " " + pem.error());
  return std::move(*pem);
}

awaitable<Result<MasterKey, std::string>> load_master_key(const core::OutboundConfig& cfg,
                                                          store::OutboundQueue& queue) {
  const auto& file = cfg.dkim_master_key_file;
  if (file.empty()) co_return MasterKey{};
  std::error_code ec;
  if (!std::filesystem::exists(file, ec) && !ec) {
    auto keys = co_await queue.dkim_keys("");
    if (!keys)
      co_return unexpected(std::string("DKIM keys: ") +
                           std::string(store::to_string(keys.error())));
    for (const auto& k : *keys)
      if (core::SecretBox::is_sealed(k.private_pem))
        co_return unexpected("master key file " + file.string() + " is missing, and " +
                             key_name(k) +
                             " is sealed under it: restore the file (a new key cannot open it)");
    if (!cfg.dkim_master_key_create)
      co_return unexpected("master key file " + file.string() +
                           " does not exist: create it with (umask 077; openssl rand -hex 32 > " +
                           file.string() + ")");
    if (auto made = core::SecretBox::create(file); !made) co_return unexpected(made.error());
    spdlog::info("DKIM master key created in {} (keep a copy: the sealed keys need it)",
                 file.string());
  }
  auto box = core::SecretBox::load(file);
  if (!box) co_return unexpected(box.error());
  co_return std::move(*box);
}

awaitable<Result<MasterKey, std::string>> prepare_keys(const core::OutboundConfig& cfg,
                                                       store::OutboundQueue& queue) {
  auto master = co_await load_master_key(cfg, queue);
  if (!master) co_return unexpected(master.error());
  auto keys = co_await queue.dkim_keys("");
  if (!keys)
    co_return unexpected(std::string("DKIM keys: ") + std::string(store::to_string(keys.error())));
  for (const auto& k : *keys) {
    if (core::SecretBox::is_sealed(k.private_pem)) {
      if (auto pem = private_key_pem(master->get(), k); !pem)
        co_return unexpected(*master ? pem.error() +
                                           " (is outbound.dkim_master_key_file the "
                                           "file the key was made with?)"
                                     : pem.error());
      continue;
    }
    if (!*master)
      co_return unexpected(key_name(k) +
                           " is stored unencrypted: set outbound.dkim_master_key_file (a file "
                           "of 64 hex characters, mode 0600) so that it is sealed at rest");
    auto sealed = seal_private_key(**master, k.domain, k.selector, k.private_pem);
    auto replaced = co_await queue.replace_dkim_private_key(k.id, k.private_pem, std::move(sealed));
    if (!replaced)
      co_return unexpected(key_name(k) + ": " + std::string(store::to_string(replaced.error())));
    // false: another process sealed it first, with the same master key or the next start says.
    if (*replaced) spdlog::info("{} sealed under the master key", key_name(k));
  }
  co_return std::move(*master);
}

}  // namespace govmail::smtp::dkim
