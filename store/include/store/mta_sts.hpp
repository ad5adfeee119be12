// The MTA-STS policy cache (RFC 8461 3.3, migration 0012): the last policy fetched for each
// recipient domain with the id of the TXT record it was fetched under. Shared by every govmail
// process on the database and kept across restarts, so that a policy seen once keeps
// protecting delivery while a later fetch is blocked or fails, until its max_age runs out.
#pragma once
#include <cstdint>
#include <string>

#include "core/awaitable_fwd.hpp"
#include "store/error.hpp"

namespace govmail::store {

struct MtaStsEntry {
  std::string domain;           // lower-case recipient domain
  std::string policy_id;        // id= of the _mta-sts TXT record the policy was fetched under
  std::string policy;           // the policy body as served (parsed again when read)
  std::int64_t fetched_at = 0;  // unix seconds
  std::int64_t expires_at = 0;  // fetched_at + max_age
};

class MtaStsCache {
 public:
  virtual ~MtaStsCache() = default;
  // The entry of a domain, expired or not; not_found when there is none.
  virtual awaitable<Result<MtaStsEntry>> get(std::string domain) = 0;
  // Inserts or replaces the domain's entry.
  virtual awaitable<Result<void>> put(MtaStsEntry entry) = 0;
  // Deletes entries expired more than `grace_seconds` ago; how many.
  virtual awaitable<Result<int>> prune(std::int64_t grace_seconds) = 0;
};

}  // namespace govmail::store
