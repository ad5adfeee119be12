// The one error type of the store. Each front end maps it to its protocol in exactly one place
// (SMTP enhanced codes, IMAP response codes, JMAP error types, HTTP status).
#pragma once
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace govmail::store {

enum class StoreError {
  temporary,    // retry may succeed (serialization failure, deadlock, pool exhausted)
  unavailable,  // the database cannot be reached
  permanent,    // internal or unexpected error: details are in the log
  not_found,    // no such object for this account (also used for "not permitted": no leak)
  exists,       // unique name already taken
  limit,        // a configured limit was reached (mailbox count, recipients...)
  too_big,      // a message or object over its size limit
  over_quota,   // the account's quota would be exceeded
  conflict,     // a precondition failed (UNCHANGEDSINCE, state mismatch)
  invalid,      // bad argument (malformed name, bad flag)
};

std::string_view to_string(StoreError e);

template <class T>
using Result = govmail::Result<T, StoreError>;
using govmail::unexpected;

}  // namespace govmail::store
