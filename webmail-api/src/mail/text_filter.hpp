// Email/query's text conditions (text, body, subject, from, to, cc, bcc; RFC 8621 4.4.1) as
// IMAP SEARCH answers them (docs/SEARCH.md): the search index gives candidates (every message
// still queued among them, so a message not yet indexed is found too), then each candidate is
// verified on its stored text with core's matcher: case-insensitive substrings, and a string
// without marks also matches the text with its marks dropped ("cong van" finds "Công văn").
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "mail/common.hpp"
#include "store/mail_store.hpp"

namespace govmail::webmail::mail {

// Replaces the text conditions of every node of `filter` by the set of messages that match them
// (EmailFilter::message_ids), so that the store applies them with the other conditions.
// Throws MethodError (unsupportedFilter past search.max_query_terms / max_query_bytes).
awaitable<void> resolve_text_conditions(store::EmailFilter& filter, RequestContext& ctx);

// The body texts (store::ParsedMessage::search_text) of the account's messages among `ids`:
// from the index (or its queue), else parsed from the stored message.
awaitable<std::map<store::MessageId, std::string>> body_texts(std::vector<store::MessageId> ids,
                                                              RequestContext& ctx);

}  // namespace govmail::webmail::mail
