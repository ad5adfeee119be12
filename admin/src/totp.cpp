#include "admin/totp.hpp"

#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cctype>
#include <stdexcept>
#include <vector>

namespace govmail::admin {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

std::string base32(const unsigned char* p, std::size_t n) {
  std::string out;
  unsigned buffer = 0, bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    buffer = (buffer << 8) | p[i];
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::optional<std::vector<unsigned char>> unbase32(std::string_view s) {
  std::vector<unsigned char> out;
  unsigned buffer = 0, bits = 0;
  for (char c : s) {
    if (c == '=' || c == ' ') continue;
    auto at = kAlphabet.find(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    if (at == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 5) | static_cast<unsigned>(at);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<unsigned char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::string uri_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '@') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string new_totp_secret() {
  unsigned char key[20];
  if (RAND_bytes(key, sizeof key) != 1) throw std::runtime_error("RAND_bytes failed");
  return base32(key, sizeof key);
}

std::optional<std::string> totp_code(std::string_view secret, std::int64_t now) {
  auto key = unbase32(secret);
  if (!key) return std::nullopt;
  auto counter = static_cast<std::uint64_t>(now / 30);
  unsigned char msg[8];
  for (int i = 7; i >= 0; --i, counter >>= 8) msg[i] = static_cast<unsigned char>(counter & 0xff);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(EVP_sha1(), key->data(), static_cast<int>(key->size()), msg, sizeof msg, mac, &len);
  unsigned off = mac[len - 1] & 0x0f;
  std::uint32_t bin =
      ((mac[off] & 0x7fu) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  std::string code = std::to_string(bin % 1000000);
  return std::string(6 - code.size(), '0') + code;
}

std::optional<std::int64_t> totp_match(std::string_view secret, std::string_view code,
                                       std::int64_t now) {
  if (code.size() != 6) return std::nullopt;
  for (int step = -1; step <= 1; ++step) {
    auto expected = totp_code(secret, now + step * 30);
    if (!expected) return std::nullopt;
    unsigned diff = 0;  // constant time over the 6 digits
    for (std::size_t i = 0; i < 6; ++i) diff |= static_cast<unsigned>((*expected)[i] ^ code[i]);
    if (diff == 0) return now / 30 + step;
  }
  return std::nullopt;
}

bool totp_verify(std::string_view secret, std::string_view code, std::int64_t now) {
  return totp_match(secret, code, now).has_value();
}

std::string otpauth_uri(std::string_view issuer, std::string_view account,
                        std::string_view secret) {
  return "otpauth://totp/" + uri_escape(issuer) + ":" + uri_escape(account) +
         "?secret=" + std::string(secret) + "&issuer=" + uri_escape(issuer) +
         "&algorithm=SHA1&digits=6&period=30";
}

}  // namespace govmail::admin
