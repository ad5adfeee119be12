// The address book every user may look up (the webmail's recipient completion, JMAP
// Directory/query): active accounts and the groups, each with its display name.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "store/database.hpp"
#include "store/error.hpp"

namespace govmail::store {

struct AddressBookEntry {
  std::string address;
  std::string name;
  bool group = false;
};

// Active accounts in address order, then groups; at most `limit` entries.
awaitable<Result<std::vector<AddressBookEntry>>> address_book(Database& db, std::size_t limit);

}  // namespace govmail::store
