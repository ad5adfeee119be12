// JMAP (RFC 8620 core, RFC 8621 mail) and the webmail files, on core's HTTP server:
// /.well-known/jmap (session resource), /jmap/api, /jmap/upload, /jmap/download, /jmap/eventsource,
// the login/logout endpoints for browsers, and the webmail at /.
#pragma once
#include <memory>

namespace govmail::core {
class AuthService;
class Router;
class SessionRegistry;
struct Config;
}  // namespace govmail::core
namespace govmail::store {
class Database;
}
namespace govmail::search {
class Index;
}

namespace govmail::webmail {

struct JmapDeps {
  const core::Config& cfg;  // copied
  std::shared_ptr<store::Database> db;
  core::AuthService& auth;                          // must outlive the router
  std::shared_ptr<core::SessionRegistry> sessions;  // revocation on password change / suspension
  // Full-text index for Email/query text filters; null: they read the stored texts only.
  std::shared_ptr<search::Index> search = nullptr;
};

void register_jmap(core::Router& router, JmapDeps deps);

}  // namespace govmail::webmail
