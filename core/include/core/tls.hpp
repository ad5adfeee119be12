// TLS contexts (OpenSSL 3 through Boost.Asio ssl) and the development self-signed certificate.
// Asio-free: the context is forward-declared; include <boost/asio/ssl.hpp> where you use it.
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/result.hpp"

namespace boost::asio::ssl {
class context;
}

namespace govmail::core {

using TlsContext = std::shared_ptr<boost::asio::ssl::context>;

// Server context: tls.min_version and newer, no compression, no renegotiation, forward-secret
// AEAD ciphers only (TLS 1.2: ECDHE + AES-GCM / ChaCha20-Poly1305; TLS 1.3: OpenSSL defaults),
// certificate chain and key from the files (the key must match the certificate).
Result<TlsContext, std::string> make_server_tls_context(const TlsConfig& config);

// Creates a self-signed EC P-256 certificate and key when either file is missing (directories
// created, key mode 0600). SAN: hostname, localhost, 127.0.0.1, ::1; valid for 2 years. Existing
// files are left alone.
Result<void, std::string> ensure_self_signed(const std::filesystem::path& cert_file,
                                             const std::filesystem::path& key_file,
                                             const std::string& hostname);

// What `govmail serve` does: ensure_self_signed when tls.self_signed, then the server context.
Result<TlsContext, std::string> prepare_server_tls(const TlsConfig& config,
                                                   const std::string& hostname);

// Client context for tests and outbound connections: verifies the peer against `ca_file` (or the
// system store when empty). Check the name with ssl::host_name_verification on the stream.
TlsContext make_client_tls_context(const std::filesystem::path& ca_file = {});

// Client context that verifies nothing (opportunistic STARTTLS between MTAs, RFC 7435): TLS 1.2
// and newer, no compression, no renegotiation. Encryption against passive listeners only.
TlsContext make_client_tls_context_noverify();

// Subject alternative names of a PEM certificate ("DNS:localhost", "IP:127.0.0.1", ...).
Result<std::vector<std::string>, std::string> certificate_san(
    const std::filesystem::path& cert_file);

}  // namespace govmail::core
