// Background threads (the search and archive indexers) run at a lower CPU priority, so that on
// a busy machine IMAP, SMTP and JMAP go first and indexing waits.
#pragma once

namespace govmail::core {

// nice 10 for the calling thread only (Linux schedules threads, so the rest of the process keeps
// its priority); once per thread, a failure only logged.
void lower_this_thread_priority();

}  // namespace govmail::core
