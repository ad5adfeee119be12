// Password verification shared by every protocol: argon2id on a bounded worker pool (never on an
// io thread), a verified-credentials cache, and failure counting per source network (AuthConfig).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "core/config.hpp"
#include "core/result.hpp"

namespace govmail::core {

// argon2id crypt string (libsodium crypto_pwhash_str) with the configured cost. Blocking: call
// from a worker, a CLI, or through AuthService::hash.
std::string hash_password(std::string_view password, std::uint64_t opslimit,
                          std::uint64_t memlimit);
bool verify_password_hash(std::string_view hash, std::string_view password);
// True when the hash was made with another cost (or is not argon2id): re-hash at next login.
bool password_needs_rehash(std::string_view hash, std::uint64_t opslimit, std::uint64_t memlimit);
// A strong random password for new accounts (letters and digits, no look-alikes).
std::string random_password(std::size_t length = 16);

// What AuthService needs from the account store; store::Directory adapts to it in app/.
struct StoredCredentials {
  std::int64_t account_id = 0;
  std::string address;
  bool active = false;
  std::string password_hash;
  std::vector<std::string> app_password_hashes;
  std::uint64_t credentials_version = 0;  // accounts.credentials_version (session revocation)
};
using CredentialLookup =
    std::function<awaitable<std::optional<StoredCredentials>>(std::string address)>;

enum class AuthOutcome {
  ok,
  bad_credentials,  // unknown user, wrong password, or inactive account (same answer for all)
  // Too many failures from this network (for any address or for this one): refused before any
  // password check. Or the address-wide lock-out, for a network that has not logged in to this
  // address lately and a password that is not an app password. Try later.
  locked_out,
  temporary,  // store unavailable or hash pool saturated
};

struct AuthResult {
  AuthOutcome outcome = AuthOutcome::bad_credentials;
  std::int64_t account_id = 0;
  std::string address;                  // canonical address on success
  std::chrono::seconds retry_after{0};  // with locked_out
  bool from_cache = false;
  // The password given was one of the account's app passwords (mail clients only: they must not
  // change the password or open an admin session).
  bool app_password = false;
  std::uint64_t credentials_version = 0;  // of the credentials the password was checked against
};

// How long a cached verification may stand without reading the stored credentials again.
enum class Freshness {
  // Within auth.cache_recheck of the last read: for a password sent with every request (HTTP
  // Basic), where a password changed through another process may be seen up to that late.
  recent,
  // Always read them (one indexed query, still no hash while they are unchanged): for a login
  // that opens a session, a token or a password change, so that an old password is refused at
  // once whichever process changed it.
  current,
};

class AuthService {
 public:
  AuthService(Executor io, const AuthConfig& cfg, CredentialLookup lookup);
  ~AuthService();

  awaitable<AuthResult> verify(std::string address, std::string password, std::string remote_ip,
                               Freshness freshness = Freshness::current);
  // Hashes on the worker pool (for password changes made over a protocol or the admin API).
  awaitable<std::string> hash(std::string password);

  // Drops cached verifications of this account (password or status changed).
  void flush_account(std::int64_t account_id);
  void flush_all();

  std::size_t cache_size() const;

  // Tests: replaces the steady clock used for TTLs, failure windows and lock-outs.
  void set_clock(std::function<std::chrono::steady_clock::time_point()> now);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace govmail::core
