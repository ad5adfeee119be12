#include "core/tls.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <boost/asio/ssl.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/asio.hpp"

namespace govmail::core {
namespace {

namespace ssl = boost::asio::ssl;
namespace fs = std::filesystem;

// Mozilla "intermediate" TLS 1.2 suites: forward secrecy and AEAD only. TLS 1.3 suites are
// configured separately by OpenSSL and are all fine.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384";

constexpr long kValidityDays = 730;

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using PKeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

std::string openssl_error(std::string_view what) {
  std::string out(what);
  if (const unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    out += ": ";
    out += buf;
  }
  ERR_clear_error();
  return out;
}

bool is_ip_address(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string san_list(const std::string& hostname) {
  std::vector<std::string> names = {"DNS:localhost", "IP:127.0.0.1", "IP:::1"};
  const std::string own = (is_ip_address(hostname) ? "IP:" : "DNS:") + hostname;
  if (std::find(names.begin(), names.end(), own) == names.end()) names.insert(names.begin(), own);
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

bool add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

Result<X509Ptr, std::string> make_certificate(EVP_PKEY* key, const std::string& hostname) {
  X509Ptr cert(X509_new());
  BnPtr serial(BN_new());
  if (!cert || !serial || !BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) ||
      !X509_set_version(cert.get(), X509_VERSION_3) ||
      !X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) ||  // tolerate clock skew
      !X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValidityDays * 24 * 3600) ||
      !X509_set_pubkey(cert.get(), key))
    return unexpected(openssl_error("building certificate"));
  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto* cn = reinterpret_cast<const unsigned char*>(hostname.c_str());
  if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, -1, -1, 0) ||
      !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                  reinterpret_cast<const unsigned char*>("govmail self-signed"), -1,
                                  -1, 0) ||
      !X509_set_issuer_name(cert.get(), name))
    return unexpected(openssl_error("certificate name"));
  if (!add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert.get(), NID_key_usage, "critical,digitalSignature") ||
      !add_extension(cert.get(), NID_ext_key_usage, "serverAuth") ||
      !add_extension(cert.get(), NID_subject_key_identifier, "hash") ||
      !add_extension(cert.get(), NID_subject_alt_name, san_list(hostname)))
    return unexpected(openssl_error("certificate extensions"));
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0)
    return unexpected(openssl_error("signing certificate"));
  return cert;
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// Writes via a temporary file and rename, so a crash never leaves half a key behind.
Result<void, std::string> write_file(const fs::path& path, const std::string& data, mode_t mode) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  if (ec) return unexpected(path.parent_path().string() + ": " + ec.message());
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return unexpected(tmp.string() + ": " + std::strerror(errno));
  ::fchmod(fd, mode);  // O_CREAT does not change the mode of an existing file
  const bool written = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced || ::rename(tmp.c_str(), path.c_str()) != 0)
    return unexpected(path.string() + ": " + std::strerror(errno));
  return {};
}

Result<void, std::string> file_readable(const fs::path& path, std::string_view key) {
  std::ifstream in(path);
  if (!in)
    return unexpected(std::string(key) + " '" + path.string() +
                      "': cannot read: " + std::strerror(errno));
  return {};
}

}  // namespace

Result<void, std::string> ensure_self_signed(const fs::path& cert_file, const fs::path& key_file,
                                             const std::string& hostname) {
  if (fs::exists(cert_file) && fs::exists(key_file)) return {};
  PKeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return unexpected(openssl_error("generating EC P-256 key"));
  auto cert = make_certificate(key.get(), hostname);
  if (!cert) return unexpected(cert.error());

  BioPtr key_pem(BIO_new(BIO_s_mem()));
  BioPtr cert_pem(BIO_new(BIO_s_mem()));
  if (!key_pem || !cert_pem ||
      !PEM_write_bio_PrivateKey(key_pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) ||
      !PEM_write_bio_X509(cert_pem.get(), cert->get()))
    return unexpected(openssl_error("encoding PEM"));
  // Key first: a certificate without its key would be taken as complete next time.
  if (auto r = write_file(key_file, bio_contents(key_pem.get()), 0600); !r) return r;
  return write_file(cert_file, bio_contents(cert_pem.get()), 0644);
}

Result<TlsContext, std::string> make_server_tls_context(const TlsConfig& config) {
  if (auto r = file_readable(config.cert_file, "tls.cert_file"); !r) return unexpected(r.error());
  if (auto r = file_readable(config.key_file, "tls.key_file"); !r) return unexpected(r.error());
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                   ssl::context::single_dh_use | SSL_OP_NO_RENEGOTIATION |
                   // Our order (strongest first), not a weak client's preference.
                   SSL_OP_CIPHER_SERVER_PREFERENCE);
  const int min = config.min_version == "TLSv1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (!SSL_CTX_set_min_proto_version(native, min) ||
      !SSL_CTX_set_cipher_list(native, kTls12Ciphers))
    return unexpected(openssl_error("TLS settings"));
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(config.cert_file.string(), ec);
  if (ec) return unexpected(openssl_error("tls.cert_file '" + config.cert_file.string() + "'"));
  ctx->use_private_key_file(config.key_file.string(), ssl::context::pem, ec);
  if (ec)  // OpenSSL checks the key against the certificate here already
    return unexpected(openssl_error("tls.key_file '" + config.key_file.string() +
                                    "' is unreadable or does not match tls.cert_file"));
  if (SSL_CTX_check_private_key(native) != 1)
    return unexpected(openssl_error("tls.key_file does not match tls.cert_file"));
  return ctx;
}

Result<TlsContext, std::string> prepare_server_tls(const TlsConfig& config,
                                                   const std::string& hostname) {
  if (config.self_signed) {
    if (auto r = ensure_self_signed(config.cert_file, config.key_file, hostname); !r)
      return unexpected(r.error());
  }
  return make_server_tls_context(config);
}

TlsContext make_client_tls_context(const fs::path& ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_verify_mode(ssl::verify_peer);
  if (ca_file.empty())
    ctx->set_default_verify_paths();
  else
    ctx->load_verify_file(ca_file.string());
  return ctx;
}

TlsContext make_client_tls_context_noverify() {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  ctx->set_verify_mode(ssl::verify_none);
  return ctx;
}

Result<std::vector<std::string>, std::string> certificate_san(const fs::path& cert_file) {
  BioPtr bio(BIO_new_file(cert_file.c_str(), "r"));
  if (!bio) return unexpected(openssl_error(cert_file.string()));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return unexpected(openssl_error(cert_file.string()));
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  std::vector<std::string> out;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      const auto* s = n->d.dNSName;
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                         static_cast<std::size_t>(ASN1_STRING_length(s))));
    } else if (n->type == GEN_IPADD) {
      const int len = ASN1_STRING_length(n->d.iPAddress);
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(len == 16 ? AF_INET6 : AF_INET, ASN1_STRING_get0_data(n->d.iPAddress), text,
                sizeof text);
      out.push_back(std::string("IP:") + text);
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

}  // namespace govmail::core
