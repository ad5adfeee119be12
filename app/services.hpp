// The network services `govmail serve` runs, one entry per protocol, each bound from the config.
#pragma once
#include <memory>
#include <string>

#include "core/auth.hpp"
#include "core/config.hpp"
#include "core/dns.hpp"
#include "core/listener.hpp"
#include "core/session_registry.hpp"
#include "core/tls.hpp"
#include "imap/stored_forms.hpp"
#include "search/index.hpp"
#include "store/database.hpp"

namespace govmail::app {

struct Services {
  const core::Config& cfg;
  std::shared_ptr<store::Database> db;
  core::AuthService& auth;
  core::TlsContext tls;
  std::shared_ptr<core::Resolver> resolver;         // the process's one DNS resolver
  std::shared_ptr<core::SessionRegistry> sessions;  // logged-in IMAP/SMTP sessions
  std::shared_ptr<search::Index> search;            // full-text index (search.use_index)
  std::shared_ptr<imap::MessageCache> imap_cache;   // shared with the store's ingest
};

Result<void, std::string> add_services(core::Server& server, const Services& services);

}  // namespace govmail::app
