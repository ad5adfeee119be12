// A small HTTPS GET client for fetching documents that other protocols depend on (the MTA-STS
// policy, RFC 8461 3.3): one request per connection, certificate chain and host name always
// verified (SNI sent), no redirects followed (a 3xx is returned as it is), no caching, the whole
// exchange under one deadline and the response bounded in size. The caller resolves the host
// (core::Resolver) and passes its addresses, tried in order until one answers.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "core/result.hpp"
#include "core/tls.hpp"

namespace govmail::core {

struct HttpsRequest {
  std::string host;                    // Host:, SNI and the name the certificate must carry
  std::vector<std::string> addresses;  // "192.0.2.1", "2001:db8::1"
  std::uint16_t port = 443;
  std::string path = "/";
  TlsContext tls;                            // make_client_tls_context(): the trust anchors
  std::chrono::milliseconds timeout{60000};  // per address: connect to the last body byte
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 64 * 1024;
};

struct HttpsResponse {
  int status = 0;
  std::string content_type;  // the Content-Type field value as sent ("" when absent)
  std::string body;
};

// The response of the first address that completes an exchange, or why none did ("connect to
// 192.0.2.1:443: timed out", "TLS: certificate verify failed", "body larger than 65536 bytes").
awaitable<Result<HttpsResponse, std::string>> https_get(Executor ex, HttpsRequest request);

// The media type of a Content-Type value, lower-case, without parameters or spaces:
// "Text/Plain; charset=utf-8" -> "text/plain".
std::string media_type(std::string_view content_type);

}  // namespace govmail::core
