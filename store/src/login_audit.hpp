// The queue behind store/login_audit.hpp: protocol logins go to the audit log in one statement
// per flush (archive.login_audit_flush), not one each (the audit log is one chain: a statement per
// login would serialise every login of every process on its head lock). A crash loses at most
// one flush interval; a clean stop (store::flush_login_audit) nothing. Bounded: when
// archive.login_audit_queue_max logins wait (the database has been failing), a login is refused.
#pragma once
#include <chrono>
#include <memory>

#include "core/awaitable_fwd.hpp"
#include "pg/pg.hpp"
#include "store/login_audit.hpp"

namespace govmail::store {

class LoginAuditWriter {
 public:
  LoginAuditWriter(Executor ex, std::shared_ptr<pg::Pool> pool, std::chrono::milliseconds flush,
                   std::size_t queue_max);
  ~LoginAuditWriter();
  void start();
  bool add(LoginAttempt attempt);   // false: queue full, refuse the login
  awaitable<Result<void>> flush();  // writes what is queued now; the loop keeps running
  void stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace govmail::store
