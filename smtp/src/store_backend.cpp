// Backend on the store: Directory for recipients and send-as rights, MailboxStore::deliver for
// the one committed delivery, AuthService for passwords.
#include "core/asio.hpp"
#include "smtp/backend.hpp"
#include "store/database.hpp"
#include "store/login_audit.hpp"
#include "store/mail_store.hpp"
#include "store/mailbox_store.hpp"

namespace govmail::smtp {
namespace {

class StoreBackend final : public Backend {
 public:
  StoreBackend(std::shared_ptr<store::Database> db, core::AuthService& auth)
      : db_(std::move(db)), auth_(auth) {}

  awaitable<store::Result<bool>> is_local_domain(std::string domain) override {
    auto d = co_await db_->directory().find_domain(std::move(domain));
    if (d) co_return true;
    if (d.error() == store::StoreError::not_found) co_return false;
    co_return unexpected(d.error());
  }
  awaitable<store::Result<store::RecipientResolution>> resolve_recipient(
      std::string address) override {
    co_return co_await db_->directory().resolve_recipient(std::move(address));
  }
  awaitable<store::Result<bool>> may_send_as(store::AccountId account,
                                             std::string address) override {
    co_return co_await db_->directory().may_send_as(account, std::move(address));
  }
  awaitable<core::AuthResult> authenticate(std::string user, std::string password,
                                           std::string ip) override {
    std::string typed = user, from = ip;
    auto r = co_await auth_.verify(std::move(user), std::move(password), std::move(ip));
    co_return store::audited_login(*db_, "smtp", std::move(typed), std::move(from), std::move(r));
  }
  awaitable<store::Result<std::optional<store::MailboxId>>> junk_mailbox(
      store::AccountId account) override {
    auto boxes = co_await db_->mailboxes().list_mailboxes(account);
    if (!boxes) co_return unexpected(boxes.error());
    for (const auto& m : *boxes)
      if (m.special_use == store::SpecialUse::junk) co_return std::optional<store::MailboxId>(m.id);
    co_return std::optional<store::MailboxId>();
  }
  awaitable<store::Result<store::DeliveryResult>> deliver(store::Delivery d) override {
    co_return co_await db_->mailboxes().deliver(std::move(d));
  }
  awaitable<store::Result<store::DeliveryResult>> deliver_journaled(
      store::Delivery d, store::JournalInfo journal) override {
    co_return co_await store::deliver_journaled(db_->mailboxes(), std::move(d), std::move(journal));
  }
  awaitable<void> send_vacation_replies(store::VacationDelivery delivery) override {
    co_await store::send_vacation_replies(*db_, std::move(delivery));
  }

 private:
  std::shared_ptr<store::Database> db_;
  core::AuthService& auth_;
};

}  // namespace

awaitable<void> Backend::send_vacation_replies(store::VacationDelivery) {
  co_return;
}

std::shared_ptr<Backend> make_store_backend(std::shared_ptr<store::Database> db,
                                            core::AuthService& auth) {
  return std::make_shared<StoreBackend>(std::move(db), auth);
}

}  // namespace govmail::smtp
