// The SMTP listeners of `govmail serve`: MX (listen.smtp), submission with STARTTLS
// (listen.submission) and submissions with implicit TLS (listen.submissions).
#pragma once
#include <memory>
#include <string>

#include "core/config.hpp"
#include "core/listener.hpp"
#include "core/result.hpp"
#include "core/session_registry.hpp"
#include "core/tls.hpp"
#include "smtp/session.hpp"

namespace govmail::smtp {

class Backend;
class InboundAuth;

// Registers every SMTP service whose listen list is not empty.
// `inbound_auth` (may be null) checks SPF/DKIM/DMARC of mail arriving on the MX. Sessions that
// authenticated join `sessions` (may be null), which ends them when their credentials change.
Result<void, std::string> add_services(core::Server& server, const core::Config& cfg,
                                       std::shared_ptr<Backend> backend, core::TlsContext tls,
                                       std::shared_ptr<const InboundAuth> inbound_auth = nullptr,
                                       std::shared_ptr<core::SessionRegistry> sessions = nullptr);

// One connection: greeting, then bytes between the stream and the session until it ends.
awaitable<void> serve_connection(core::Stream& stream, const SessionConfig& cfg, Backend& backend,
                                 core::TlsContext tls, core::SessionRegistry* sessions = nullptr);

}  // namespace govmail::smtp
