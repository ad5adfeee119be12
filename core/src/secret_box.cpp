// Sealing with libsodium's XChaCha20-Poly1305 (IETF): the 24-byte nonce is random, so values
// sealed under one key never share a nonce in practice (2^96 values before a 2^-32 chance).
#include "core/secret_box.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "sodium_init.hpp"

namespace govmail::core {
namespace {

constexpr std::string_view kPrefix = "sealed1:";
constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr int kB64 = sodium_base64_VARIANT_ORIGINAL;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

}  // namespace

SecretBox::SecretBox(const std::array<std::uint8_t, kKeyBytes>& key) : key_(key) {
  ensure_sodium();
}

SecretBox::~SecretBox() {
  sodium_memzero(key_.data(), key_.size());
}

std::shared_ptr<const SecretBox> SecretBox::from_key(
    const std::array<std::uint8_t, kKeyBytes>& key) {
  return std::make_shared<const SecretBox>(key);
}

Result<std::shared_ptr<const SecretBox>, std::string> SecretBox::load(
    const std::filesystem::path& file) {
  const std::string name = file.string();
  struct stat st {};
  if (::stat(name.c_str(), &st) != 0)
    return unexpected("master key file " + name + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return unexpected("master key file " + name + " is not a file");
  if (st.st_mode & (S_IROTH | S_IWOTH))
    return unexpected("master key file " + name +
                      " is readable or writable by other users: chmod o-rw " + name);
  std::ifstream in(file, std::ios::binary);
  std::string text;
  char buf[256];
  while (in && text.size() <= 1024) {  // a key file is 64 characters: read no more than this
    in.read(buf, sizeof buf);
    text.append(buf, static_cast<std::size_t>(in.gcount()));
  }
  if (!in.eof()) return unexpected("master key file " + name + " cannot be read (or is too big)");
  std::size_t b = 0, e = text.size();
  while (b < e && is_space(text[b])) ++b;
  while (e > b && is_space(text[e - 1])) --e;
  std::array<std::uint8_t, kKeyBytes> key{};
  std::size_t got = 0;
  const char* end = nullptr;
  ensure_sodium();
  const bool ok =
      e - b == 2 * kKeyBytes &&
      sodium_hex2bin(key.data(), key.size(), text.data() + b, e - b, nullptr, &got, &end) == 0 &&
      got == kKeyBytes && end == text.data() + e;
  sodium_memzero(text.data(), text.size());
  if (!ok) {
    sodium_memzero(key.data(), key.size());
    return unexpected("master key file " + name + " must hold 64 hexadecimal characters (" +
                      std::to_string(kKeyBytes) + " bytes)");
  }
  auto box = std::make_shared<const SecretBox>(key);
  sodium_memzero(key.data(), key.size());
  return box;
}

Result<void, std::string> SecretBox::create(const std::filesystem::path& file) {
  const std::string name = file.string();
  ensure_sodium();
  std::array<std::uint8_t, kKeyBytes> key{};
  randombytes_buf(key.data(), key.size());
  char hex[2 * kKeyBytes + 1];
  sodium_bin2hex(hex, sizeof hex, key.data(), key.size());
  sodium_memzero(key.data(), key.size());
  std::string text(hex, 2 * kKeyBytes);
  text += '\n';
  sodium_memzero(hex, sizeof hex);
  const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return unexpected("master key file " + name + ": " + std::strerror(errno));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = written && ::fsync(fd) == 0;
  ::close(fd);
  sodium_memzero(text.data(), text.size());
  if (!synced) {
    ::unlink(name.c_str());
    return unexpected("master key file " + name + " could not be written");
  }
  return {};
}

std::string SecretBox::seal(std::string_view plaintext, std::string_view associated) const {
  std::string raw(kNonce + plaintext.size() + kTag, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  randombytes_buf(out, kNonce);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out + kNonce, &len, bytes(plaintext), plaintext.size(),
                                             bytes(associated), associated.size(), nullptr, out,
                                             key_.data());
  std::string b64(sodium_base64_ENCODED_LEN(raw.size(), kB64), '\0');
  sodium_bin2base64(b64.data(), b64.size(), out, raw.size(), kB64);
  b64.resize(std::strlen(b64.c_str()));
  return std::string(kPrefix) + b64;
}

Result<std::string, std::string> SecretBox::open(std::string_view sealed,
                                                 std::string_view associated) const {
  if (!is_sealed(sealed)) return unexpected(std::string("not a sealed value"));
  const std::string_view b64 = sealed.substr(kPrefix.size());
  std::string raw(b64.size() / 4 * 3 + 3, '\0');
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), b64.data(),
                        b64.size(), nullptr, &len, &end, kB64) != 0 ||
      end != b64.data() + b64.size() || len < kNonce + kTag)
    return unexpected(std::string("sealed value is damaged"));
  const auto* in = reinterpret_cast<const unsigned char*>(raw.data());
  std::string plain(len - kNonce - kTag, '\0');
  unsigned long long plain_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &plain_len, nullptr, in + kNonce,
          len - kNonce, bytes(associated), associated.size(), in, key_.data()) != 0)
    return unexpected(std::string(
        "does not decrypt: sealed under another master key, for another row, or altered"));
  plain.resize(plain_len);
  return plain;
}

bool SecretBox::is_sealed(std::string_view stored) {
  return stored.starts_with(kPrefix);
}

}  // namespace govmail::core
