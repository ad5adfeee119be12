// Raw header values for the checks that read a message before (or instead of) parsing it:
// SMTP's sender checks, auto-replies (store/auto_reply.hpp). Sans-I/O, bounded by the header
// block.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace govmail::store {

// Unfolded, trimmed raw values of every `field` header of the message's header block, in order.
// Every line the MIME scanner reads as such a field is among them (a malformed line, which ends
// the scanner's header block, does not end it here: reading more is the safe side for checks).
std::vector<std::string> header_values(std::string_view message, std::string_view field);

// "mailbox@host" of every mailbox (group members included; "Name <>" left out) of every `field`
// header. Empty if there is none.
std::vector<std::string> header_addresses(std::string_view message, std::string_view field);

}  // namespace govmail::store
