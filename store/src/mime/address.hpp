// Message ids, and the address-list parser (store/address.hpp) under the names the MIME code
// uses.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "store/address.hpp"

namespace govmail::store::mime {

using store::Address;
using store::parse_address_list;

// Message ids ("<a@b> <c@d>") without angle brackets, in order, at most max.
std::vector<std::string> parse_msg_ids(std::string_view value, std::size_t max);

}  // namespace govmail::store::mime
