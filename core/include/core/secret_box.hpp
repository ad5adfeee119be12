// Small secrets kept in the database sealed under a master key that lives in a file outside it
// (DKIM private keys): whoever can read the database but not the file learns nothing, and a
// sealed value moved to another row (other associated data) does not open. XChaCha20-Poly1305
// (libsodium crypto_aead_xchacha20poly1305_ietf) with a random 192-bit nonce per value.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace govmail::core {

class SecretBox {
 public:
  static constexpr std::size_t kKeyBytes = 32;

  // Reads a master key file: 64 hexadecimal characters (surrounding whitespace allowed), not
  // readable or writable by others. Errors name the file and what is wrong, never the key.
  static Result<std::shared_ptr<const SecretBox>, std::string> load(
      const std::filesystem::path& file);
  // Writes a new random key to `file` (mode 0600; refused if the file exists).
  static Result<void, std::string> create(const std::filesystem::path& file);
  // A key given in memory (tests).
  static std::shared_ptr<const SecretBox> from_key(const std::array<std::uint8_t, kKeyBytes>& key);

  // "sealed1:" + base64(nonce || ciphertext || tag): printable, fits a text column.
  std::string seal(std::string_view plaintext, std::string_view associated) const;
  // The plaintext, or an error when the value was sealed under another key, with other
  // associated data, or was altered.
  Result<std::string, std::string> open(std::string_view sealed, std::string_view associated) const;
  // Whether a stored value is in the sealed form (else it predates sealing).
  static bool is_sealed(std::string_view stored);

  explicit SecretBox(const std::array<std::uint8_t, kKeyBytes>& key);
  ~SecretBox();
  SecretBox(const SecretBox&) = delete;
  SecretBox& operator=(const SecretBox&) = delete;

 private:
  std::array<std::uint8_t, kKeyBytes> key_;
};

}  // namespace govmail::core
