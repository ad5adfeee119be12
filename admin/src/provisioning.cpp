#include "admin/provisioning.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>

#include "store/admin_audited.hpp"

namespace govmail::admin {
namespace {

std::string store_error_text(store::StoreError e, std::string_view what) {
  switch (e) {
    case store::StoreError::exists:
      return std::string(what) + " already exists";
    case store::StoreError::not_found:
      return std::string(what) + " not found";
    case store::StoreError::unavailable:
      return "the database is unavailable";
    default:
      return std::string(what) + ": " + std::string(store::to_string(e));
  }
}

}  // namespace

bool valid_domain_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t labels = 0, start = 0;
  while (start <= name.size()) {
    auto end = name.find('.', start);
    if (end == std::string_view::npos) end = name.size();
    auto label = name.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label)
      if (!(std::islower(static_cast<unsigned char>(c)) ||
            std::isdigit(static_cast<unsigned char>(c)) || c == '-'))
        return false;
    ++labels;
    start = end + 1;
  }
  return labels >= 2;
}

bool valid_local_part(std::string_view local) {
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos)
    return false;
  return std::all_of(local.begin(), local.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
           c == '+';
  });
}

bool reserved_local_part(std::string_view local) {
  static constexpr std::string_view kReserved[] = {
      "postmaster",   "abuse",     "hostmaster", "webmaster", "security",     "noc",
      "info",         "marketing", "sales",      "support",   "usenet",       "news",
      "www",          "uucp",      "ftp",        "root",      "admin",        "administrator",
      "mailerdaemon", "noreply",   "donotreply", "dmarc",     "dmarcreports", "tlsrpt"};
  std::string key;
  for (char c : local.substr(0, local.find('+')))
    if (c != '.' && c != '-' && c != '_')
      key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::find(std::begin(kReserved), std::end(kReserved), key) != std::end(kReserved);
}

std::string normalise_address(std::string_view address) {
  auto b = address.find_first_not_of(" \t\r\n");
  auto e = address.find_last_not_of(" \t\r\n");
  std::string out = b == std::string_view::npos ? "" : std::string(address.substr(b, e - b + 1));
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

AdminResult<std::string> Provisioning::checked_domain(std::string name) const {
  name = normalise_address(name);
  if (!valid_domain_name(name))
    return unexpected(AdminError{"invalid domain name '" + name +
                                 "': expected lower-case labels of letters, digits and '-'"});
  return name;
}

awaitable<AdminResult<store::Domain>> Provisioning::add_domain(std::string name) {
  auto checked = checked_domain(std::move(name));
  if (!checked) co_return unexpected(checked.error());
  auto r = co_await dir_.add_domain(*checked);
  if (!r) co_return unexpected(AdminError{store_error_text(r.error(), "domain " + *checked)});
  co_return *r;
}

awaitable<AdminResult<store::Domain>> Provisioning::add_domain(std::string name, Audit audit) {
  auto checked = checked_domain(std::move(name));
  if (!checked) co_return unexpected(checked.error());
  auto r = co_await store::audited::add_domain(audit.db, *checked, std::move(audit.entry));
  if (!r)
    co_return unexpected(AdminError{store_error_text(r.error(), "domain " + *checked), r.error()});
  co_return *r;
}

awaitable<AdminResult<store::NewAccount>> Provisioning::checked_account(NewAccountRequest req) {
  std::string address = normalise_address(req.address);
  auto at = address.rfind('@');
  if (at == std::string::npos || !valid_local_part(address.substr(0, at)) ||
      !valid_domain_name(address.substr(at + 1)))
    co_return unexpected(AdminError{"invalid address '" + address +
                                    "': expected local@domain with an ASCII local part"});
  if (req.password.size() < 8)
    co_return unexpected(AdminError{"password too short: at least 8 characters"});
  if (req.display_name.empty()) co_return unexpected(AdminError{"the full name is empty"});
  auto domain = co_await dir_.find_domain(address.substr(at + 1));
  if (!domain)
    co_return unexpected(
        AdminError{store_error_text(domain.error(), "domain " + address.substr(at + 1))});
  store::NewAccount acc;
  acc.address = address;
  acc.display_name = std::move(req.display_name);
  acc.password_hash = co_await hash_(std::move(req.password));
  acc.quota_bytes = req.quota_bytes;
  acc.must_change_password = req.must_change_password;
  acc.unit_code = std::move(req.unit_code);
  acc.position = std::move(req.position);
  co_return acc;
}

awaitable<AdminResult<store::Account>> Provisioning::add_account(NewAccountRequest req) {
  auto acc = co_await checked_account(std::move(req));
  if (!acc) co_return unexpected(acc.error());
  std::string address = acc->address;
  auto r = co_await dir_.add_account(std::move(*acc));
  if (!r) co_return unexpected(AdminError{store_error_text(r.error(), "account " + address)});
  co_return *r;
}

awaitable<AdminResult<store::Account>> Provisioning::add_account(NewAccountRequest req,
                                                                 Audit audit) {
  auto acc = co_await checked_account(std::move(req));
  if (!acc) co_return unexpected(acc.error());
  std::string address = acc->address;
  auto r = co_await store::audited::add_account(audit.db, std::move(*acc), std::move(audit.entry));
  if (!r)
    co_return unexpected(AdminError{store_error_text(r.error(), "account " + address), r.error()});
  co_return *r;
}

awaitable<AdminResult<void>> Provisioning::reset_password(store::AccountId id, std::string password,
                                                          bool must_change) {
  if (password.size() < 8)
    co_return unexpected(AdminError{"password too short: at least 8 characters"});
  auto hash = co_await hash_(std::move(password));
  auto r = co_await dir_.set_password(id, std::move(hash), must_change);
  if (!r) co_return unexpected(AdminError{store_error_text(r.error(), "account")});
  co_return AdminResult<void>{};
}

awaitable<AdminResult<void>> Provisioning::reset_password(store::AccountId id, std::string password,
                                                          bool must_change, Audit audit) {
  if (password.size() < 8)
    co_return unexpected(AdminError{"password too short: at least 8 characters"});
  auto hash = co_await hash_(std::move(password));
  auto r = co_await store::audited::set_password(audit.db, id, std::move(hash), must_change,
                                                 std::move(audit.entry));
  if (!r) co_return unexpected(AdminError{store_error_text(r.error(), "account"), r.error()});
  co_return AdminResult<void>{};
}

}  // namespace govmail::admin
