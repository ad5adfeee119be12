// What every JMAP mail method shares: ids, states, keywords <-> IMAP flags, argument checks and
// the one mapping of store errors to JMAP errors.
//
// Ids are opaque strings with a type letter: Mailbox "M<mailboxes.id>", Email "E<messages.id>"
// (one per message of the account, whatever mailboxes hold it), Thread "T<thread_id>", blob of
// a whole message "B<messages.id>", blob of a part "B<messages.id>_<IMAP section>", Identity
// "I<account id>", EmailSubmission "S<id>". State strings (Mailbox, Email, Thread) are the
// account's MODSEQ in decimal: every change through IMAP, POP3, SMTP or JMAP moves it.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jmap/method.hpp"
#include "store/error.hpp"
#include "store/types.hpp"

namespace govmail::webmail::mail {

using jmap::Json;
using jmap::MethodError;
using jmap::RequestContext;

std::string id_string(char type, std::int64_t id);
// nullopt unless `s` is type letter + decimal id.
std::optional<std::int64_t> parse_id(char type, std::string_view s);

// Throws the JMAP error for a store failure (not_found -> notFound is left to callers).
[[noreturn]] void throw_store(store::StoreError e);
template <class T>
T ok_or_throw(store::Result<T> r) {
  if (!r) throw_store(r.error());
  return std::move(*r);
}
inline void ok_or_throw(store::Result<void> r) {
  if (!r) throw_store(r.error());
}

// accountId must be the authenticated account's (accountNotFound otherwise).
void check_account(const Json& args, const RequestContext& ctx);
std::string state_string(store::ModSeq m);
awaitable<std::string> current_state(RequestContext& ctx);
// The state for a method that only reads: RequestContext::read_state, read once a request.
awaitable<std::string> state_for_read(RequestContext& ctx);
// Parses a state string; nullopt when malformed.
std::optional<store::ModSeq> parse_state(const Json& v);

// IMAP flags <-> JMAP keywords: \Seen $seen, \Answered $answered, \Flagged $flagged, \Draft
// $draft, \Deleted $deleted; other keywords lower-cased (JMAP keywords are case-insensitive).
Json keywords_json(const store::Flags& f);
// invalidProperties-style error text when a keyword is not a valid IMAP atom.
std::optional<store::Flags> keywords_to_flags(const Json& keywords);
bool valid_keyword(std::string_view k);
store::Flags keyword_flag(const std::string& k);  // one keyword as flags

// The "ids" argument: null -> nullopt (all), else a list of strings (invalidArguments otherwise).
std::optional<std::vector<std::string>> ids_argument(const Json& args);
// The "properties" argument checked against `known`; `defaults` when null/absent.
std::vector<std::string> properties_argument(const Json& args,
                                             const std::vector<std::string>& known,
                                             const std::vector<std::string>& defaults);

// "#creation" references resolved through ctx.created_ids.
std::string resolve_creation(const RequestContext& ctx, const std::string& id);

// RFC 3339 "2024-01-02T03:04:05Z"; with `offset_minutes` as "+07:00".
std::string utc_date(store::UnixTime t);
std::optional<store::UnixTime> parse_utc_date(const std::string& s);

// An object argument (an empty object when absent or null; invalidArguments otherwise). Returned
// by value: iterate the copy, never .items() of a temporary.
Json object_arg(const Json& args, const char* name);
// A non-negative integer argument; nullopt when absent or null.
std::optional<std::uint64_t> uint_arg(const Json& args, const char* name);

Json set_error(std::string_view type, std::string_view description = {});

// The JMAP id of an identity the user added ("IX" + its id); the account's own one is
// id_string('I', account id) (identity.cpp).
std::string extra_identity_id(std::int64_t id);

}  // namespace govmail::webmail::mail
