#include "webmail/jmap.hpp"

#include "jmap/method.hpp"

namespace govmail::webmail {

// Filled in by the JMAP core work: session resource, API endpoint, upload/download, push, login.
void register_jmap(core::Router&, JmapDeps) {}

}  // namespace govmail::webmail
