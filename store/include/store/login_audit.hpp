// Protocol logins (IMAP, POP3, SMTP AUTH, JMAP) in the audit log (docs/ARCHIVE.md), success
// and failure, with the protocol, the client address and the account, never the password.
// Written in batches at most a second after the login (a crash loses at most that window, a
// clean stop nothing); a login whose entry cannot be queued is refused as temporary.
#pragma once
#include <string>

#include "core/auth.hpp"
#include "core/awaitable_fwd.hpp"
#include "store/database.hpp"
#include "store/error.hpp"

namespace govmail::store {

struct LoginAttempt {
  std::string protocol;  // imap, pop3, smtp, jmap: the action is "login.<protocol>"
  std::string user;      // the canonical address on success, else the name as typed
  std::string ip;        // the client address
  bool ok = false;
  std::string detail;  // "ok", "bad credentials", "locked out", "temporary failure"
};

// What every front end does with a login's result: queues its audit entry and, on success,
// records the last login (Database::note_login). Returns the result, or temporary when the
// entry could not be queued. `typed`: the user name as the client gave it.
core::AuthResult audited_login(Database& db, std::string protocol, std::string typed,
                               std::string ip, core::AuthResult result);

// Writes the queued logins now (`serve` calls it before closing the database).
awaitable<Result<void>> flush_login_audit(Database& db);

}  // namespace govmail::store
