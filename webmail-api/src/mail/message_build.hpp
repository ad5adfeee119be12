// An RFC 5322 message from the properties of an Email/set create (RFC 8621 4.6): headers with
// RFC 2047 encoded words for non-ASCII text, bodies in UTF-8 base64, attachments as parts.
// Pure, no I/O: attachment bytes are handed in.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base64.hpp"

namespace govmail::webmail::mail {

struct BuildPart {
  std::string type;         // "text/plain", "application/pdf"
  std::string name;         // file name (attachments), may be empty
  std::string disposition;  // "attachment", "inline" or empty
  std::string cid;
  std::string data;  // decoded bytes (UTF-8 for text)
};

struct BuildInput {
  std::vector<std::pair<std::string, std::string>> headers;  // name, already-encoded value
  std::vector<BuildPart> text, html, attachments;
};

// Base64 bodies and RFC 2047 words: core's (SMTP auto-replies build mail with them too).
using core::base64_encode;
using core::encode_words;
// An address list from JMAP EmailAddress objects; throws std::invalid_argument when malformed.
std::string address_list(const nlohmann::json& list);
std::string build_message(const BuildInput& in, const std::string& boundary_seed);

// `raw` without its Bcc header fields (RFC 8621 7.5: removed before sending).
std::string without_bcc(const std::string& raw);

}  // namespace govmail::webmail::mail
