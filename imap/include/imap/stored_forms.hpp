// The IMAP renderings the store keeps per message (message_imap_forms): made at ingest with this
// renderer (DatabaseOptions::ingest_forms), so that a FETCH of ENVELOPE, BODYSTRUCTURE or header
// fields reads them instead of parsing JSON or cutting header blocks out of the blobs.
#pragma once
#include <memory>

#include "store/types.hpp"

namespace govmail::imap {

class MessageCache;

// The plain (not UTF8=ACCEPT) ENVELOPE and BODYSTRUCTURE of a message and its header block
// (when at most 64 KiB), of the version FETCH reads. With `cache`, each message's renderings
// also go there once stored, so that no session's first listing of new mail reads them back.
store::IngestForms ingest_forms(std::shared_ptr<MessageCache> cache = nullptr);

// A message cache (off until Backend's service gives it a size), to share between the store's
// ingest (ingest_forms) and the IMAP backend (make_store_backend) of one process.
std::shared_ptr<MessageCache> make_message_cache();

}  // namespace govmail::imap
