#include "directory_pg.hpp"

#include <cctype>

#include "core/asio.hpp"
#include "query.hpp"
#include "sql/directory_sql.hpp"

namespace govmail::store {

using detail::Params;
using detail::parse_account;
using detail::run;

namespace {

std::string ascii_lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool has_control(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

// local@domain, lower-cased; exactly one '@' with something on each side.
Result<std::string> normalise_address(std::string address) {
  address = ascii_lower(std::move(address));
  auto at = address.rfind('@');
  if (at == std::string::npos || at == 0 || at > 64 || has_control(address) ||
      address.find('@') != at || address.find(' ') != std::string::npos)
    return unexpected(StoreError::invalid);
  auto domain = detail::normalise_domain(address.substr(at + 1));
  if (!domain) return unexpected(domain.error());
  return address.substr(0, at + 1) + *domain;
}

Domain parse_domain(const pg::Rows& r, int i) {
  Domain d;
  d.id = r.get_int(i, 0);
  d.name = std::string(r.get(i, 1));
  if (!r.is_null(i, 2)) d.alias_of = r.get_int(i, 2);
  return d;
}

template <class T, class F>
Result<T> first_row(Result<pg::Rows> rows, F parse) {
  if (!rows) return unexpected(rows.error());
  if (rows->size() == 0) return unexpected(StoreError::not_found);
  return parse(*rows, 0);
}

// For UPDATE ... RETURNING: no row means no such object.
Result<void> one_changed(const Result<pg::Rows>& rows) {
  if (!rows) return unexpected(rows.error());
  if (rows->size() == 0) return unexpected(StoreError::not_found);
  return {};
}

}  // namespace

// Lower-case ASCII domain (IDNA A-label for non-ASCII names, converted by the caller).
Result<std::string> detail::normalise_domain(std::string name) {
  name = ascii_lower(std::move(name));
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.' ||
      name.find("..") != std::string::npos)
    return unexpected(StoreError::invalid);
  for (unsigned char c : name)
    if (!std::isalnum(c) && c != '-' && c != '.') return unexpected(StoreError::invalid);
  return name;
}

awaitable<Result<Domain>> PgDirectory::add_domain(std::string name) {
  auto norm = detail::normalise_domain(std::move(name));
  if (!norm) co_return unexpected(norm.error());
  co_return first_row<Domain>(
      co_await run(*pool_, sql::kAddDomain, Params().text(*norm), "add domain"), parse_domain);
}

awaitable<Result<Domain>> PgDirectory::find_domain(std::string name) {
  co_return first_row<Domain>(
      co_await run(*pool_, sql::kFindDomain, Params().text(ascii_lower(name)), "find domain"),
      parse_domain);
}

awaitable<Result<std::vector<Domain>>> PgDirectory::list_domains() {
  auto rows = co_await run(*pool_, sql::kListDomains, Params(), "list domains");
  if (!rows) co_return unexpected(rows.error());
  std::vector<Domain> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(parse_domain(*rows, i));
  co_return out;
}

awaitable<Result<std::vector<AddressBookEntry>>> PgDirectory::address_book(std::size_t limit) {
  Params p;
  p.num(static_cast<std::int64_t>(limit));
  auto rows = co_await run(*pool_, sql::kAddressBook, p, "address book");
  if (!rows) co_return unexpected(rows.error());
  std::vector<AddressBookEntry> out;
  out.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i)
    out.push_back(
        {std::string(rows->get(i, 0)), std::string(rows->get(i, 1)), rows->get(i, 2) == "t"});
  co_return out;
}

awaitable<Result<std::vector<AddressBookEntry>>> address_book(Database& db, std::size_t limit) {
  co_return co_await dynamic_cast<PgDirectory&>(db.directory()).address_book(limit);
}

Result<Params> detail::add_account_params(NewAccount a) {
  auto address = normalise_address(std::move(a.address));
  if (!address) return unexpected(address.error());
  if (a.password_hash.empty() || has_control(a.display_name))
    return unexpected(StoreError::invalid);
  Params params;
  params.text(*address).text(a.display_name).text(a.password_hash);
  params.num(static_cast<std::int64_t>(a.quota_bytes)).boolean(a.must_change_password);
  if (a.unit_code)
    params.text(*a.unit_code);
  else
    params.null();
  params.text(a.position);
  return params;
}

awaitable<Result<Account>> PgDirectory::add_account(NewAccount a) {
  auto params = detail::add_account_params(std::move(a));
  if (!params) co_return unexpected(params.error());
  co_return first_row<Account>(co_await run(*pool_, sql::kAddAccount, *params, "add account"),
                               parse_account);
}

awaitable<Result<Account>> PgDirectory::find_account(std::string address) {
  co_return first_row<Account>(
      co_await run(*pool_, sql::kFindAccount, Params().text(ascii_lower(address)), "find account"),
      parse_account);
}

awaitable<Result<Account>> PgDirectory::get_account(AccountId id) {
  co_return first_row<Account>(
      co_await run(*pool_, sql::kGetAccount, Params().num(id), "get account"), parse_account);
}

awaitable<Result<std::vector<Account>>> PgDirectory::list_accounts(std::string domain) {
  auto rows =
      co_await run(*pool_, sql::kListAccounts, Params().text(ascii_lower(domain)), "list accounts");
  if (!rows) co_return unexpected(rows.error());
  std::vector<Account> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(parse_account(*rows, i));
  co_return out;
}

awaitable<Result<Credentials>> PgDirectory::credentials(std::string address) {
  auto rows =
      co_await run(*pool_, sql::kCredentials, Params().text(ascii_lower(address)), "credentials");
  co_return first_row<Credentials>(std::move(rows), [](const pg::Rows& r, int i) {
    Credentials c;
    c.account_id = r.get_int(i, 0);
    c.address = std::string(r.get(i, 1));
    c.status = static_cast<AccountStatus>(r.get_int(i, 2));
    c.password_hash = std::string(r.get(i, 3));
    c.credentials_version = static_cast<std::uint64_t>(r.get_int(i, 4));
    c.app_password_hashes = detail::parse_text_array(r.get(i, 5));
    return c;
  });
}

awaitable<Result<void>> PgDirectory::set_password(AccountId id, std::string password_hash,
                                                  bool must_change) {
  if (password_hash.empty()) co_return unexpected(StoreError::invalid);
  co_return one_changed(co_await run(
      *pool_, sql::kSetPassword,
      Params().num(id).text(std::move(password_hash)).boolean(must_change), "set password"));
}

awaitable<Result<void>> PgDirectory::set_status(AccountId id, AccountStatus status) {
  co_return one_changed(co_await run(*pool_, sql::kSetStatus,
                                     Params().num(id).num(static_cast<int>(status)), "set status"));
}

awaitable<Result<void>> PgDirectory::set_quota(AccountId id, std::uint64_t quota_bytes) {
  co_return one_changed(co_await run(*pool_, sql::kSetQuota,
                                     Params().num(id).num(static_cast<std::int64_t>(quota_bytes)),
                                     "set quota"));
}

awaitable<Result<void>> PgDirectory::add_alias(std::string alias, AccountId target) {
  auto address = normalise_address(std::move(alias));
  if (!address) co_return unexpected(address.error());
  auto rows =
      co_await run(*pool_, sql::kAddAlias, Params().text(*address).num(target), "add alias");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::exists);  // an account or group has it
  co_return Result<void>{};
}

awaitable<Result<Resolution>> PgDirectory::resolve(std::string address) {
  auto rows = co_await run(*pool_, sql::kResolve, Params().text(ascii_lower(address)), "resolve");
  if (!rows) co_return unexpected(rows.error());
  if (rows->size() == 0) co_return unexpected(StoreError::not_found);
  Resolution out;
  for (int i = 0; i < rows->size(); ++i) {
    auto id = rows->get_int(i, 0);
    if (out.accounts.empty() || out.accounts.back() != id) out.accounts.push_back(id);
    out.is_group = out.is_group || rows->get_bool(i, 1);
  }
  co_return out;
}

}  // namespace govmail::store
