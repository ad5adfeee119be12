// Shared plumbing of the store's SQL: owned parameters, PostgreSQL arrays, the one SQLSTATE ->
// StoreError mapping, and "run one statement on a pooled connection".
#pragma once
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "pg/pg.hpp"
#include "store/error.hpp"
#include "store/types.hpp"

namespace govmail::store::detail {

// Query parameters that own their text (views into caller data only through bytes()/view()).
class Params {
 public:
  Params& num(std::int64_t v);
  Params& boolean(bool v);
  Params& text(std::string v);
  Params& view(std::string_view v);    // the caller keeps v alive until the query is done
  Params& bytes(std::string_view v);   // binary bytea; the caller keeps v alive
  Params& owned_bytes(std::string v);  // binary bytea, kept here
  Params& null();
  Params& opt_num(std::optional<std::int64_t> v);
  Params& num_array(const std::vector<std::int64_t>& v);
  Params& opt_num_array(const std::vector<std::optional<std::int64_t>>& v);
  Params& text_array(const std::vector<std::string>& v);
  std::span<const pg::Param> span() const { return params_; }

 private:
  std::deque<std::string> owned_;  // deque: stable addresses for the views in params_
  std::vector<pg::Param> params_;
};

// PostgreSQL array literal of text elements, every element quoted.
std::string text_array_literal(const std::vector<std::string>& v);
// Parses the text form of a one-dimensional text[] ("{a,\"b c\"}"); NULL elements are skipped.
std::vector<std::string> parse_text_array(std::string_view s);

// The one mapping from a libpq/PostgreSQL error to StoreError. Unexpected errors are logged
// with the operation and SQLSTATE (never message content).
StoreError map_error(const pg::PgError& e, std::string_view operation);

// Runs one statement in its own (implicit) transaction on a pooled connection; retries it on
// serialization failure or deadlock, which roll the whole statement back.
awaitable<Result<pg::Rows>> run(pg::Pool& pool, const pg::Statement& st, const Params& params,
                                std::string_view operation);

// Sorted, merged, non-empty ranges as the (first[], last[]) arrays the SQL functions take.
struct RangeArrays {
  std::vector<std::int64_t> first, last;
};
RangeArrays normalise(const UidSet& uids);

// Keywords: validated IMAP atoms, sorted case-insensitively, unique. invalid for a bad one.
Result<std::vector<std::string>> normalise_keywords(std::vector<std::string> keywords);

// Reads an entry from columns uid, modseq, flags, keywords, message_id, size, internal_date,
// thread_id starting at `col`.
MailboxEntry parse_entry(const pg::Rows& rows, int row, int col = 0);

// Reads an account from the columns every account query selects: id, domain_id, address,
// display_name, status, quota_bytes, used_bytes, used_messages, must_change_password,
// unit_code, position.
Account parse_account(const pg::Rows& r, int i);

}  // namespace govmail::store::detail
