// Private to smtp/: what DKIM signing (dkim.cpp) and verification (auth/dkim_verify.cpp) share:
// header-field splitting, the name rules of d=/s=, case-insensitive ASCII, OpenSSL handles.
#pragma once
#include <openssl/bio.h>
#include <openssl/evp.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace govmail::smtp::dkim::detail {

inline bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}
inline char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
bool iequals(std::string_view a, std::string_view b);

// A domain or selector: dot-separated labels of letters, digits, '-' and '_' (RFC 6376 3.1).
bool valid_name(std::string_view s);

struct Field {
  std::string_view name;  // as written, trailing WSP removed
  std::string_view raw;   // the whole field with its folding, without the final CRLF
};

// Splits a header block (every line ends with CRLF except perhaps the last) into fields; an
// error names what is wrong: a bare CR or LF, a leading continuation line, a line without a
// colon, an empty name, more than `max_fields` fields, and with `strict_names` a name byte
// outside 33..126.
Result<std::vector<Field>, std::string> parse_fields(std::string_view block, std::size_t max_fields,
                                                     bool strict_names);

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using Bio = std::unique_ptr<BIO, BioFree>;

}  // namespace govmail::smtp::dkim::detail
