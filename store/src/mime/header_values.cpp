#include "scanner.hpp"
#include "store/address.hpp"
#include "store/header_fields.hpp"

namespace govmail::store {
namespace {

// Only SP and HTAB, as the MIME scanner trims (scanner.cpp): the checks must read the very value
// ENVELOPE and clients get.
std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::vector<std::string> header_values(std::string_view message, std::string_view field) {
  std::vector<std::string> out;
  std::string value;  // unfolded value of the current matching field
  bool matching = false;
  auto finish = [&] {
    if (matching) out.push_back(trim(value));
    matching = false;
    value.clear();
  };
  std::size_t pos = 0;
  while (pos < message.size()) {
    auto lf = message.find('\n', pos);
    auto line = message.substr(pos, lf == std::string_view::npos ? message.size() - pos : lf - pos);
    pos = lf == std::string_view::npos ? message.size() : lf + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header block
    if (line.front() == ' ' || line.front() == '\t') {
      if (matching) value.append(line);
      continue;
    }
    finish();
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (mime::iequals(name, field)) {
      matching = true;
      value.assign(line.substr(colon + 1));
    }
  }
  finish();
  return out;
}

std::vector<std::string> header_addresses(std::string_view message, std::string_view field) {
  std::vector<std::string> out;
  for (const auto& v : header_values(message, field))
    for (const Address& a : parse_address_list(v).items)
      if (a.host && !(a.mailbox->empty() && a.host->empty())) out.push_back(addr_spec(a));
  return out;
}

}  // namespace govmail::store
