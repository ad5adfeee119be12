// The IMAP listeners of `govmail serve`: imap with STARTTLS (listen.imap) and imaps with implicit
// TLS (listen.imaps).
#pragma once
#include <memory>
#include <string>

#include "core/config.hpp"
#include "core/listener.hpp"
#include "core/result.hpp"
#include "core/session_registry.hpp"
#include "core/tls.hpp"
#include "imap/session.hpp"

namespace govmail::imap {

class Backend;

// Registers every IMAP service whose listen list is not empty. Logged-in sessions join
// `sessions` (may be null), which ends them when their account's credentials change.
Result<void, std::string> add_services(core::Server& server, const core::Config& cfg,
                                       std::shared_ptr<Backend> backend, core::TlsContext tls,
                                       std::shared_ptr<core::SessionRegistry> sessions = nullptr);

// One connection: greeting, then bytes between the stream and the session until it ends.
awaitable<void> serve_connection(core::Stream& stream, const SessionConfig& cfg, Backend& backend,
                                 core::TlsContext tls, core::SessionRegistry* sessions = nullptr);

}  // namespace govmail::imap
