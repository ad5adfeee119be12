// /changes of the account's change log (RFC 8620 5.2), shared by Mailbox, Email and Thread.
#pragma once
#include <functional>
#include <optional>
#include <vector>

#include "mail/common.hpp"

namespace govmail::webmail::mail {

struct ChangeWindow {
  store::ModSeq since = 0;
  std::vector<store::ChangeRecord> records;  // whole modseq groups, in order
  std::string new_state;
  bool has_more = false;
};

// Reads sinceState/maxChanges and the change log after sinceState, keeping whole modseq groups
// while the ids `key` gives them (0 = not this type's) stay within maxChanges. Throws
// cannotCalculateChanges for a state this account never had.
awaitable<ChangeWindow> read_changes(const Json& args, RequestContext& ctx,
                                     std::function<std::int64_t(const store::ChangeRecord&)> key);

// The Email a change record is about (added, flags or mailboxes changed, expunged); 0 if none.
std::int64_t email_change_key(const store::ChangeRecord& r);

// /queryChanges (RFC 8620 5.6) from the change log: every object `key` names in the changes since
// sinceQueryState is "removed" (5.6 allows ids the client never had), and those of them among
// `results` (the query's ids now, in order, read after the changes) are "added" at their index.
// Reads sinceQueryState, maxChanges (tooManyChanges), upToId (nothing added past it: the client
// holds nothing there) and calculateTotal; `prefix` makes ids ('E', 'M').
awaitable<Json> query_changes(const Json& args, RequestContext& ctx, char prefix,
                              std::function<std::int64_t(const store::ChangeRecord&)> key,
                              std::function<awaitable<std::vector<std::int64_t>>()> results);

Json changes_response(const RequestContext& ctx, const ChangeWindow& w, const Json& created,
                      const Json& updated, const Json& destroyed);

}  // namespace govmail::webmail::mail
