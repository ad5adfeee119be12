// argon2id password hashes through libsodium (crypto_pwhash_str*), and random passwords.
#include <sodium.h>

#include <mutex>
#include <new>
#include <stdexcept>

#include "core/auth.hpp"
#include "sodium_init.hpp"

namespace govmail::core {

void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium initialisation failed");
  });
}

std::string hash_password(std::string_view password, std::uint64_t opslimit,
                          std::uint64_t memlimit) {
  ensure_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), opslimit,
                        static_cast<std::size_t>(memlimit)) != 0)
    throw std::bad_alloc();  // the only documented failure: the memory limit could not be met
  return out;
}

bool verify_password_hash(std::string_view hash, std::string_view password) {
  ensure_sodium();
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  const std::string terminated(hash);  // libsodium wants a NUL-terminated string
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

bool password_needs_rehash(std::string_view hash, std::uint64_t opslimit, std::uint64_t memlimit) {
  ensure_sodium();
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return true;
  const std::string terminated(hash);
  return crypto_pwhash_str_needs_rehash(terminated.c_str(), opslimit,
                                        static_cast<std::size_t>(memlimit)) != 0;
}

std::string random_password(std::size_t length) {
  ensure_sodium();
  // No 0/O/o, 1/l/I/i: passwords are read aloud and typed from paper.
  static constexpr std::string_view alphabet =
      "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789";
  std::string out(length, ' ');
  for (char& c : out)
    c = alphabet[randombytes_uniform(static_cast<std::uint32_t>(alphabet.size()))];
  return out;
}

}  // namespace govmail::core
