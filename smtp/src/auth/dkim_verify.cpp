#include "smtp/dkim_verify.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>

#include "core/asio.hpp"
#include "core/dns.hpp"
#include "core/sha256.hpp"
#include "dkim_common.hpp"

namespace govmail::smtp::dkim {

std::string_view to_string(VerifyResult result) {
  switch (result) {
    case VerifyResult::none:
      return "none";
    case VerifyResult::pass:
      return "pass";
    case VerifyResult::fail:
      return "fail";
    case VerifyResult::neutral:
      return "neutral";
    case VerifyResult::temperror:
      return "temperror";
    case VerifyResult::permerror:
      return "permerror";
    case VerifyResult::policy:
      return "policy";
  }
  return "permerror";
}

namespace {

using namespace detail;

constexpr std::size_t kBodyPiece = 64 * 1024;
constexpr std::size_t kMaxSignatureBytes = 1024;  // 8192-bit RSA
constexpr std::size_t kMaxKeyBytes = 2048;        // DER of an 8192-bit RSA public key is ~1.1 KiB
constexpr int kMinRsaBits = 1024;
constexpr int kMaxRsaBits = 8192;

bool is_fws(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}
std::string_view trim_fws(std::string_view s) {
  while (!s.empty() && is_fws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_fws(s.back())) s.remove_suffix(1);
  return s;
}
std::string strip_fws(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    if (!is_fws(c)) out += c;
  return out;
}

// Message and DNS text in a reason: cut short, anything but printable ASCII replaced.
std::string printable(std::string_view s) {
  constexpr std::size_t kMax = 40;
  std::string out;
  for (char c : s.substr(0, kMax)) out += (c >= 0x20 && c <= 0x7e) ? c : '?';
  if (s.size() > kMax) out += "...";
  return out;
}

// Strict base64 (RFC 4648 alphabet, padding only at the end), FWS already removed.
std::optional<std::string> unbase64(std::string_view in, std::size_t max_out) {
  if (in.size() % 4 != 0 || in.size() / 4 * 3 > max_out + 2) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  std::uint32_t acc = 0;
  std::size_t pad = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    std::uint32_t v;
    if (c >= 'A' && c <= 'Z') {
      v = static_cast<std::uint32_t>(c - 'A');
    } else if (c >= 'a' && c <= 'z') {
      v = static_cast<std::uint32_t>(c - 'a' + 26);
    } else if (c >= '0' && c <= '9') {
      v = static_cast<std::uint32_t>(c - '0' + 52);
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=' && i + 2 >= in.size()) {
      v = 0;
      ++pad;
    } else {
      return std::nullopt;
    }
    if (pad > 0 && c != '=') return std::nullopt;  // data after padding
    acc = (acc << 6) | v;
    if (i % 4 == 3) {
      out += static_cast<char>((acc >> 16) & 0xff);
      out += static_cast<char>((acc >> 8) & 0xff);
      out += static_cast<char>(acc & 0xff);
      acc = 0;
    }
  }
  out.resize(out.size() - pad);
  if (out.size() > max_out) return std::nullopt;
  return out;
}

struct Tag {
  std::string_view name;
  std::string_view value;       // FWS trimmed at both ends
  std::size_t value_begin = 0;  // just after '=' in the parsed text
  std::size_t value_end = 0;    // at ';' or the end
};

// RFC 6376 3.2 tag-list. Empty tag-specs (";;", a trailing ';') are skipped; a duplicate tag
// name, a tag without '=' or with an invalid name is an error.
std::optional<std::vector<Tag>> parse_tags(std::string_view text, std::size_t max_tags,
                                           std::string& error) {
  std::vector<Tag> tags;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find(';', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view spec = text.substr(pos, end - pos);
    if (!trim_fws(spec).empty()) {
      std::size_t eq = spec.find('=');
      if (eq == std::string_view::npos) {
        error = "tag without '='";
        return std::nullopt;
      }
      std::string_view name = trim_fws(spec.substr(0, eq));
      bool ok = !name.empty() &&
                ((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z'));
      for (char c : name)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_');
      if (!ok) {
        error = "invalid tag name";
        return std::nullopt;
      }
      for (const Tag& t : tags)
        if (t.name == name) {
          error = "duplicate tag " + printable(name) + "=";
          return std::nullopt;
        }
      if (tags.size() >= max_tags) {
        error = "too many tags";
        return std::nullopt;
      }
      Tag t;
      t.name = name;
      t.value = trim_fws(spec.substr(eq + 1));
      t.value_begin = pos + eq + 1;
      t.value_end = end;
      tags.push_back(t);
    }
    if (end == text.size()) break;
    pos = end + 1;
  }
  return tags;
}

const Tag* find_tag(const std::vector<Tag>& tags, std::string_view name) {
  for (const Tag& t : tags)
    if (t.name == name) return &t;
  return nullptr;
}

// Colon-separated list (h=, q=, key h=, s=, t=), each element FWS-trimmed.
std::vector<std::string_view> split_colon(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (true) {
    std::size_t end = s.find(':', pos);
    if (end == std::string_view::npos) end = s.size();
    out.push_back(trim_fws(s.substr(pos, end - pos)));
    if (end == s.size()) break;
    pos = end + 1;
  }
  return out;
}

bool list_has(std::string_view list, std::string_view want) {
  for (auto e : split_colon(list))
    if (iequals(e, want)) return true;
  return false;
}

std::optional<std::int64_t> parse_uint(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;  // fits an int64
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool contains_dkim_signature(std::string_view headers) {
  constexpr std::string_view kName = "dkim-signature";
  for (std::size_t i = 0; i + kName.size() <= headers.size(); ++i)
    if ((i == 0 || headers[i - 1] == '\n') && iequals(headers.substr(i, kName.size()), kName))
      return true;
  return false;
}

enum class Canon { simple, relaxed };

std::string canon_header(Canon c, std::string_view raw) {
  if (c == Canon::relaxed) return relaxed_header(raw);
  std::string out(raw);
  out += "\r\n";
  return out;
}

struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

// SHA-256 of the canonicalised body, at most `limit` bytes of it (l=); `canon_size` is the size
// of the whole canonical body.
std::optional<std::string> body_hash(Canon c, std::string_view body,
                                     std::optional<std::int64_t> limit, std::uint64_t& canon_size) {
  MdCtx md(EVP_MD_CTX_new());
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) return std::nullopt;
  std::uint64_t budget = limit ? static_cast<std::uint64_t>(*limit) : UINT64_MAX;
  canon_size = 0;
  auto feed = [&](std::string_view piece) {
    canon_size += piece.size();
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(budget, piece.size()));
    budget -= n;
    return n == 0 || EVP_DigestUpdate(md.get(), piece.data(), n) == 1;
  };
  if (c == Canon::simple) {
    // RFC 6376 3.4.3: trailing empty lines removed; an empty body is one CRLF.
    std::size_t end = body.size();
    while (end >= 2 && body.substr(end - 2, 2) == "\r\n") end -= 2;
    std::string_view content = body.substr(0, end);
    for (std::size_t pos = 0; pos < content.size(); pos += kBodyPiece)
      if (!feed(content.substr(pos, kBodyPiece))) return std::nullopt;
    if (!feed("\r\n")) return std::nullopt;
  } else {
    RelaxedBody rb;
    std::string canon;
    for (std::size_t pos = 0; pos < body.size() || pos == 0; pos += kBodyPiece) {
      canon.clear();
      if (pos < body.size()) rb.feed(body.substr(pos, kBodyPiece), canon);
      if (pos + kBodyPiece >= body.size()) rb.finish(canon);
      if (!feed(canon)) return std::nullopt;
    }
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(md.get(), out, &len) != 1) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(out), len);
}

// No digest (OpenSSL out of memory) is a temporary error for the signature, not an exception.
std::optional<std::string> sha256(std::string_view data) {
  try {
    return core::sha256(data);
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
}

Pending decided(Pending p, VerifyResult r, std::string reason) {
  p.key_name.clear();
  p.check.result = r;
  p.check.reason = std::move(reason);
  return p;
}

// Body hashes already computed for this message: signatures with the same c= body part and l=
// share one pass over the body.
struct BodyHash {
  Canon canon;
  std::optional<std::int64_t> limit;
  std::string hash;
  std::uint64_t canon_size;
};

// One DKIM-Signature field (index `self` in fields).
Pending prepare_one(const std::vector<Field>& fields, std::size_t self, std::string_view body,
                    std::int64_t now, const VerifyLimits& limits, std::vector<BodyHash>& cache) {
  Pending p;
  const VerifyResult perm = VerifyResult::permerror;
  std::string_view raw = fields[self].raw;
  if (raw.size() > limits.max_signature_bytes)
    return decided(std::move(p), perm, "signature field over the size limit");
  std::size_t colon = raw.find(':');
  std::string_view value = raw.substr(colon + 1);
  std::string error;
  auto parsed = parse_tags(value, limits.max_tags, error);
  if (!parsed) return decided(std::move(p), perm, "signature syntax: " + error);
  const std::vector<Tag>& tags = *parsed;

  // Descriptive fields first, so that even a rejected signature says whose it was.
  const Tag* d = find_tag(tags, "d");
  const Tag* s = find_tag(tags, "s");
  const Tag* a = find_tag(tags, "a");
  const Tag* b = find_tag(tags, "b");
  if (d && valid_name(d->value)) p.check.domain = lowered(d->value);
  if (s && valid_name(s->value)) p.check.selector = lowered(s->value);
  if (a) p.check.algorithm = lowered(printable(a->value));
  std::string b64 = b ? strip_fws(b->value) : std::string();
  p.check.b_prefix = printable(std::string_view(b64).substr(0, 8));

  for (std::string_view req : {"v", "a", "b", "bh", "d", "h", "s"})
    if (!find_tag(tags, req))
      return decided(std::move(p), perm, "missing tag " + std::string(req) + "=");
  if (find_tag(tags, "v")->value != "1") return decided(std::move(p), perm, "v= is not 1");
  if (p.check.domain.empty()) return decided(std::move(p), perm, "invalid d=");
  if (p.check.selector.empty()) return decided(std::move(p), perm, "invalid s=");

  if (iequals(a->value, "rsa-sha256")) {
    p.algorithm = Algorithm::rsa_sha256;
  } else if (iequals(a->value, "ed25519-sha256")) {
    p.algorithm = Algorithm::ed25519_sha256;
  } else if (iequals(a->value, "rsa-sha1")) {
    return decided(std::move(p), perm, "rsa-sha1 not accepted");
  } else {
    return decided(std::move(p), perm, "unknown algorithm " + printable(a->value));
  }

  Canon hc = Canon::simple, bc = Canon::simple;
  if (const Tag* c = find_tag(tags, "c")) {
    std::string_view hs = c->value, bs;
    if (auto slash = hs.find('/'); slash != std::string_view::npos) {
      bs = hs.substr(slash + 1);
      hs = hs.substr(0, slash);
    }
    auto one = [](std::string_view v, Canon& out) {
      if (iequals(v, "simple")) {
        out = Canon::simple;
      } else if (iequals(v, "relaxed")) {
        out = Canon::relaxed;
      } else {
        return false;
      }
      return true;
    };
    if (!one(hs, hc) || (!bs.empty() && !one(bs, bc)) ||
        (bs.empty() && c->value.find('/') != std::string_view::npos))
      return decided(std::move(p), perm, "unknown canonicalization " + printable(c->value));
  }

  if (const Tag* q = find_tag(tags, "q"); q && !list_has(q->value, "dns/txt"))
    return decided(std::move(p), perm, "q= without dns/txt");

  // h=: From must be signed (RFC 6376 5.4).
  std::vector<std::string_view> signed_names = split_colon(find_tag(tags, "h")->value);
  if (signed_names.size() > limits.max_signed_fields)
    return decided(std::move(p), perm, "h= lists too many fields");
  bool has_from = false;
  for (auto n : signed_names) {
    if (n.empty()) return decided(std::move(p), perm, "empty field name in h=");
    for (char c : n)
      if (c < 33 || c > 126) return decided(std::move(p), perm, "invalid field name in h=");
    has_from = has_from || iequals(n, "from");
  }
  if (!has_from) return decided(std::move(p), perm, "h= does not include From");

  // i=: in d= or a subdomain of it.
  if (const Tag* i = find_tag(tags, "i")) {
    std::string_view iv = i->value;
    auto at = iv.rfind('@');
    if (at == std::string_view::npos) return decided(std::move(p), perm, "i= without '@'");
    std::string idom = lowered(iv.substr(at + 1));
    const std::string& dom = p.check.domain;
    bool inside = idom == dom || (idom.size() > dom.size() && idom.ends_with(dom) &&
                                  idom[idom.size() - dom.size() - 1] == '.');
    if (!inside) return decided(std::move(p), perm, "i= domain is not in d=");
    p.check.identity = printable(iv);
    p.auid_domain = std::move(idom);
  } else {
    p.check.identity = "@" + p.check.domain;
    p.auid_domain = p.check.domain;
  }

  // t= and x=.
  std::optional<std::int64_t> t, x;
  if (const Tag* tt = find_tag(tags, "t")) {
    t = parse_uint(tt->value);
    if (!t) return decided(std::move(p), perm, "invalid t=");
    if (*t > now + limits.clock_skew_seconds)
      return decided(std::move(p), perm, "t= in the future");
  }
  if (const Tag* xt = find_tag(tags, "x")) {
    x = parse_uint(xt->value);
    if (!x) return decided(std::move(p), perm, "invalid x=");
    if (t && *x < *t) return decided(std::move(p), perm, "x= before t=");
    if (*x < now) return decided(std::move(p), perm, "signature expired (x=)");
  }

  std::optional<std::int64_t> l;
  if (const Tag* lt = find_tag(tags, "l")) {
    l = parse_uint(lt->value);
    if (!l) return decided(std::move(p), perm, "invalid l=");
    p.body_length_used = true;
  }

  auto bh = unbase64(strip_fws(find_tag(tags, "bh")->value), 64);
  if (!bh || bh->size() != 32) return decided(std::move(p), perm, "bh= is not a SHA-256 digest");
  auto sig = unbase64(b64, kMaxSignatureBytes);
  if (!sig || sig->empty()) return decided(std::move(p), perm, "invalid base64 in b=");
  p.signature = std::move(*sig);

  // Body.
  const BodyHash* known = nullptr;
  for (const BodyHash& h : cache)
    if (h.canon == bc && h.limit == l) known = &h;
  if (!known) {
    std::uint64_t size = 0;
    auto computed = body_hash(bc, body, l, size);
    if (!computed) return decided(std::move(p), VerifyResult::temperror, "sha256 unavailable");
    cache.push_back(BodyHash{bc, l, std::move(*computed), size});
    known = &cache.back();
  }
  const std::string* computed = &known->hash;
  const std::uint64_t canon_size = known->canon_size;
  if (l && static_cast<std::uint64_t>(*l) > canon_size)
    return decided(std::move(p), VerifyResult::fail, "l= larger than the body");
  if (CRYPTO_memcmp(computed->data(), bh->data(), 32) != 0)
    return decided(std::move(p), VerifyResult::fail, "body hash did not verify");

  // Header data: each name in h= takes the next instance from the bottom; absent ones are null.
  std::string data;
  std::vector<std::pair<std::string, std::size_t>> cursors;  // lower-case name -> next index
  for (auto n : signed_names) {
    std::string key = lowered(n);
    std::size_t* cur = nullptr;
    for (auto& c : cursors)
      if (c.first == key) cur = &c.second;
    if (!cur) {
      cursors.emplace_back(key, fields.size());
      cur = &cursors.back().second;
    }
    std::size_t k = *cur;
    while (k > 0 && !iequals(fields[k - 1].name, n)) --k;
    if (k == 0) {
      *cur = 0;
      continue;
    }
    *cur = k - 1;
    data += canon_header(hc, fields[k - 1].raw);
  }
  // The signature's own field with the value of b= deleted (RFC 6376 3.7), without its CRLF.
  const Tag* braw = b;
  std::size_t off = colon + 1;
  std::string own(raw.substr(0, off + braw->value_begin));
  own += raw.substr(off + braw->value_end);
  own = canon_header(hc, own);
  own.resize(own.size() - 2);
  data += own;
  auto digest = sha256(data);
  if (!digest) return decided(std::move(p), VerifyResult::temperror, "sha256 unavailable");
  p.header_digest = std::move(*digest);
  p.key_name = p.check.selector + "._domainkey." + p.check.domain;
  return p;
}

struct KeyRecord {
  Pkey key;
  bool testing = false;
};

// RFC 6376 3.6.1. On error returns nullopt with `result` and `error` set.
std::optional<KeyRecord> parse_key(std::string_view record, const Pending& p,
                                   const VerifyLimits& limits, VerifyResult& result,
                                   std::string& error) {
  result = VerifyResult::permerror;
  if (record.size() > limits.max_key_record_bytes) {
    error = "key record too large";
    return std::nullopt;
  }
  std::string perr;
  auto tags = parse_tags(record, limits.max_tags, perr);
  if (!tags) {
    error = "key record syntax: " + perr;
    return std::nullopt;
  }
  if (const Tag* v = find_tag(*tags, "v"); v && (&(*tags)[0] != v || v->value != "DKIM1")) {
    error = "key record v= is not DKIM1 first";
    return std::nullopt;
  }
  if (const Tag* h = find_tag(*tags, "h"); h && !list_has(h->value, "sha256")) {
    error = "key h= excludes sha256";
    return std::nullopt;
  }
  std::string_view k = "rsa";
  if (const Tag* kt = find_tag(*tags, "k")) k = kt->value;
  bool want_ed = p.algorithm == Algorithm::ed25519_sha256;
  if (!iequals(k, want_ed ? "ed25519" : "rsa")) {
    error = iequals(k, "rsa") || iequals(k, "ed25519") ? "key type k= does not match a="
                                                       : "unknown key type k=" + printable(k);
    return std::nullopt;
  }
  if (const Tag* s = find_tag(*tags, "s");
      s && !list_has(s->value, "*") && !list_has(s->value, "email")) {
    error = "key s= excludes email";
    return std::nullopt;
  }
  KeyRecord out;
  if (const Tag* t = find_tag(*tags, "t")) {
    out.testing = list_has(t->value, "y");
    if (list_has(t->value, "s") && p.auid_domain != p.check.domain) {
      error = "key t=s forbids an i= subdomain";
      return std::nullopt;
    }
  }
  const Tag* pt = find_tag(*tags, "p");
  if (!pt) {
    error = "key record has no p=";
    return std::nullopt;
  }
  std::string p64 = strip_fws(pt->value);
  if (p64.empty()) {
    result = VerifyResult::fail;
    error = "key revoked";
    return std::nullopt;
  }
  auto der = unbase64(p64, kMaxKeyBytes);
  if (!der) {
    error = "invalid base64 in key p=";
    return std::nullopt;
  }
  const auto* in = reinterpret_cast<const unsigned char*>(der->data());
  if (want_ed) {
    if (der->size() == 32)
      out.key.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, in, 32));
    if (!out.key) {
      ERR_clear_error();
      error = "invalid Ed25519 key";
      return std::nullopt;
    }
    return out;
  }
  // SubjectPublicKeyInfo (RFC 6376 3.6.1), or a bare RSAPublicKey as some publish.
  const unsigned char* cur = in;
  out.key.reset(d2i_PUBKEY(nullptr, &cur, static_cast<long>(der->size())));
  if (!out.key || cur != in + der->size()) {
    cur = in;
    out.key.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &cur, static_cast<long>(der->size())));
  }
  ERR_clear_error();
  if (!out.key || EVP_PKEY_is_a(out.key.get(), "RSA") != 1) {
    error = "invalid RSA key";
    return std::nullopt;
  }
  int bits = EVP_PKEY_get_bits(out.key.get());
  if (bits < kMinRsaBits) {
    error = "RSA key shorter than 1024 bits";
    return std::nullopt;
  }
  if (bits > kMaxRsaBits) {
    error = "RSA key longer than 8192 bits";
    return std::nullopt;
  }
  return out;
}

bool verify_signature(const Pending& p, EVP_PKEY* key) {
  const auto* sig = reinterpret_cast<const unsigned char*>(p.signature.data());
  const auto* dig = reinterpret_cast<const unsigned char*>(p.header_digest.data());
  bool ok = false;
  if (p.algorithm == Algorithm::ed25519_sha256) {
    // RFC 8463 3: PureEd25519 over the SHA-256 of the header data.
    MdCtx ctx(EVP_MD_CTX_new());
    ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) == 1 &&
         EVP_DigestVerify(ctx.get(), sig, p.signature.size(), dig, p.header_digest.size()) == 1;
  } else {
    PkeyCtx ctx(EVP_PKEY_CTX_new(key, nullptr));
    ok = ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
         EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1 &&
         EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) == 1 &&
         EVP_PKEY_verify(ctx.get(), sig, p.signature.size(), dig, p.header_digest.size()) == 1;
  }
  ERR_clear_error();
  return ok;
}

}  // namespace

std::vector<Pending> prepare(std::string_view message, std::int64_t now_unix,
                             const VerifyLimits& limits) {
  std::vector<Pending> out;
  std::string_view headers, body;
  if (message.starts_with("\r\n")) {
    body = message.substr(2);
  } else {
    std::string_view window = message.substr(0, limits.max_header_bytes + 4);
    auto sep = window.find("\r\n\r\n");
    if (sep == std::string_view::npos) {
      headers = window;
      if (message.size() > limits.max_header_bytes) {
        if (contains_dkim_signature(headers.substr(0, limits.max_header_bytes))) {
          Pending p;
          p.check.result = VerifyResult::permerror;
          p.check.reason = "header block over the size limit";
          out.push_back(std::move(p));
        }
        return out;
      }
    } else {
      headers = message.substr(0, sep + 2);
      body = message.substr(sep + 4);
    }
  }
  auto fields = parse_fields(headers, limits.max_header_fields, /*strict_names=*/false);
  if (!fields) {
    if (contains_dkim_signature(headers)) {
      Pending p;
      p.check.result = VerifyResult::permerror;
      p.check.reason = "malformed header block";
      out.push_back(std::move(p));
    }
    return out;
  }
  std::vector<BodyHash> cache;
  cache.reserve(limits.max_signatures);  // pointers into it stay valid
  for (std::size_t i = 0; i < fields->size() && out.size() < limits.max_signatures; ++i)
    if (iequals((*fields)[i].name, "dkim-signature"))
      out.push_back(prepare_one(*fields, i, body, now_unix, limits, cache));
  return out;
}

SignatureCheck finish(const Pending& pending, const KeyAnswer& key, const VerifyLimits& limits) {
  SignatureCheck out = pending.check;
  if (!pending.needs_key()) return out;
  auto set = [&](VerifyResult r, std::string reason) {
    out.result = r;
    out.reason = std::move(reason);
    return out;
  };
  switch (key.status) {
    case KeyStatus::nxdomain:
    case KeyStatus::nodata:
      return set(VerifyResult::permerror, "no key for signature");
    case KeyStatus::temporary:
      return set(VerifyResult::temperror, "key lookup failed: " + printable(key.error));
    case KeyStatus::ok:
      break;
  }
  if (key.records.empty()) return set(VerifyResult::permerror, "no key for signature");
  std::optional<KeyRecord> rec;
  VerifyResult first_result = VerifyResult::permerror;
  std::string first_error;
  for (std::size_t i = 0; i < key.records.size() && i < 8 && !rec; ++i) {
    VerifyResult r = VerifyResult::permerror;
    std::string e;
    rec = parse_key(key.records[i], pending, limits, r, e);
    if (!rec && i == 0) {
      first_result = r;
      first_error = std::move(e);
    }
  }
  if (!rec) return set(first_result, std::move(first_error));
  if (!verify_signature(pending, rec->key.get()))
    return set(VerifyResult::fail, "signature did not verify");
  std::string reason;
  if (pending.body_length_used) reason = "l= body length limit used";
  if (rec->testing) reason += reason.empty() ? "key in testing mode (t=y)" : "; key t=y";
  return set(VerifyResult::pass, std::move(reason));
}

awaitable<std::vector<SignatureCheck>> verify(core::Resolver& resolver, std::string_view message,
                                              std::int64_t now_unix, VerifyLimits limits) {
  std::vector<Pending> pending = prepare(message, now_unix, limits);
  std::vector<SignatureCheck> out;
  out.reserve(pending.size());
  std::map<std::string, KeyAnswer> answers;  // each key name looked up once
  const auto start = std::chrono::steady_clock::now();
  for (const Pending& p : pending) {
    if (p.needs_key() && !answers.contains(p.key_name) &&
        std::chrono::steady_clock::now() - start >= limits.lookup_budget) {
      answers.emplace(p.key_name, KeyAnswer{KeyStatus::temporary, {}, "lookup budget exhausted"});
    }
    if (p.needs_key() && !answers.contains(p.key_name)) {
      std::string name = p.key_name;
      core::TxtAnswer txt = co_await resolver.txt(std::move(name));
      KeyAnswer a;
      switch (txt.status) {
        case core::DnsStatus::ok:
          a.status = KeyStatus::ok;
          break;
        case core::DnsStatus::nxdomain:
          a.status = KeyStatus::nxdomain;
          break;
        case core::DnsStatus::nodata:
          a.status = KeyStatus::nodata;
          break;
        case core::DnsStatus::temporary:
          a.status = KeyStatus::temporary;
          break;
      }
      a.records = std::move(txt.texts);
      a.error = std::move(txt.error);
      answers.emplace(p.key_name, std::move(a));
    }
    if (p.needs_key()) {
      out.push_back(finish(p, answers.at(p.key_name), limits));
    } else {
      out.push_back(p.check);
    }
  }
  co_return out;
}

}  // namespace govmail::smtp::dkim
