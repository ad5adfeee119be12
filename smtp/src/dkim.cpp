#include "smtp/dkim.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>
#include <vector>

#include "dkim_common.hpp"

namespace govmail::smtp::dkim {
namespace {

using namespace detail;

constexpr std::array<std::string_view, 16> kSignedFields = {"from",
                                                            "sender",
                                                            "reply-to",
                                                            "subject",
                                                            "date",
                                                            "message-id",
                                                            "to",
                                                            "cc",
                                                            "in-reply-to",
                                                            "references",
                                                            "mime-version",
                                                            "content-type",
                                                            "content-transfer-encoding",
                                                            "list-id",
                                                            "list-unsubscribe",
                                                            "auto-submitted"};
// Listed once more than they occur (RFC 6376 8.15): a copy added later breaks the signature.
constexpr std::array<std::string_view, 5> kOverSigned = {"from", "subject", "date", "to", "cc"};

constexpr std::size_t kMaxPemBytes = 64 * 1024;
constexpr std::size_t kFoldWidth = 76;         // folded lines stay under 78 characters
constexpr std::size_t kBodyPiece = 64 * 1024;  // body canonicalised and hashed in pieces

bool contains(std::span<const std::string_view> set, std::string_view name) {
  for (auto s : set)
    if (iequals(s, name)) return true;
  return false;
}

// OpenSSL's error queue is per thread; leave it empty so that no later caller reads our errors.
// Its texts are never passed on: they may quote what was being parsed.
template <class T>
Result<T, std::string> fail(std::string what) {
  ERR_clear_error();
  return unexpected(std::move(what));
}

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(len > 0 ? static_cast<std::size_t>(len) : 0);
  return out;
}

// Refuses a password prompt: an encrypted key is an error, never a read from the terminal.
int no_password(char*, int, int, void*) {
  return -1;
}

Result<std::string, std::string> public_b64_of(EVP_PKEY* pkey, Algorithm alg) {
  if (alg == Algorithm::ed25519_sha256) {
    unsigned char raw[32];
    std::size_t len = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1 || len != sizeof raw)
      return fail<std::string>("dkim: cannot read the Ed25519 public key");
    return base64(raw, len);
  }
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) return fail<std::string>("dkim: cannot encode the RSA public key");
  std::string out = base64(der, static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool key_matches(EVP_PKEY* pkey, Algorithm alg) {
  if (alg == Algorithm::ed25519_sha256) return EVP_PKEY_is_a(pkey, "ED25519") == 1;
  return EVP_PKEY_is_a(pkey, "RSA") == 1 && EVP_PKEY_get_bits(pkey) >= 1024;
}

// Builds the folded DKIM-Signature field.
class Folder {
 public:
  explicit Folder(std::string_view start) : s_(start), line_(start.size()) {}
  // A tag after a space, or at the start of a new line when it does not fit.
  void word(std::string_view w) {
    if (line_ + 1 + w.size() > kFoldWidth) {
      fold();
    } else {
      s_ += ' ';
      ++line_;
    }
    append(w);
  }
  // Text where FWS is allowed before it (h= around colons, before ';').
  void glued(std::string_view w) {
    if (line_ + w.size() > kFoldWidth) fold();
    append(w);
  }
  // Base64, which may be folded anywhere (RFC 6376 3.5, b=).
  void fill(std::string_view b64) {
    while (!b64.empty()) {
      if (line_ >= kFoldWidth) fold();
      std::size_t n = std::min(b64.size(), kFoldWidth - line_);
      append(b64.substr(0, n));
      b64.remove_prefix(n);
    }
  }
  std::string& text() { return s_; }

 private:
  void fold() {
    s_ += "\r\n\t";
    line_ = 1;
  }
  void append(std::string_view w) {
    s_ += w;
    line_ += w.size();
  }
  std::string s_;
  std::size_t line_;
};

}  // namespace

std::string_view to_string(Algorithm alg) {
  return alg == Algorithm::ed25519_sha256 ? "ed25519-sha256" : "rsa-sha256";
}

std::optional<Algorithm> parse_algorithm(std::string_view text) {
  if (iequals(text, "rsa") || iequals(text, "rsa-sha256")) return Algorithm::rsa_sha256;
  if (iequals(text, "ed25519") || iequals(text, "ed25519-sha256")) return Algorithm::ed25519_sha256;
  return std::nullopt;
}

std::span<const std::string_view> signed_fields() {
  return kSignedFields;
}

Result<KeyPair, std::string> generate_key(Algorithm alg) {
  Pkey pkey(alg == Algorithm::ed25519_sha256
                ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048)));
  if (!pkey) return fail<KeyPair>("dkim: key generation failed");
  // Secure memory BIO: its buffer is cleared when freed.
  Bio bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return fail<KeyPair>("dkim: cannot encode the private key");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || !data) return fail<KeyPair>("dkim: cannot encode the private key");
  KeyPair kp;
  kp.algorithm = alg;
  kp.private_pem.assign(data, static_cast<std::size_t>(len));
  auto pub = public_b64_of(pkey.get(), alg);
  if (!pub) return unexpected(pub.error());
  kp.public_b64 = std::move(*pub);
  return kp;
}

std::string dns_txt_record(const KeyPair& key) {
  return std::string("v=DKIM1; k=") +
         (key.algorithm == Algorithm::ed25519_sha256 ? "ed25519" : "rsa") + "; p=" + key.public_b64;
}

std::string relaxed_header(std::string_view field) {
  if (field.ends_with("\r\n")) field.remove_suffix(2);
  auto colon = field.find(':');
  std::string_view name = field.substr(0, colon);
  std::string_view value =
      colon == std::string_view::npos ? std::string_view{} : field.substr(colon + 1);
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
  std::string out;
  out.reserve(field.size() + 2);
  for (char c : name) out += lower(c);
  out += ':';
  bool wsp = false;      // a WSP run waiting for the next non-WSP character
  bool started = false;  // WSP before the value's first character is deleted
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\r' && i + 1 < value.size() && value[i + 1] == '\n') {
      ++i;  // unfold
    } else if (is_wsp(c)) {
      wsp = true;
    } else {
      if (wsp && started) out += ' ';
      wsp = false;
      started = true;
      out += c;
    }
  }
  out += "\r\n";
  return out;
}

void RelaxedBody::content(char c, std::string& out) {
  for (; pending_crlf_ > 0; --pending_crlf_) out += "\r\n";
  if (pending_wsp_) out += ' ';
  pending_wsp_ = false;
  out += c;
  any_content_ = true;
}

void RelaxedBody::feed(std::string_view piece, std::string& out) {
  for (char c : piece) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (c == '\n') {
        pending_wsp_ = false;  // whitespace at the end of a line is ignored
        ++pending_crlf_;
        continue;
      }
      content('\r', out);  // a bare CR is an ordinary character
    }
    if (c == '\r') {
      pending_cr_ = true;
    } else if (is_wsp(c)) {
      pending_wsp_ = true;
    } else {
      content(c, out);
    }
  }
}

void RelaxedBody::finish(std::string& out) {
  // A body that does not end with CRLF is read as if it did (RFC 6376 3.4.4 adds the CRLF; SMTP
  // DATA adds it in transit anyway): the last line loses its trailing WSP. dkimpy keeps one SP
  // there and OpenDKIM adds no CRLF; for a body that ends with CRLF all three agree.
  if (pending_cr_) content('\r', out);
  if (any_content_) out += "\r\n";
  pending_cr_ = pending_wsp_ = any_content_ = false;
  pending_crlf_ = 0;
}

std::string relaxed_body(std::string_view body) {
  std::string out;
  RelaxedBody rb;
  rb.feed(body, out);
  rb.finish(out);
  return out;
}

struct Signer::Key {
  Pkey pkey;
};

Signer::Signer(Algorithm alg, std::unique_ptr<Key> key, std::string public_b64, std::string domain,
               std::string selector, Limits limits)
    : algorithm_(alg),
      key_(std::move(key)),
      public_b64_(std::move(public_b64)),
      domain_(std::move(domain)),
      selector_(std::move(selector)),
      limits_(limits) {}
Signer::Signer(Signer&&) noexcept = default;
Signer& Signer::operator=(Signer&&) noexcept = default;
Signer::~Signer() = default;

Result<Signer, std::string> Signer::load(Algorithm alg, std::string_view private_pem,
                                         std::string domain, std::string selector, Limits limits) {
  if (!valid_name(domain)) return fail<Signer>("dkim: invalid signing domain");
  if (!valid_name(selector)) return fail<Signer>("dkim: invalid selector");
  if (private_pem.empty() || private_pem.size() > kMaxPemBytes)
    return fail<Signer>("dkim: the private key is empty or too large");
  Bio bio(BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size())));
  if (!bio) return fail<Signer>("dkim: out of memory");
  Pkey pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr));
  if (!pkey) return fail<Signer>("dkim: the private key is not an unencrypted PEM private key");
  if (!key_matches(pkey.get(), alg))
    return fail<Signer>(std::string("dkim: the private key is not a key for ") +
                        std::string(to_string(alg)) +
                        (alg == Algorithm::rsa_sha256 ? " (RSA of at least 1024 bits)" : ""));
  auto pub = public_b64_of(pkey.get(), alg);
  if (!pub) return unexpected(pub.error());
  auto key = std::make_unique<Key>();
  key->pkey = std::move(pkey);
  return Signer(alg, std::move(key), std::move(*pub), std::move(domain), std::move(selector),
                limits);
}

Result<std::string, std::string> Signer::sign(std::string_view message,
                                              std::int64_t unix_time) const {
  using R = Result<std::string, std::string>;
  if (unix_time < 0) return fail<std::string>("dkim: negative signing time");

  // Header block (without the empty line) and body; the search for the empty line is bounded.
  std::string_view headers, body;
  if (message.starts_with("\r\n")) {
    body = message.substr(2);
  } else {
    std::string_view window = message.substr(0, limits_.max_header_bytes + 4);
    auto sep = window.find("\r\n\r\n");
    if (sep == std::string_view::npos) {
      if (message.size() > limits_.max_header_bytes)
        return fail<std::string>("dkim: header block larger than the limit");
      headers = message;
    } else {
      headers = message.substr(0, sep + 2);
      body = message.substr(sep + 4);
    }
  }
  if (headers.size() > limits_.max_header_bytes)
    return fail<std::string>("dkim: header block larger than the limit");
  auto parsed = parse_fields(headers, limits_.max_header_fields, /*strict_names=*/true);
  if (!parsed) return unexpected(parsed.error());
  const std::vector<Field>& fields = *parsed;

  std::size_t from_count = 0;
  for (const auto& f : fields) from_count += iequals(f.name, "from");
  if (from_count == 0) return fail<std::string>("dkim: the message has no From: field");
  if (from_count > 1) return fail<std::string>("dkim: the message has more than one From: field");

  // Body hash, streamed.
  MdCtx md(EVP_MD_CTX_new());
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1)
    return fail<std::string>("dkim: sha256 unavailable");
  RelaxedBody rb;
  std::string canon;
  canon.reserve(kBodyPiece + 1024);
  for (std::size_t pos = 0; pos < body.size() || pos == 0; pos += kBodyPiece) {
    canon.clear();
    if (pos < body.size()) rb.feed(body.substr(pos, kBodyPiece), canon);
    if (pos + kBodyPiece >= body.size()) rb.finish(canon);
    if (EVP_DigestUpdate(md.get(), canon.data(), canon.size()) != 1)
      return fail<std::string>("dkim: body hash failed");
  }
  unsigned char bh[EVP_MAX_MD_SIZE];
  unsigned int bh_len = 0;
  if (EVP_DigestFinal_ex(md.get(), bh, &bh_len) != 1)
    return fail<std::string>("dkim: body hash failed");

  // h= and the header data: each listed name takes the next instance from the bottom; a name
  // listed more often than it occurs adds nothing (RFC 6376 5.4.2).
  std::vector<std::string_view> h;
  std::string data;
  for (std::string_view name : kSignedFields) {
    std::size_t n = 0;
    for (const auto& f : fields) n += iequals(f.name, name);
    std::size_t listed = n + (contains(kOverSigned, name) ? 1 : 0);
    std::size_t next = fields.size();  // instances are taken from the bottom up
    for (std::size_t k = 0; k < listed; ++k) {
      h.push_back(name);
      while (next > 0 && !iequals(fields[next - 1].name, name)) --next;
      if (next == 0) continue;
      --next;
      data += relaxed_header(fields[next].raw);
    }
  }

  Folder sig("DKIM-Signature:");
  sig.word("v=1;");
  sig.word("a=" + std::string(to_string(algorithm_)) + ";");
  sig.word("c=relaxed/relaxed;");
  sig.word("d=" + domain_ + ";");
  sig.word("s=" + selector_ + ";");
  sig.word("t=" + std::to_string(unix_time) + ";");
  for (std::size_t i = 0; i < h.size(); ++i) {
    std::string piece = i == 0 ? "h=" : ":";
    piece += h[i];
    if (i + 1 == h.size()) piece += ';';
    if (i == 0)
      sig.word(piece);
    else
      sig.glued(piece);
  }
  sig.word("bh=" + base64(bh, bh_len) + ";");
  sig.word("b=");
  // The signature's own field, b= empty, relaxed, without its CRLF, is hashed last.
  std::string own = relaxed_header(sig.text());
  own.resize(own.size() - 2);
  data += own;

  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return fail<std::string>("dkim: out of memory");
  std::string_view input = data;
  unsigned char digest[EVP_MAX_MD_SIZE];
  if (algorithm_ == Algorithm::ed25519_sha256) {
    // RFC 8463 3: PureEd25519 over the SHA-256 of the data.
    unsigned int dlen = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &dlen, EVP_sha256(), nullptr) != 1)
      return fail<std::string>("dkim: header hash failed");
    input = std::string_view(reinterpret_cast<const char*>(digest), dlen);
    if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey.get()) != 1)
      return fail<std::string>("dkim: signing failed");
  } else if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_->pkey.get()) != 1) {
    return fail<std::string>("dkim: signing failed");
  }
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  std::size_t sig_len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &sig_len, in, input.size()) != 1)
    return fail<std::string>("dkim: signing failed");
  std::vector<unsigned char> b(sig_len);
  if (EVP_DigestSign(ctx.get(), b.data(), &sig_len, in, input.size()) != 1)
    return fail<std::string>("dkim: signing failed");
  sig.fill(base64(b.data(), sig_len));
  std::string out = std::move(sig.text());
  out += "\r\n";
  return R(std::move(out));
}

}  // namespace govmail::smtp::dkim
