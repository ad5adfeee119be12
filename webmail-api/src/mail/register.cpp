// Placeholder until the JMAP mail methods land (branch wip-jmapmail creates the real file; keep
// theirs at merge): no mail method is registered.
#include "jmap/method.hpp"

namespace govmail::webmail::jmap {

void register_mail_methods(MethodRegistry&) {}

}  // namespace govmail::webmail::jmap
