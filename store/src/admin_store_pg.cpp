#include "admin_store_pg.hpp"

#include <algorithm>
#include <cctype>

#include "core/asio.hpp"
#include "query.hpp"
#include "sql/admin_sql.hpp"

namespace govmail::store {

using detail::Params;
using detail::parse_account;
using detail::run;

namespace {

// Creates per round trip during an import: big enough to amortise the round trip, small enough
// for a smooth progress bar.
constexpr std::size_t kImportBatch = 250;
constexpr const char* kImportTimeouts =
    "SET LOCAL idle_in_transaction_session_timeout = 0; SET LOCAL statement_timeout = 0";

inline constexpr pg::Statement kImportCreate{
    "gm_import_create",
    "SELECT (govmail_add_account(t.a, t.n, t.h, t.q, true, NULLIF(t.u, ''), t.p)).id FROM unnest("
    "$1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[]) t(a, n, h, q, u, "
    "p)"};
inline constexpr pg::Statement kImportMembers{
    "gm_import_members",
    "INSERT INTO group_members (group_id, account_id) SELECT g.id, a.id FROM unnest("
    "$1::text[], $2::text[]) t(acc, grp) JOIN accounts a ON a.address = t.acc"
    " JOIN groups g ON g.address = t.grp ON CONFLICT DO NOTHING"};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Params& opt_text(Params& p, const std::optional<std::string>& v) {
  return v ? p.text(*v) : p.null();
}

std::optional<std::string> opt_col(const pg::Rows& r, int i, int c) {
  if (r.is_null(i, c)) return std::nullopt;
  return std::string(r.get(i, c));
}

AdminGrant parse_admin(const pg::Rows& r, int i) {
  AdminGrant g;
  g.account_id = r.get_int(i, 0);
  g.address = std::string(r.get(i, 1));
  g.role = static_cast<AdminRole>(r.get_int(i, 2));
  g.units = detail::parse_text_array(r.get(i, 3));
  g.totp_secret = opt_col(r, i, 4);
  g.credentials_version = static_cast<std::uint64_t>(r.get_int(i, 5));
  g.grant_serial = r.get_int(i, 6);
  return g;
}

std::vector<std::string> column(const pg::Rows& r, int c = 0) {
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.emplace_back(r.get(i, c));
  return out;
}

template <class T, class F>
Result<std::vector<T>> all_rows(Result<pg::Rows> rows, F parse) {
  if (!rows) return unexpected(rows.error());
  std::vector<T> out;
  out.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) out.push_back(parse(*rows, i));
  return out;
}

Result<void> one_changed(const Result<pg::Rows>& rows) {
  if (!rows) return unexpected(rows.error());
  if (rows->size() == 0) return unexpected(StoreError::not_found);
  return {};
}

Result<void> done(const Result<pg::Rows>& rows) {
  if (!rows) return unexpected(rows.error());
  return {};
}

// Runs `st` on the transaction's connection; a failure ends the transaction.
awaitable<pg::PgResultOr<pg::Rows>> tx_exec(pg::Connection& c, const pg::Statement& st,
                                            const Params& p) {
  co_return co_await c.exec(st, p.span());
}

Params audit_params(const AuditEntry& e) {
  Params p;
  p.text(e.actor).text(e.source).text(e.action).text(e.target).text(e.detail).boolean(e.ok);
  return p;
}

// Runs a transaction; the first StoreError-mapped failure is returned.
awaitable<Result<void>> in_transaction(pg::Pool& pool, pg::TxBody<void> body,
                                       std::string_view what) {
  auto r = co_await pg::transaction(pool, std::move(body));
  if (!r) co_return unexpected(detail::map_error(r.error(), what));
  co_return Result<void>{};
}

}  // namespace

Group detail::parse_group(const pg::Rows& r, int i) {
  Group g;
  g.id = r.get_int(i, 0);
  g.address = std::string(r.get(i, 1));
  g.display_name = std::string(r.get(i, 2));
  g.send_policy = static_cast<SendPolicy>(r.get_int(i, 3));
  g.unit_code = opt_col(r, i, 4);
  g.members = static_cast<std::size_t>(r.get_int(i, 5));
  return g;
}

awaitable<pg::PgResultOr<ImportCounts>> detail::upsert_units(pg::Connection& c,
                                                             const std::vector<OrgUnit>& units) {
  ImportCounts counts;
  for (const auto& u : units) {
    Params p;
    p.text(u.code).text(u.name);
    opt_text(p, u.parent_code).text(u.kind);
    auto rows = co_await tx_exec(c, sql::kUpsertUnit, p);
    if (!rows) co_return unexpected(rows.error());
    if (rows->size() == 0)
      ++counts.unchanged;
    else if (rows->get_bool(0, 0))
      ++counts.created;
    else
      ++counts.updated;
  }
  auto sync = co_await tx_exec(c, sql::kResyncUnitGroups, Params());
  if (!sync) co_return unexpected(sync.error());
  co_return counts;
}

awaitable<Result<ImportCounts>> PgAdminStore::import_units(std::vector<OrgUnit> units) {
  ImportCounts counts;
  auto r = co_await in_transaction(
      *pool_,
      [&](pg::Connection& c) -> awaitable<pg::PgResultOr<void>> {
        auto done = co_await detail::upsert_units(c, units);
        if (!done) co_return unexpected(done.error());
        counts = *done;
        co_return pg::PgResultOr<void>{};
      },
      "import units");
  if (!r) co_return unexpected(r.error());
  co_return counts;
}

awaitable<Result<std::vector<OrgUnit>>> PgAdminStore::list_units() {
  co_return all_rows<OrgUnit>(co_await run(*pool_, sql::kListUnits, Params(), "list units"),
                              [](const pg::Rows& r, int i) {
                                return OrgUnit{std::string(r.get(i, 0)), std::string(r.get(i, 1)),
                                               opt_col(r, i, 2), std::string(r.get(i, 3))};
                              });
}

awaitable<Result<MergeReport>> PgAdminStore::merge_domain(std::string old_domain,
                                                          std::string new_domain) {
  auto rows =
      co_await run(*pool_, sql::kMergeDomain,
                   Params().text(lower(old_domain)).text(lower(new_domain)), "merge domain");
  if (!rows) co_return unexpected(rows.error());
  co_return detail::parse_merge(*rows);
}

MergeReport detail::parse_merge(const pg::Rows& rows) {
  MergeReport m;
  m.collisions = detail::parse_text_array(rows.get(0, 0));
  m.accounts = static_cast<std::size_t>(rows.get_int(0, 1));
  m.aliases = static_cast<std::size_t>(rows.get_int(0, 2));
  m.groups = static_cast<std::size_t>(rows.get_int(0, 3));
  return m;
}

awaitable<Result<std::vector<Account>>> PgAdminStore::list_accounts(AccountFilter f) {
  Params p;
  p.text(lower(f.domain));
  opt_text(p, f.unit);
  if (f.status)
    p.num(static_cast<int>(*f.status));
  else
    p.null();
  co_return all_rows<Account>(co_await run(*pool_, sql::kFilterAccounts, p, "list accounts"),
                              parse_account);
}

awaitable<Result<AccountDetail>> PgAdminStore::account_detail(std::string address) {
  auto rows =
      co_await run(*pool_, sql::kAccountDetail, Params().text(lower(address)), "account detail");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  AccountDetail d;
  d.account = parse_account(*rows, 0);
  d.created_at = rows->get_int(0, 11);
  if (!rows->is_null(0, 12)) d.last_login_at = rows->get_int(0, 12);
  if (!rows->is_null(0, 13)) d.deleted_at = rows->get_int(0, 13);
  d.aliases = detail::parse_text_array(rows->get(0, 14));
  d.groups = detail::parse_text_array(rows->get(0, 15));
  auto pw = co_await run(*pool_, sql::kAppPasswords, Params().num(d.account.id), "app passwords");
  auto list = all_rows<AppPassword>(std::move(pw), [](const pg::Rows& r, int i) {
    AppPassword a{r.get_int(i, 0), std::string(r.get(i, 1)), r.get_int(i, 2), std::nullopt};
    if (!r.is_null(i, 3)) a.last_used_at = r.get_int(i, 3);
    return a;
  });
  if (!list) co_return unexpected(list.error());
  d.app_passwords = std::move(*list);
  co_return d;
}

awaitable<Result<void>> PgAdminStore::set_profile(AccountId id, std::string display_name,
                                                  std::optional<std::string> unit_code,
                                                  std::string position) {
  Params p;
  p.num(id).text(std::move(display_name));
  opt_text(p, unit_code).text(std::move(position));
  co_return one_changed(co_await run(*pool_, sql::kSetProfile, p, "set profile"));
}

awaitable<Result<void>> PgAdminStore::rename_account(AccountId id, std::string new_address,
                                                     bool keep_alias) {
  co_return done(co_await run(*pool_, sql::kRenameAccount,
                              Params().num(id).text(lower(new_address)).boolean(keep_alias),
                              "rename account"));
}

awaitable<Result<void>> PgAdminStore::set_account_status(AccountId id, AccountStatus status) {
  co_return one_changed(co_await run(*pool_, sql::kSetAccountStatus,
                                     Params().num(id).num(static_cast<int>(status)),
                                     "set account status"));
}

awaitable<Result<std::vector<std::string>>> PgAdminStore::set_status_many(
    std::vector<std::string> addresses, AccountStatus status) {
  for (auto& a : addresses) a = lower(a);
  std::vector<std::string> missing;
  auto r = co_await in_transaction(
      *pool_,
      [&](pg::Connection& c) -> awaitable<pg::PgResultOr<void>> {
        auto found = co_await tx_exec(c, sql::kExistingAddresses, Params().text_array(addresses));
        if (!found) co_return unexpected(found.error());
        auto present = column(*found);
        std::sort(present.begin(), present.end());
        missing.clear();
        for (const auto& a : addresses)
          if (!std::binary_search(present.begin(), present.end(), a)) missing.push_back(a);
        auto upd = co_await tx_exec(c, sql::kSetStatusMany,
                                    Params().text_array(addresses).num(static_cast<int>(status)));
        if (!upd) co_return unexpected(upd.error());
        co_return pg::PgResultOr<void>{};
      },
      "set status of many");
  if (!r) co_return unexpected(r.error());
  co_return missing;
}

awaitable<Result<std::vector<std::string>>> PgAdminStore::purge_deleted(int retention_days) {
  auto rows =
      co_await run(*pool_, sql::kPurgeCandidates, Params().num(retention_days), "purge candidates");
  if (!rows) co_return unexpected(rows.error());
  std::vector<std::string> purged;
  for (int i = 0; i < rows->size(); ++i) {  // one transaction per account: bounded work each
    auto r = co_await run(*pool_, sql::kPurgeAccount, Params().num(rows->get_int(i, 0)),
                          "purge account");
    if (r)
      purged.emplace_back(rows->get(i, 1));
    else if (r.error() != StoreError::not_found)
      co_return unexpected(r.error());
  }
  co_return purged;
}

awaitable<Result<std::vector<Account>>> PgAdminStore::unused_accounts(std::string domain,
                                                                      int days) {
  co_return all_rows<Account>(
      co_await run(*pool_, sql::kUnusedAccounts, Params().text(lower(domain)).num(days),
                   "unused accounts"),
      parse_account);
}

awaitable<Result<std::vector<std::string>>> PgAdminStore::aliases_of(AccountId id) {
  auto rows = co_await run(*pool_, sql::kAliasesOf, Params().num(id), "aliases of");
  if (!rows) co_return unexpected(rows.error());
  co_return column(*rows);
}

awaitable<Result<void>> PgAdminStore::remove_alias(std::string alias) {
  co_return one_changed(
      co_await run(*pool_, sql::kRemoveAlias, Params().text(lower(alias)), "remove alias"));
}

awaitable<Result<AppPassword>> PgAdminStore::add_app_password(AccountId id, std::string name,
                                                              std::string password_hash) {
  if (name.empty() || password_hash.empty()) co_return unexpected(StoreError::invalid);
  auto rows = co_await run(*pool_, sql::kAddAppPassword,
                           Params().num(id).text(std::move(name)).text(std::move(password_hash)),
                           "add app password");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::exists);
  co_return AppPassword{rows->get_int(0, 0), std::string(rows->get(0, 1)), rows->get_int(0, 2),
                        std::nullopt};
}

awaitable<Result<void>> PgAdminStore::remove_app_password(AccountId id, std::string name) {
  co_return one_changed(co_await run(*pool_, sql::kRemoveAppPassword,
                                     Params().num(id).text(std::move(name)),
                                     "remove app password"));
}

awaitable<Result<Group>> PgAdminStore::add_group(Group g) {
  Params p;
  p.text(lower(g.address)).text(g.display_name).num(static_cast<int>(g.send_policy));
  opt_text(p, g.unit_code);
  auto rows = co_await run(*pool_, sql::kAddGroup, p, "add group");
  if (!rows) co_return unexpected(rows.error());
  Group added = detail::parse_group(*rows, 0);
  // The count in that statement ran on its snapshot, before the automatic members were added.
  auto members = co_await run(*pool_, sql::kGroupMemberCount, Params().num(added.id), "group");
  if (members && members->size() > 0)
    added.members = static_cast<std::size_t>(members->get_int(0, 0));
  co_return added;
}

awaitable<Result<std::vector<Group>>> PgAdminStore::list_groups(std::string domain) {
  co_return all_rows<Group>(
      co_await run(*pool_, sql::kListGroups, Params().text(lower(domain)), "list groups"),
      detail::parse_group);
}

awaitable<Result<std::vector<std::string>>> PgAdminStore::group_members(std::string group) {
  group = lower(group);
  auto exists = co_await run(*pool_, sql::kGroupExists, Params().text(group), "find group");
  if (auto r = one_changed(exists); !r) co_return unexpected(r.error());
  auto rows = co_await run(*pool_, sql::kGroupMembers, Params().text(group), "group members");
  if (!rows) co_return unexpected(rows.error());
  co_return column(*rows);
}

awaitable<Result<void>> PgAdminStore::add_member(std::string group, std::string account) {
  auto rows = co_await run(*pool_, sql::kAddMember,
                           Params().text(lower(group)).text(lower(account)), "add member");
  if (!rows) co_return unexpected(rows.error());
  co_return Result<void>{};  // already a member: nothing to do (not_found is checked by callers)
}

awaitable<Result<void>> PgAdminStore::remove_member(std::string group, std::string account) {
  co_return one_changed(co_await run(*pool_, sql::kRemoveMember,
                                     Params().text(lower(group)).text(lower(account)),
                                     "remove member"));
}

awaitable<Result<void>> PgAdminStore::add_sender(std::string group, std::string account) {
  co_return done(co_await run(*pool_, sql::kAddSender,
                              Params().text(lower(group)).text(lower(account)), "add sender"));
}

awaitable<Result<void>> PgAdminStore::set_send_policy(std::string group, SendPolicy policy) {
  co_return one_changed(co_await run(*pool_, sql::kSetSendPolicy,
                                     Params().text(lower(group)).num(static_cast<int>(policy)),
                                     "set send policy"));
}

awaitable<Result<void>> PgAdminStore::delete_group(std::string group) {
  co_return one_changed(
      co_await run(*pool_, sql::kDeleteGroup, Params().text(lower(group)), "delete group"));
}

awaitable<Result<std::vector<std::string>>> PgAdminStore::taken_addresses(std::string domain) {
  auto rows =
      co_await run(*pool_, sql::kTakenAddresses, Params().text(lower(domain)), "taken addresses");
  if (!rows) co_return unexpected(rows.error());
  co_return column(*rows);
}

awaitable<Result<void>> PgAdminStore::apply_import(ImportBatch batch,
                                                   std::function<void(std::size_t)> progress) {
  co_return co_await in_transaction(
      *pool_,
      [&](pg::Connection& c) -> awaitable<pg::PgResultOr<void>> {
        // The transaction waits for argon2id between batches (NOTES.md: 50,000 accounts keep it
        // open ~33 minutes) and its membership statement carries the whole file: neither the
        // idle nor the statement timeout of the pool applies; lock_timeout still does.
        auto lifted = co_await c.exec(kImportTimeouts);
        if (!lifted) co_return unexpected(lifted.error());
        for (std::size_t at = 0; at < batch.creates.size(); at += kImportBatch) {
          std::size_t end = std::min(batch.creates.size(), at + kImportBatch);
          std::vector<std::string> addr, name, hash, unit, pos;
          std::vector<std::int64_t> quota;
          if (batch.hashes) hash = co_await batch.hashes(at, end);
          if (batch.hashes &&
              (hash.size() != end - at ||
               std::any_of(hash.begin(), hash.end(), [](auto& h) { return h.empty(); })))
            co_return unexpected(pg::PgError{"22023", "a password hash is missing", false});
          for (std::size_t i = at; i < end; ++i) {
            const auto& a = batch.creates[i];
            addr.push_back(a.address);
            name.push_back(a.display_name);
            if (!batch.hashes) hash.push_back(a.password_hash);
            quota.push_back(static_cast<std::int64_t>(a.quota_bytes));
            unit.push_back(a.unit_code.value_or(""));
            pos.push_back(a.position);
          }
          Params p;
          p.text_array(addr).text_array(name).text_array(hash).num_array(quota);
          p.text_array(unit).text_array(pos);
          auto rows = co_await tx_exec(c, kImportCreate, p);
          if (!rows) co_return unexpected(rows.error());
          if (progress) progress(end);
        }
        for (const auto& u : batch.updates) {
          Params p;
          p.num(u.id).text(u.display_name);
          opt_text(p, u.unit_code).text(u.position).num(static_cast<std::int64_t>(u.quota_bytes));
          auto rows = co_await tx_exec(c, sql::kImportUpdate, p);
          if (!rows) co_return unexpected(rows.error());
        }
        if (!batch.memberships.empty()) {
          std::vector<std::string> acc, grp;
          for (const auto& [a, g] : batch.memberships) {
            acc.push_back(a);
            grp.push_back(g);
          }
          auto rows = co_await tx_exec(c, kImportMembers, Params().text_array(acc).text_array(grp));
          if (!rows) co_return unexpected(rows.error());
        }
        auto a = co_await tx_exec(c, sql::kAudit, audit_params(batch.audit));
        if (!a) co_return unexpected(a.error());
        co_return pg::PgResultOr<void>{};
      },
      "apply import");
}

awaitable<Result<void>> PgAdminStore::set_admin(AccountId id, AdminRole role,
                                                std::vector<std::string> units) {
  co_return one_changed(co_await run(*pool_, sql::kSetAdmin,
                                     Params().num(id).num(static_cast<int>(role)).text_array(units),
                                     "set admin"));
}

awaitable<Result<void>> PgAdminStore::remove_admin(AccountId id) {
  co_return one_changed(co_await run(*pool_, sql::kRemoveAdmin, Params().num(id), "remove admin"));
}

awaitable<Result<AdminGrant>> PgAdminStore::find_admin(AccountId id) {
  auto rows = co_await run(*pool_, sql::kFindAdmin, Params().num(id), "find admin");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  co_return parse_admin(*rows, 0);
}

awaitable<Result<std::vector<AdminGrant>>> PgAdminStore::list_admins() {
  co_return all_rows<AdminGrant>(co_await run(*pool_, sql::kListAdmins, Params(), "list admins"),
                                 parse_admin);
}

awaitable<Result<void>> PgAdminStore::set_totp_secret(AccountId id,
                                                      std::optional<std::string> secret) {
  Params p;
  p.num(id);
  opt_text(p, secret);
  co_return one_changed(co_await run(*pool_, sql::kSetTotp, p, "set totp"));
}

awaitable<Result<bool>> PgAdminStore::use_totp_step(AccountId id, std::int64_t step) {
  auto rows = co_await run(*pool_, sql::kUseTotpStep, Params().num(id).num(step), "use totp step");
  if (!rows) co_return unexpected(rows.error());
  co_return rows->size() > 0;
}

awaitable<Result<std::vector<std::string>>> PgAdminStore::domains_of_units(
    std::vector<std::string> units) {
  auto rows =
      co_await run(*pool_, sql::kDomainsOfUnits, Params().text_array(units), "domains of units");
  if (!rows) co_return unexpected(rows.error());
  co_return column(*rows);
}

awaitable<Result<bool>> PgAdminStore::unit_within(std::string unit,
                                                  std::vector<std::string> units) {
  auto rows =
      co_await run(*pool_, sql::kUnitWithin, Params().text(unit).text_array(units), "unit within");
  if (!rows) co_return unexpected(rows.error());
  co_return rows->size() > 0 && rows->get_bool(0, 0);
}

awaitable<Result<void>> PgAdminStore::audit(AuditEntry e) {
  co_return done(co_await run(*pool_, sql::kAudit, audit_params(e), "audit"));
}

awaitable<Result<std::vector<AuditEntry>>> PgAdminStore::audit_log(AuditQuery q) {
  Params p;
  opt_text(p, q.target);
  opt_text(p, q.action_prefix).num(static_cast<std::int64_t>(q.limit));
  co_return all_rows<AuditEntry>(
      co_await run(*pool_, sql::kAuditLog, p, "audit log"), [](const pg::Rows& r, int i) {
        return AuditEntry{r.get_int(i, 0),          r.get_int(i, 1),
                          std::string(r.get(i, 2)), std::string(r.get(i, 3)),
                          std::string(r.get(i, 4)), std::string(r.get(i, 5)),
                          std::string(r.get(i, 6)), r.get_bool(i, 7)};
      });
}

}  // namespace govmail::store
