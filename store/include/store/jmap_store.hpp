// What JMAP core keeps in the database (migration 0015): login tokens, stored hashed and valid
// on every govmail process, and uploaded blobs with an expiry. The mail data itself is the
// MailboxStore's.
#pragma once
#include <cstdint>
#include <string>

#include "core/awaitable_fwd.hpp"
#include "store/error.hpp"
#include "store/types.hpp"

namespace govmail::store {

struct WebSession {
  AccountId account_id = 0;
  std::string address;
  std::string csrf_sha256_hex;            // hex SHA-256 of the session's CSRF token
  std::uint64_t credentials_version = 0;  // the account's, which the session was opened with
};

struct StoredBlob {
  std::string data;
  std::string type;
};

class JmapStore {
 public:
  virtual ~JmapStore() = default;

  // token_sha256, csrf_sha256: 32 raw bytes. The token remembers the account's current
  // credentials_version: any later credentials change ends it.
  virtual awaitable<Result<void>> create_session(AccountId account, std::string token_sha256,
                                                 std::string csrf_sha256,
                                                 std::int64_t lifetime_seconds) = 0;
  // The live session of the token (not expired, used within idle_seconds, account active and
  // its credentials unchanged); marks it used. not_found otherwise.
  virtual awaitable<Result<WebSession>> find_session(std::string token_sha256,
                                                     std::int64_t idle_seconds) = 0;
  virtual awaitable<Result<void>> delete_session(std::string token_sha256) = 0;

  // Stores (or keeps, extending its expiry) an upload of the account.
  virtual awaitable<Result<void>> put_upload(AccountId account, std::string sha256,
                                             std::string type, std::string data,
                                             std::int64_t ttl_seconds) = 0;
  // The bytes with this SHA-256 that the account may read: an unexpired upload of its own, or
  // the raw bytes of a message in one of its mailboxes. not_found otherwise.
  virtual awaitable<Result<StoredBlob>> read_blob(AccountId account, std::string sha256) = 0;

  // Deletes expired sessions and uploads; how many rows went.
  virtual awaitable<Result<std::int64_t>> sweep() = 0;

  // The account's modseq counter: the JMAP state of Email, Mailbox and Thread.
  virtual awaitable<Result<ModSeq>> account_modseq(AccountId account) = 0;
};

}  // namespace govmail::store
