// Blobs the mail methods read (Email/import, Email/parse, attachments of Email/set create) and
// that /jmap/download serves: "B<message>" is a whole stored message, "B<message>_<section>" one
// part of it (transfer-decoded). Other ids are uploads, read through jmap core's upload store.
#pragma once
#include <optional>
#include <string>

#include "jmap/method.hpp"

namespace govmail::webmail::mail {

// The blob's bytes when the account may read it, nullopt otherwise (unknown and not permitted
// alike).
awaitable<std::optional<std::string>> read_blob(jmap::RequestContext& ctx, std::string blob_id);

}  // namespace govmail::webmail::mail
