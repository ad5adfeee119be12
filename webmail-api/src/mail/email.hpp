// Email methods shared between files.
#pragma once
#include <cstddef>

#include "jmap/method.hpp"
#include "store/mail_store.hpp"

namespace govmail::webmail::mail {

// RFC 8620 core capability limits as the session resource announces them. TODO(jmap-core):
// read them from core::Config once the jmap section (maxObjectsInGet/Set) exists there.
inline constexpr std::size_t kMaxObjectsInGet = 500;
inline constexpr std::size_t kMaxObjectsInSet = 500;
// Email/query answers at most this many ids per call (RFC 8620 5.5 "limit" may be capped).
inline constexpr std::size_t kMaxQueryLimit = 1000;

awaitable<jmap::Json> email_get(const jmap::Json& args, jmap::RequestContext& ctx);
void register_email_query_methods(jmap::MethodRegistry& r);
awaitable<jmap::Json> email_set(const jmap::Json& args, jmap::RequestContext& ctx);
// Email/parse's view of a message that is not (necessarily) in the account: the properties of
// `args` (RFC 8621 4.9 defaults), from the parse of `raw`.
jmap::Json email_view(const store::EmailRecord& r, const std::string& raw, const jmap::Json& args);

}  // namespace govmail::webmail::mail
