// The vacation responses of an SMTP delivery (store/vacation.hpp): after the message has
// committed, every local recipient reached directly (not only through a group) may answer.
// Quarantined mail (DMARC) is never answered: its sender is likely forged.
#include "core/asio.hpp"
#include "session_impl.hpp"

namespace govmail::smtp {

awaitable<void> send_vacation_replies(Session::Impl& s) {
  if (s.tx.to_junk) co_return;
  store::VacationDelivery d;
  d.sender = s.tx.from.address;
  d.message = s.tx.body;
  d.hostname = s.cfg.hostname;
  d.resend_after = s.cfg.vacation_resend_after;
  d.log_context = "smtp tx id=" + s.tx.queue_id;
  for (const auto& [id, who] : s.tx.accounts)
    if (!who.only_via_group) d.recipients.push_back({id, who.account.address, who.addressed_as});
  if (d.recipients.empty()) co_return;
  co_await s.backend.send_vacation_replies(std::move(d));
}

}  // namespace govmail::smtp
