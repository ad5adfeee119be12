// The IMAP renderings the store keeps per message (message_imap_forms): made at ingest with this
// renderer (DatabaseOptions::ingest_forms), so that a FETCH of ENVELOPE, BODYSTRUCTURE or header
// fields reads them instead of parsing JSON or cutting header blocks out of the blobs.
#pragma once
#include "store/types.hpp"

namespace govmail::imap {

// The plain (not UTF8=ACCEPT) ENVELOPE and BODYSTRUCTURE of a message and its header block
// (when at most 64 KiB), of the version FETCH reads.
store::IngestForms ingest_forms();

}  // namespace govmail::imap
