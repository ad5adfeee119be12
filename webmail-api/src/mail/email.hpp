// Email methods shared between files.
#pragma once
#include <cstddef>

#include "jmap/method.hpp"
#include "store/mail_store.hpp"

namespace govmail::webmail::mail {

// RFC 8620 core capability limits ([jmap] max_objects_in_get / max_objects_in_set).
std::size_t max_objects_in_get(const jmap::RequestContext& ctx);
std::size_t max_objects_in_set(const jmap::RequestContext& ctx);
// Email/query answers at most this many ids per call (RFC 8620 5.5 "limit" may be capped).
inline constexpr std::size_t kMaxQueryLimit = 1000;

awaitable<jmap::Json> email_get(const jmap::Json& args, jmap::RequestContext& ctx);
void register_email_query_methods(jmap::MethodRegistry& r);
awaitable<jmap::Json> email_set(const jmap::Json& args, jmap::RequestContext& ctx);
// Email/parse's view of a message that is not (necessarily) in the account: the properties of
// `args` (RFC 8621 4.9 defaults), from the parse of `raw`.
jmap::Json email_view(const store::EmailRecord& r, const std::string& raw, const jmap::Json& args);

}  // namespace govmail::webmail::mail
