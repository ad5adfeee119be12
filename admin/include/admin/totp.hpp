// TOTP (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits) for the second factor of admin logins.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace govmail::admin {

std::string new_totp_secret();  // 160 random bits, base32 (RFC 4648, no padding)
// The code for Unix time `now`; nullopt when the secret is not valid base32.
std::optional<std::string> totp_code(std::string_view secret_base32, std::int64_t now);
// Accepts the code of the current step and of one step either side (clock drift).
bool totp_verify(std::string_view secret_base32, std::string_view code, std::int64_t now);
// As totp_verify, and says which 30 s step (Unix time / 30) the code belongs to, so that a
// caller can refuse a step already used (replay).
std::optional<std::int64_t> totp_match(std::string_view secret_base32, std::string_view code,
                                       std::int64_t now);
std::string otpauth_uri(std::string_view issuer, std::string_view account,
                        std::string_view secret_base32);

}  // namespace govmail::admin
