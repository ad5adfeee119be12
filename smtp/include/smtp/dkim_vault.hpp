// DKIM private keys at rest: the database holds them sealed under a master key kept in a file
// outside it (outbound.dkim_master_key_file, core::SecretBox), bound to their domain and
// selector (associated data), so a database reader or dump learns no key and a sealed key copied
// to another domain's row does not open. Keys stored before sealing existed are sealed when
// `govmail serve` starts with outbound delivery on (prepare_keys), and keep signing meanwhile.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "core/awaitable_fwd.hpp"
#include "core/config.hpp"
#include "core/result.hpp"
#include "core/secret_box.hpp"
#include "store/outbound.hpp"

namespace govmail::smtp::dkim {

using MasterKey = std::shared_ptr<const core::SecretBox>;

// What a stored key is bound to: its domain and selector.
std::string associated_data(std::string_view domain, std::string_view selector);
// The text to store for a new key.
std::string seal_private_key(const core::SecretBox& master, std::string_view domain,
                             std::string_view selector, std::string_view private_pem);
// The PEM of a stored key: opened when sealed (`master` may be null: then a sealed key is an
// error), as stored when it predates sealing. Errors say which key and why, never key bytes.
Result<std::string, std::string> private_key_pem(const core::SecretBox* master,
                                                 const store::DkimKey& key);

// The master key of the config: nullptr when outbound.dkim_master_key_file is "". A missing file
// is created first when outbound.dkim_master_key_create allows it and no stored key is sealed
// yet (a new key could not open them: that is a lost key file, said so).
awaitable<Result<MasterKey, std::string>> load_master_key(const core::OutboundConfig& cfg,
                                                          store::OutboundQueue& queue);

// The start of signing: the master key (as above); stored keys from before sealing are sealed
// now; every stored key must open. An error names the key and tells what to do; the caller
// refuses to start rather than send mail unsigned.
awaitable<Result<MasterKey, std::string>> prepare_keys(const core::OutboundConfig& cfg,
                                                       store::OutboundQueue& queue);

}  // namespace govmail::smtp::dkim
