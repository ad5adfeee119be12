// The POP3 listeners of `govmail serve`: pop3 with STLS (listen.pop3) and pop3s with implicit
// TLS (listen.pop3s).
#pragma once
#include <memory>
#include <string>

#include "core/config.hpp"
#include "core/listener.hpp"
#include "core/result.hpp"
#include "core/session_registry.hpp"
#include "core/tls.hpp"
#include "pop3/session.hpp"

namespace govmail::pop3 {

class Backend;

// Registers every POP3 service whose listen list is not empty. Logged-in sessions join
// `sessions` (may be null), which ends them when their account's credentials change.
Result<void, std::string> add_services(core::Server& server, const core::Config& cfg,
                                       std::shared_ptr<Backend> backend, core::TlsContext tls,
                                       std::shared_ptr<core::SessionRegistry> sessions = nullptr);

// One connection: greeting, then bytes between the stream and the session until it ends.
awaitable<void> serve_connection(core::Stream& stream, const SessionConfig& cfg, Backend& backend,
                                 core::TlsContext tls, core::SessionRegistry* sessions = nullptr);

}  // namespace govmail::pop3
