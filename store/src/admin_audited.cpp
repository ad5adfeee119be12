// store/admin_audited.hpp: each change and its audit entry in one transaction.
#include "store/admin_audited.hpp"

#include <algorithm>
#include <cctype>

#include "admin_audited_tx.hpp"
#include "admin_store_pg.hpp"
#include "core/asio.hpp"
#include "directory_pg.hpp"
#include "query.hpp"
#include "sql/admin_sql.hpp"
#include "sql/directory_sql.hpp"
#include "sql/outbound_sql.hpp"

namespace govmail::store::audited {

using detail::Params;

pg::Pool& tx::pool_of(Database& db) {
  return *dynamic_cast<PgAdminStore&>(db.admin()).pool();
}

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A change that touches no row is not_found: nothing changed, so no entry either.
constexpr const char* kNoRow = "P0002";  // no_data_found, raised by nothing else here

}  // namespace

awaitable<pg::PgResultOr<void>> tx::write_entry(pg::Connection& c, const AuditEntry& e) {
  Params p;
  p.text(e.actor).text(e.source).text(e.action).text(e.target).text(e.detail).boolean(true);
  auto a = co_await c.exec(sql::kAudit, p.span());
  if (!a) co_return unexpected(a.error());
  co_return pg::PgResultOr<void>{};
}

awaitable<Result<pg::Rows>> tx::rows_and_entry(Database& db, const pg::Statement& st, Params params,
                                               AuditEntry entry, std::string_view what,
                                               std::optional<StoreError> no_row,
                                               const Describe* describe) {
  pg::Rows out;
  auto r = co_await pg::transaction(pool_of(db),
                                    [&](pg::Connection& c) -> awaitable<pg::PgResultOr<void>> {
                                      auto rows = co_await c.exec(st, params.span());
                                      if (!rows) co_return unexpected(rows.error());
                                      if (rows->size() == 0 && no_row)
                                        co_return unexpected(pg::PgError{kNoRow, "no row", false});
                                      out = std::move(*rows);
                                      AuditEntry e = entry;  // a retried transaction starts over
                                      if (describe) (*describe)(out, e);
                                      co_return co_await write_entry(c, e);
                                    });
  if (r) co_return std::move(out);
  if (r.error().sqlstate == kNoRow) co_return unexpected(*no_row);
  co_return unexpected(detail::map_error(r.error(), what));
}

namespace {
using tx::pool_of;
using tx::rows_and_entry;
using tx::write_entry;

awaitable<Result<void>> change_and_entry(Database& db, const pg::Statement& st, Params params,
                                         AuditEntry entry, std::string_view what,
                                         std::optional<StoreError> no_row = StoreError::not_found) {
  auto r = co_await rows_and_entry(db, st, std::move(params), std::move(entry), what, no_row);
  if (!r) co_return unexpected(r.error());
  co_return Result<void>{};
}

}  // namespace

awaitable<Result<void>> set_account_status(Database& db, AccountId id, AccountStatus status,
                                           AuditEntry entry) {
  Params p;
  p.num(id).num(static_cast<int>(status));
  co_return co_await change_and_entry(db, sql::kSetAccountStatus, std::move(p), std::move(entry),
                                      "set account status");
}

awaitable<Result<std::vector<std::string>>> set_status_many(Database& db,
                                                            std::vector<std::string> addresses,
                                                            AccountStatus status,
                                                            AuditEntry entry) {
  for (auto& a : addresses) a = lower(a);
  std::vector<std::string> missing;
  auto r = co_await pg::transaction(
      pool_of(db), [&](pg::Connection& c) -> awaitable<pg::PgResultOr<void>> {
        Params which;  // named: no temporary in a co_await (GCC 12, docs/NOTES.md)
        which.text_array(addresses);
        auto found = co_await c.exec(sql::kExistingAddresses, which.span());
        if (!found) co_return unexpected(found.error());
        std::vector<std::string> present;
        for (int i = 0; i < found->size(); ++i) present.emplace_back(found->get(i, 0));
        std::sort(present.begin(), present.end());
        missing.clear();
        for (const auto& a : addresses)
          if (!std::binary_search(present.begin(), present.end(), a)) missing.push_back(a);
        Params p;
        p.text_array(addresses).num(static_cast<int>(status));
        auto upd = co_await c.exec(sql::kSetStatusMany, p.span());
        if (!upd) co_return unexpected(upd.error());
        co_return co_await write_entry(c, entry);
      });
  if (!r) co_return unexpected(detail::map_error(r.error(), "set status of many"));
  co_return missing;
}

awaitable<Result<void>> set_admin(Database& db, AccountId id, AdminRole role,
                                  std::vector<std::string> units, AuditEntry entry) {
  Params p;
  p.num(id).num(static_cast<int>(role)).text_array(units);
  co_return co_await change_and_entry(db, sql::kSetAdmin, std::move(p), std::move(entry),
                                      "set admin");
}

awaitable<Result<void>> remove_admin(Database& db, AccountId id, AuditEntry entry) {
  Params p;
  p.num(id);
  co_return co_await change_and_entry(db, sql::kRemoveAdmin, std::move(p), std::move(entry),
                                      "remove admin");
}

awaitable<Result<void>> set_quota(Database& db, AccountId id, std::uint64_t quota_bytes,
                                  AuditEntry entry) {
  Params p;
  p.num(id).num(static_cast<std::int64_t>(quota_bytes));
  co_return co_await change_and_entry(db, sql::kSetQuota, std::move(p), std::move(entry),
                                      "set quota");
}

awaitable<Result<void>> set_profile(Database& db, AccountId id, std::string display_name,
                                    std::optional<std::string> unit_code, std::string position,
                                    AuditEntry entry) {
  Params p;
  p.num(id).text(std::move(display_name));
  if (unit_code)
    p.text(std::move(*unit_code));
  else
    p.null();
  p.text(std::move(position));
  co_return co_await change_and_entry(db, sql::kSetProfile, std::move(p), std::move(entry),
                                      "set profile");
}

awaitable<Result<void>> group_member(Database& db, GroupChange change, std::string group,
                                     std::string account, AuditEntry entry) {
  Params p;
  p.text(lower(std::move(group))).text(lower(std::move(account)));
  const bool remove = change == GroupChange::remove_member;
  const pg::Statement& st = change == GroupChange::add_member   ? sql::kAddMember
                            : change == GroupChange::add_sender ? sql::kAddSender
                                                                : sql::kRemoveMember;
  co_return co_await change_and_entry(
      db, st, std::move(p), std::move(entry), "group member",
      remove ? std::optional<StoreError>(StoreError::not_found) : std::nullopt);
}

awaitable<Result<void>> set_send_policy(Database& db, std::string group, SendPolicy policy,
                                        AuditEntry entry) {
  Params p;
  p.text(lower(std::move(group))).num(static_cast<int>(policy));
  co_return co_await change_and_entry(db, sql::kSetSendPolicy, std::move(p), std::move(entry),
                                      "set send policy");
}

awaitable<Result<void>> delete_group(Database& db, std::string group, AuditEntry entry) {
  Params p;
  p.text(lower(std::move(group)));
  co_return co_await change_and_entry(db, sql::kDeleteGroup, std::move(p), std::move(entry),
                                      "delete group");
}

awaitable<Result<void>> rename_account(Database& db, AccountId id, std::string new_address,
                                       bool keep_alias, AuditEntry entry) {
  Params p;
  p.num(id).text(lower(std::move(new_address))).boolean(keep_alias);
  co_return co_await change_and_entry(db, sql::kRenameAccount, std::move(p), std::move(entry),
                                      "rename account", std::nullopt);
}

awaitable<Result<void>> add_alias(Database& db, std::string alias, AccountId target,
                                  AuditEntry entry) {
  Params p;
  p.text(lower(std::move(alias))).num(target);
  // No row: an account or a group has that address.
  co_return co_await change_and_entry(db, sql::kAddAlias, std::move(p), std::move(entry),
                                      "add alias", StoreError::exists);
}

awaitable<Result<void>> remove_alias(Database& db, std::string alias, AuditEntry entry) {
  Params p;
  p.text(lower(std::move(alias)));
  co_return co_await change_and_entry(db, sql::kRemoveAlias, std::move(p), std::move(entry),
                                      "remove alias");
}

awaitable<Result<void>> remove_app_password(Database& db, AccountId id, std::string name,
                                            AuditEntry entry) {
  Params p;
  p.num(id).text(std::move(name));
  co_return co_await change_and_entry(db, sql::kRemoveAppPassword, std::move(p), std::move(entry),
                                      "remove app password");
}

awaitable<Result<void>> set_password(Database& db, AccountId id, std::string password_hash,
                                     bool must_change, AuditEntry entry) {
  if (password_hash.empty()) co_return unexpected(StoreError::invalid);
  Params p;
  p.num(id).text(std::move(password_hash)).boolean(must_change);
  co_return co_await change_and_entry(db, sql::kSetPassword, std::move(p), std::move(entry),
                                      "set password");
}

awaitable<Result<AppPassword>> add_app_password(Database& db, AccountId id, std::string name,
                                                std::string password_hash, AuditEntry entry) {
  if (name.empty() || password_hash.empty()) co_return unexpected(StoreError::invalid);
  Params p;
  p.num(id).text(std::move(name)).text(std::move(password_hash));
  // No row: the account has an app password of that name.
  auto rows = co_await rows_and_entry(db, sql::kAddAppPassword, std::move(p), std::move(entry),
                                      "add app password", StoreError::exists);
  if (!rows) co_return unexpected(rows.error());
  co_return AppPassword{rows->get_int(0, 0), std::string(rows->get(0, 1)), rows->get_int(0, 2),
                        std::nullopt};
}

awaitable<Result<void>> set_totp_secret(Database& db, AccountId id,
                                        std::optional<std::string> secret, AuditEntry entry) {
  Params p;
  p.num(id);
  if (secret)
    p.text(std::move(*secret));
  else
    p.null();
  co_return co_await change_and_entry(db, sql::kSetTotp, std::move(p), std::move(entry),
                                      "set totp");
}

awaitable<Result<Domain>> add_domain(Database& db, std::string name, AuditEntry entry) {
  auto norm = detail::normalise_domain(std::move(name));
  if (!norm) co_return unexpected(norm.error());
  Params p;
  p.text(std::move(*norm));
  auto rows =
      co_await rows_and_entry(db, sql::kAddDomain, std::move(p), std::move(entry), "add domain");
  if (!rows) co_return unexpected(rows.error());
  Domain d;
  d.id = rows->get_int(0, 0);
  d.name = std::string(rows->get(0, 1));
  if (!rows->is_null(0, 2)) d.alias_of = rows->get_int(0, 2);
  co_return d;
}

awaitable<Result<int>> queue_retry(Database& db, std::int64_t id, AuditEntry entry) {
  Params p;
  p.num(id);
  // No row: nothing pending (or no such entry); the caller tells them apart with show().
  auto rows = co_await rows_and_entry(db, sql::kOutboundRetry, std::move(p), std::move(entry),
                                      "outbound retry", std::nullopt);
  if (!rows) co_return unexpected(rows.error());
  co_return static_cast<int>(rows->affected());
}

awaitable<Result<void>> queue_delete(Database& db, std::int64_t id, AuditEntry entry) {
  Params p;
  p.num(id);
  co_return co_await change_and_entry(db, sql::kOutboundDelete, std::move(p), std::move(entry),
                                      "outbound delete");
}

awaitable<Result<Group>> add_group(Database& db, Group g, AuditEntry entry) {
  Params p;
  p.text(lower(g.address)).text(g.display_name).num(static_cast<int>(g.send_policy));
  if (g.unit_code)
    p.text(*g.unit_code);
  else
    p.null();
  auto rows = co_await rows_and_entry(db, sql::kAddGroup, std::move(p), std::move(entry),
                                      "add group", std::nullopt);
  if (!rows) co_return unexpected(rows.error());
  Group added = detail::parse_group(*rows, 0);
  // The count in that statement ran on its snapshot, before the automatic members were added.
  Params id;
  id.num(added.id);
  auto members = co_await detail::run(pool_of(db), sql::kGroupMemberCount, id, "group");
  if (members && members->size() > 0)
    added.members = static_cast<std::size_t>(members->get_int(0, 0));
  co_return added;
}

}  // namespace govmail::store::audited
