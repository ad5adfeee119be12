// What an HTTP request carries for authentication, without I/O: Basic credentials, bearer
// tokens, the session cookie, the origin of a cross-site request; and the token primitives
// (random tokens, SHA-256) of the login sessions.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace govmail::webmail::auth {

inline constexpr std::string_view kSessionCookie = "govmail_session";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

struct BasicCredentials {
  std::string username;
  std::string password;
};
// "Basic base64(user:pass)" (RFC 7617); nullopt when not Basic or malformed.
std::optional<BasicCredentials> parse_basic(std::string_view authorization);
// "Bearer TOKEN" (RFC 6750); nullopt otherwise.
std::optional<std::string> parse_bearer(std::string_view authorization);
// The value of cookie `name` in a Cookie header; nullopt when absent.
std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name);
// Whether Origin ("https://host:port", or "null") names the same site as Host over this
// scheme. An absent Origin is not checked here (the caller decides).
bool same_origin(std::string_view origin, std::string_view host, bool tls);

// 32 random bytes, base64url without padding (43 characters).
std::string random_token();
std::string sha256(std::string_view data);  // 32 raw bytes
// Constant-time comparison of equal-length strings (false when lengths differ).
bool equal_secret(std::string_view a, std::string_view b);

// Set-Cookie for the session token (HttpOnly, SameSite=Strict, Secure over TLS), and the one
// that clears it.
std::string session_cookie(std::string_view token, long max_age_seconds, bool tls);
std::string clear_session_cookie(bool tls);

}  // namespace govmail::webmail::auth
