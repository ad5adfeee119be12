// Backend on the store and AuthService.
#include "pop3/backend.hpp"

#include "core/asio.hpp"
#include "store/login_audit.hpp"

namespace govmail::pop3 {
namespace {

class StoreBackend final : public Backend {
 public:
  StoreBackend(std::shared_ptr<store::Database> db, core::AuthService& auth)
      : db_(std::move(db)), auth_(auth) {}
  awaitable<core::AuthResult> authenticate(std::string user, std::string password,
                                           std::string ip) override {
    std::string typed = user, from = ip;
    auto r = co_await auth_.verify(std::move(user), std::move(password), std::move(ip));
    co_return store::audited_login(*db_, "pop3", std::move(typed), std::move(from), std::move(r));
  }
  store::MailboxStore& mailboxes() override { return db_->mailboxes(); }

 private:
  std::shared_ptr<store::Database> db_;
  core::AuthService& auth_;
};

}  // namespace

std::shared_ptr<Backend> make_store_backend(std::shared_ptr<store::Database> db,
                                            core::AuthService& auth) {
  return std::make_shared<StoreBackend>(std::move(db), auth);
}

}  // namespace govmail::pop3
