// The admin HTTP API under /admin/api on the HTTP port (JSON): the operations of `govmail admin`
// for administrators signed in with their own account.
//
// Sign-in: POST /admin/api/login {"address","password","totp"} verifies the password through
// core::AuthService (cache, lock-out) and, when admin.require_totp is on or the admin enrolled
// TOTP, the code (RFC 6238). It answers {"token",...}: send it as "Authorization: Bearer TOKEN".
// Sessions live in this process's memory (a restart signs everybody out), expire after 15 idle
// minutes or 8 hours, and see role changes and suspensions at the next request.
//
// Roles, enforced here: province (everything), unit (accounts and groups of its units and the
// units below them; an account outside answers exactly like a missing one), auditor (reads and
// the audit log, no change). Every call but reading the audit log writes an audit entry (actor,
// action, target, client IP), with the same action names as the CLI.
#pragma once
#include <memory>

namespace govmail::core {
class AuthService;
class Router;
struct Config;
}  // namespace govmail::core
namespace govmail::store {
class Database;
}
namespace govmail::search {
class Index;
}

namespace govmail::admin {

struct AdminApiDeps {
  const core::Config& cfg;  // copied
  std::shared_ptr<store::Database> db;
  core::AuthService& auth;  // must outlive the router
  std::shared_ptr<search::Index> search = nullptr;  // GET search/stats (docs per shard)
};

void register_admin_api(core::Router& router, AdminApiDeps deps);

}  // namespace govmail::admin
