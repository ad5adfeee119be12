// Directory queries for SMTP: recipients with quota (RCPT) and send-as rights (submission).
#include <cctype>

#include "core/asio.hpp"
#include "directory_pg.hpp"
#include "query.hpp"
#include "sql/directory_sender_sql.hpp"

namespace govmail::store {

using detail::Params;
using detail::run;

namespace {
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

awaitable<Result<RecipientResolution>> PgDirectory::resolve_recipient(std::string address) {
  auto rows = co_await run(*pool_, sql::kResolveRecipient, Params().text(lower(address)),
                           "resolve_recipient");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  RecipientResolution out;
  out.accounts.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) {
    out.accounts.push_back({rows->get_int(i, 0), static_cast<std::uint64_t>(rows->get_int(i, 2)),
                            static_cast<std::uint64_t>(rows->get_int(i, 3)),
                            std::string(rows->get(i, 4))});
    out.is_group = out.is_group || rows->get_bool(i, 1);
  }
  out.domain = std::string(rows->get(0, 6));
  if (out.is_group && !rows->is_null(0, 5))
    out.send_policy = static_cast<SendPolicy>(rows->get_int(0, 5));
  co_return out;
}

awaitable<Result<bool>> PgDirectory::may_send_as(AccountId account, std::string address) {
  auto rows = co_await run(*pool_, sql::kMaySendAs, Params().num(account).text(lower(address)),
                           "may_send_as");
  if (!rows) co_return unexpected(rows.error());
  co_return rows->size() == 1 && rows->get_bool(0, 0);
}

}  // namespace govmail::store
