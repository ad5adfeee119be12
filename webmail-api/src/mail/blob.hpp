// Blobs of the mail methods. A whole message is JMAP core's "G<sha256 hex>" (its content, as an
// upload of the same bytes); one part of a message is "B<messages.id>_<IMAP section>", resolved
// here (transfer-decoded bytes) through MethodRegistry::set_blob_resolver, so /jmap/download and
// Email/import, Email/parse and attachments of Email/set all read the same blobs.
#pragma once
#include <optional>
#include <string>

#include "jmap/method.hpp"

namespace govmail::webmail::mail {

// The bytes of any blob the account may read; nullopt otherwise (unknown and not permitted
// alike).
awaitable<std::optional<std::string>> read_blob(jmap::RequestContext& ctx, std::string blob_id);

// The registry's blob resolver: part blobs "B<message>_<section>"; other ids go to
// jmap::read_stored_blob.
awaitable<std::optional<jmap::BlobContent>> resolve_part_blob(const std::string& blob_id,
                                                               jmap::RequestContext& ctx);

std::string message_blob_id(const std::string& sha256_hex);
std::string part_blob_id(store::MessageId message, const std::string& section);

}  // namespace govmail::webmail::mail
