// Administrative changes whose audit entry commits in the same transaction as the change
// (docs/ARCHIVE.md): no change without its entry, no entry without its change. The entry is
// written with ok = true; when its insert fails, the change rolls back and the call fails.
// The AdminStore methods of the same names change without an entry (tests, import internals).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "store/admin_store.hpp"
#include "store/database.hpp"
#include "store/outbound.hpp"

namespace govmail::store::audited {

awaitable<Result<void>> set_account_status(Database& db, AccountId id, AccountStatus status,
                                           AuditEntry entry);
// Returns the addresses not found, like AdminStore::set_status_many.
awaitable<Result<std::vector<std::string>>> set_status_many(Database& db,
                                                            std::vector<std::string> addresses,
                                                            AccountStatus status, AuditEntry entry);
awaitable<Result<void>> set_admin(Database& db, AccountId id, AdminRole role,
                                  std::vector<std::string> units, AuditEntry entry);
awaitable<Result<void>> remove_admin(Database& db, AccountId id, AuditEntry entry);
awaitable<Result<void>> set_quota(Database& db, AccountId id, std::uint64_t quota_bytes,
                                  AuditEntry entry);
awaitable<Result<void>> set_profile(Database& db, AccountId id, std::string display_name,
                                    std::optional<std::string> unit_code, std::string position,
                                    AuditEntry entry);

// Adding a member or a sender that is already there succeeds (and is recorded); removing a
// member that is not there is not_found.
enum class GroupChange { add_member, remove_member, add_sender };
awaitable<Result<void>> group_member(Database& db, GroupChange change, std::string group,
                                     std::string account, AuditEntry entry);
awaitable<Result<void>> set_send_policy(Database& db, std::string group, SendPolicy policy,
                                        AuditEntry entry);
awaitable<Result<void>> delete_group(Database& db, std::string group, AuditEntry entry);
awaitable<Result<void>> rename_account(Database& db, AccountId id, std::string new_address,
                                       bool keep_alias, AuditEntry entry);
// `alias` already normalised (admin::normalise_address); exists when an account or group has it.
awaitable<Result<void>> add_alias(Database& db, std::string alias, AccountId target,
                                  AuditEntry entry);
awaitable<Result<void>> remove_alias(Database& db, std::string alias, AuditEntry entry);
awaitable<Result<void>> remove_app_password(Database& db, AccountId id, std::string name,
                                            AuditEntry entry);
// `password_hash` already hashed; bumps credentials_version (other sessions log in again).
awaitable<Result<void>> set_password(Database& db, AccountId id, std::string password_hash,
                                     bool must_change, AuditEntry entry);
// exists when the account has an app password of that name.
awaitable<Result<AppPassword>> add_app_password(Database& db, AccountId id, std::string name,
                                                std::string password_hash, AuditEntry entry);
// TOTP enrolment (a secret) or reset (nullopt); not_found when the account is no admin.
awaitable<Result<void>> set_totp_secret(Database& db, AccountId id,
                                        std::optional<std::string> secret, AuditEntry entry);
// invalid when `name` is no host name, exists when taken.
awaitable<Result<Domain>> add_domain(Database& db, std::string name, AuditEntry entry);
// Outbound queue operator actions: recipients made due now (how many), an entry deleted.
awaitable<Result<int>> queue_retry(Database& db, std::int64_t id, AuditEntry entry);
awaitable<Result<void>> queue_delete(Database& db, std::int64_t id, AuditEntry entry);
// exists when the address is taken; the group's automatic members are added with it.
awaitable<Result<Group>> add_group(Database& db, Group g, AuditEntry entry);

// In admin_audited_ops.cpp. Directory::add_account with its entry (invalid, exists, not_found
// as there).
awaitable<Result<Account>> add_account(Database& db, NewAccount account, AuditEntry entry);
// AdminStore::import_units with its entry; the entry's detail is set to the counts.
awaitable<Result<ImportCounts>> import_units(Database& db, std::vector<OrgUnit> units,
                                             AuditEntry entry);
// AdminStore::merge_domain (domains already normalised); the counts are appended to the
// entry's detail. A merge refused for collisions changes nothing and writes no entry: the
// caller records the refusal.
awaitable<Result<MergeReport>> merge_domain(Database& db, std::string old_domain,
                                            std::string new_domain, AuditEntry entry);
// AdminStore::purge_deleted: one transaction per account, each with its own entry (the
// entry's target replaced by the account's address). Returns the purged addresses.
awaitable<Result<std::vector<std::string>>> purge_deleted(Database& db, int retention_days,
                                                          AuditEntry entry);
// OutboundQueue::add_dkim_key (the new key becomes the active one) with its entry.
awaitable<Result<DkimKey>> add_dkim_key(Database& db, DkimKey key, AuditEntry entry);
// SearchQueue::requeue (every account when empty) with its entry, whose detail is set to the
// number of messages queued. Returns that number.
awaitable<Result<std::int64_t>> search_requeue(Database& db, std::vector<AccountId> accounts,
                                               AuditEntry entry);

}  // namespace govmail::store::audited
