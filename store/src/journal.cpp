#include "store/journal.hpp"

#include "core/hex.hpp"

#include <string>

namespace govmail::store {
namespace {

// "5:hello": the SQL govmail_lp.
void lp(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

}  // namespace

std::string journal_content_canon(const JournalContent& c) {
  std::string out = "GMJ2";
  out.reserve(256 + c.subject.size());
  lp(out, c.direction);
  lp(out, c.envelope_from);
  const std::size_t n = c.recipients ? c.recipients->size() : 0;
  lp(out, std::to_string(n));
  for (std::size_t i = 0; i < n; ++i) lp(out, (*c.recipients)[i]);
  lp(out, c.auth_user);
  lp(out, c.client_ip);
  lp(out, core::to_hex(c.blob_sha256));
  lp(out, std::to_string(c.size));
  lp(out, c.subject);
  lp(out, c.from_address);
  lp(out, c.message_id_hdr);
  return out;
}

}  // namespace govmail::store
