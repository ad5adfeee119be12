// What a POP3 session needs from the rest of govmail: password checks and the mailbox store.
// Production uses make_store_backend(); tests may bring their own.
#pragma once
#include <memory>
#include <string>

#include "core/auth.hpp"
#include "core/awaitable_fwd.hpp"
#include "store/database.hpp"
#include "store/mailbox_store.hpp"

namespace govmail::pop3 {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual awaitable<core::AuthResult> authenticate(std::string user, std::string password,
                                                   std::string remote_ip) = 0;
  virtual store::MailboxStore& mailboxes() = 0;
};

// The backend on the store and AuthService (both must outlive it).
std::shared_ptr<Backend> make_store_backend(std::shared_ptr<store::Database> db,
                                            core::AuthService& auth);

}  // namespace govmail::pop3
