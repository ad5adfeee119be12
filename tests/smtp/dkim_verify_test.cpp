// DKIM verification (RFC 6376, RFC 8463): the sans-I/O core on messages signed by govmail's
// Signer and by an independent implementation (dkimpy fixtures in tests/data/dkim/, made by
// generate.py there), edge tables on altered signatures and key records, then verify() through a
// real unbound on loopback publishing the keys (and a forwarder that never answers).
#include "smtp/dkim_verify.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/asio.hpp"
#include "core/dns.hpp"
#include "smtp/dkim.hpp"
#include "unbound_server.hpp"

namespace govmail::smtp::dkim {
namespace {

using namespace std::chrono_literals;
using test::UnboundServer;

constexpr std::int64_t kNow = 1900000000;  // 2030: after the fixtures' t=

const std::string kMessage =
    "From: Nguyen Van A <a@govmail.example>\r\n"
    "To: b@receiver.example\r\n"
    "Subject:  C\xc3\xb4ng v\xc4\x83n   12 \r\n"
    "Date: Mon, 5 Jan 2026 09:00:00 +0700\r\n"
    "Message-ID: <m1@govmail.example>\r\n"
    "\r\n"
    "Body line one  \r\n"
    "\r\n"
    "two\r\n"
    "\r\n";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string fixture(const std::string& name) {
  return read_file(GOVMAIL_SOURCE_DIR "/tests/data/dkim/" + name + ".eml");
}

// "v=DKIM1; k=rsa; p=..." as a zone line, split into 255-byte character-strings.
std::string txt_line(const std::string& name, const std::string& record) {
  std::string line = name + ". TXT";
  for (std::size_t i = 0; i < record.size(); i += 255) line += " \"" + record.substr(i, 255) + "\"";
  return line;
}

// The records of keys.zone as name -> TXT text (strings joined), for the sans-I/O tests.
std::string zone_record(const std::string& name) {
  std::istringstream in(read_file(GOVMAIL_SOURCE_DIR "/tests/data/dkim/keys.zone"));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with(name + ". TXT ")) continue;
    std::string out;
    bool quoted = false;
    for (char c : line.substr(name.size() + 6)) {
      if (c == '"') {
        quoted = !quoted;
      } else if (quoted) {
        out += c;
      }
    }
    return out;
  }
  throw std::runtime_error("no record for " + name);
}

std::string replace(std::string s, std::string_view from, std::string_view to) {
  auto pos = s.find(from);
  if (pos == std::string::npos) throw std::runtime_error("not found: " + std::string(from));
  return s.replace(pos, from.size(), to);
}

KeyAnswer key_ok(std::string record) {
  return KeyAnswer{KeyStatus::ok, {std::move(record)}, ""};
}

Signer signer(Algorithm alg, const KeyPair& key, std::string selector) {
  auto s = Signer::load(alg, key.private_pem, "govmail.example", std::move(selector));
  if (!s) throw std::runtime_error(s.error());
  return std::move(s).value();
}

std::string sign(const Signer& s, const std::string& message) {
  auto sig = s.sign(message, kNow - 60);
  if (!sig) throw std::runtime_error(sig.error());
  return *sig + message;
}

// One signature, its key record given: the result.
SignatureCheck check_one(const std::string& message, const KeyAnswer& key,
                         std::int64_t now = kNow) {
  auto pending = prepare(message, now);
  if (pending.size() != 1) throw std::runtime_error("expected one signature");
  return finish(pending[0], key);
}

#define EXPECT_DKIM(check, want, reason_part)                       \
  do {                                                              \
    const SignatureCheck c_ = (check);                              \
    EXPECT_EQ(to_string(c_.result), to_string(want)) << c_.reason;  \
    EXPECT_NE(c_.reason.find(reason_part), std::string::npos)       \
        << "reason: " << c_.reason << " wanted: " << (reason_part); \
  } while (0)

// ---- sans-I/O --------------------------------------------------------------------------------

struct Keys {
  KeyPair rsa = generate_key(Algorithm::rsa_sha256).value();
  KeyPair ed = generate_key(Algorithm::ed25519_sha256).value();
};
const Keys& keys() {
  static const Keys k;
  return k;
}

TEST(DkimVerifyCore, OwnSignerBothAlgorithms) {
  for (const KeyPair* k : {&keys().rsa, &keys().ed}) {
    Signer s = signer(k->algorithm, *k, "sel");
    std::string signed_msg = sign(s, kMessage);
    auto pending = prepare(signed_msg, kNow);
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending[0].key_name, "sel._domainkey.govmail.example");
    SignatureCheck c = finish(pending[0], key_ok(dns_txt_record(*k)));
    EXPECT_EQ(c.result, VerifyResult::pass) << c.reason;
    EXPECT_EQ(c.domain, "govmail.example");
    EXPECT_EQ(c.selector, "sel");
    EXPECT_EQ(c.algorithm, to_string(k->algorithm));
    EXPECT_EQ(c.identity, "@govmail.example");
    EXPECT_EQ(c.b_prefix.size(), 8u);
    // Altered body / header.
    EXPECT_DKIM(check_one(replace(signed_msg, "two\r\n", "tw0\r\n"), key_ok(dns_txt_record(*k))),
                VerifyResult::fail, "body hash");
    EXPECT_DKIM(check_one(replace(signed_msg, "12 \r\n", "13 \r\n"), key_ok(dns_txt_record(*k))),
                VerifyResult::fail, "signature did not verify");
    // Relaxed body: trailing whitespace and empty lines may change.
    EXPECT_DKIM(check_one(signed_msg + "\r\n\r\n", key_ok(dns_txt_record(*k))), VerifyResult::pass,
                "");
    // An added From: above (over-signed) breaks it.
    EXPECT_DKIM(check_one("From: evil@x.example\r\n" + signed_msg, key_ok(dns_txt_record(*k))),
                VerifyResult::fail, "signature");
    // The other algorithm's key.
    const KeyPair& other = k == &keys().rsa ? keys().ed : keys().rsa;
    EXPECT_DKIM(check_one(signed_msg, key_ok(dns_txt_record(other))), VerifyResult::permerror,
                "k= does not match");
  }
}

TEST(DkimVerifyCore, DkimpyFixturesPass) {
  for (std::string name :
       {"rsa-simple-simple", "rsa-relaxed-relaxed", "rsa-relaxed-simple", "rsa-relaxed-length",
        "ed25519-relaxed-relaxed", "ed25519-simple-simple"}) {
    SCOPED_TRACE(name);
    std::string msg = fixture(name);
    std::string sel = name.starts_with("rsa") ? "rsa" : "ed";
    KeyAnswer key = key_ok(zone_record(sel + "._domainkey.dkimpy.example"));
    SignatureCheck c = check_one(msg, key);
    EXPECT_EQ(c.result, VerifyResult::pass) << c.reason;
    EXPECT_EQ(c.domain, "dkimpy.example");
    EXPECT_EQ(c.identity, "@dkimpy.example");
    if (name.ends_with("length")) {
      EXPECT_EQ(c.reason, "l= body length limit used");
      // Content appended past l= is not signed: still a pass, noted.
      EXPECT_EQ(check_one(msg + "appended\r\n", key).result, VerifyResult::pass);
    }
    const bool simple_body = name.ends_with("simple");
    // Body altered (inside what is signed).
    EXPECT_DKIM(check_one(replace(msg, "last line", "last lime"), key), VerifyResult::fail,
                "body hash did not verify");
    // Whitespace changed inside a body line: only relaxed tolerates it.
    EXPECT_EQ(check_one(replace(msg, "trailing space \r\n", "trailing  space\r\n"), key).result,
              simple_body ? VerifyResult::fail : VerifyResult::pass);
    // Signed header altered.
    EXPECT_DKIM(check_one(replace(msg, "Message-ID: <fixture@", "Message-ID: <fixturf@"), key),
                VerifyResult::fail, "signature did not verify");
    // An unsigned header added: still a pass.
    EXPECT_EQ(check_one(replace(msg, "Received:", "X-Extra: 1\r\nReceived:"), key).result,
              VerifyResult::pass);
  }
}

// Edge cases on the tags of the dkimpy relaxed RSA signature.
TEST(DkimVerifyCore, SignatureTagTable) {
  const std::string msg = fixture("rsa-relaxed-relaxed");
  const KeyAnswer key = key_ok(zone_record("rsa._domainkey.dkimpy.example"));
  struct Case {
    std::string_view from, to;
    VerifyResult want;
    std::string_view reason;
  };
  const Case cases[] = {
      {"a=rsa-sha256", "a=rsa-sha1", VerifyResult::permerror, "rsa-sha1 not accepted"},
      {"a=rsa-sha256", "a=rsa-sha512", VerifyResult::permerror, "unknown algorithm"},
      {"a=rsa-sha256; ", "", VerifyResult::permerror, "missing tag a="},
      {"s=rsa; ", "", VerifyResult::permerror, "missing tag s="},
      {"d=dkimpy.example;", "", VerifyResult::permerror, "missing tag d="},
      {"v=1;", "v=2;", VerifyResult::permerror, "v= is not 1"},
      {"bh=", "bh=!!", VerifyResult::permerror, "bh="},
      {"b=", "b=%", VerifyResult::permerror, "invalid base64 in b="},
      {"bh=", "bh=AAAA", VerifyResult::permerror, "bh= is not a SHA-256"},
      {"i=@dkimpy.example", "i=@other.example", VerifyResult::permerror, "i= domain is not in d="},
      {"i=@dkimpy.example", "i=@xdkimpy.example", VerifyResult::permerror, "i= domain"},
      {"i=@dkimpy.example", "i=user", VerifyResult::permerror, "i= without"},
      {"c=relaxed/relaxed", "c=relaxed/fancy", VerifyResult::permerror, "canonicalization"},
      {"q=dns/txt", "q=http", VerifyResult::permerror, "q="},
      {"t=", "x=1; t=", VerifyResult::permerror, "x= before t="},
      {"t=", "x=1800000000; t=", VerifyResult::permerror, "signature expired"},
      {"t=", "t=1; t=", VerifyResult::permerror, "duplicate tag t="},
      {"t=", "t=x", VerifyResult::permerror, "invalid t="},
      {"t=", "l=1; t=", VerifyResult::fail, "body hash"},
      {"t=", "l=99999; t=", VerifyResult::fail, "l= larger than the body"},
      {"s=rsa", "s=bad selector", VerifyResult::permerror, "invalid s="},
      {"v=1;", "v=1; 9x=1;", VerifyResult::permerror, "invalid tag name"},
      {"v=1;", "v=1; novalue;", VerifyResult::permerror, "tag without '='"},
      // Accepted variations.
      {"i=@dkimpy.example", "i=someone@sub.dkimpy.example", VerifyResult::fail, "signature"},
      {"v=1;", "v=1; z=From:x; future_tag=1;", VerifyResult::fail, "signature"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.from) + " -> " + std::string(c.to));
    EXPECT_DKIM(check_one(replace(msg, c.from, c.to), key), c.want, c.reason);
  }
  // t= far in the future.
  EXPECT_DKIM(check_one(msg, key, 1700000000), VerifyResult::permerror, "t= in the future");
  // h= without From (the fixture over-signs it: both entries renamed).
  std::string no_from = replace(replace(msg, "h=from", "h=x-from"), ": from;", ": x-from;");
  EXPECT_DKIM(check_one(no_from, key), VerifyResult::permerror, "h= does not include From");
}

TEST(DkimVerifyCore, KeyRecordTable) {
  const std::string msg = fixture("rsa-relaxed-relaxed");
  const std::string good = zone_record("rsa._domainkey.dkimpy.example");
  const std::string p = good.substr(good.find("p=") + 2);
  struct Case {
    std::string record;
    VerifyResult want;
    std::string_view reason;
  };
  const Case cases[] = {
      {good, VerifyResult::pass, ""},
      {"p=" + p, VerifyResult::pass, ""},  // v= and k= are optional
      {"v=DKIM1; k=rsa; h=sha1:sha256; s=email; t=y; n=note; p=" + p, VerifyResult::pass,
       "testing"},
      {"v=DKIM1; k=rsa; p=", VerifyResult::fail, "key revoked"},
      {"v=DKIM1; k=rsa", VerifyResult::permerror, "no p="},
      {"v=DKIM1; k=ed25519; p=" + p, VerifyResult::permerror, "k= does not match"},
      {"v=DKIM1; k=dsa; p=" + p, VerifyResult::permerror, "unknown key type"},
      {"k=rsa; v=DKIM1; p=" + p, VerifyResult::permerror, "v="},
      {"v=DKIM2; p=" + p, VerifyResult::permerror, "v="},
      {"v=DKIM1; h=sha1; p=" + p, VerifyResult::permerror, "h= excludes sha256"},
      {"v=DKIM1; s=tlsrpt; p=" + p, VerifyResult::permerror, "s= excludes email"},
      {"v=DKIM1; s=*; t=s; p=" + p, VerifyResult::pass, ""},
      {"v=DKIM1; p=" + p.substr(0, 20), VerifyResult::permerror, "invalid"},
      {"v=DKIM1; p=" + p + "!", VerifyResult::permerror, "base64"},
      {"v=DKIM1; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAPAPso0Q55Fb/ABT7eZNh6/h+4Osu3rT1g8mD0IluBDKtGKO"
       "o8y+eWoHgcmQ27kjjWzx6JOI4YVAWXLDC67BNd0CAwEAAQ==",
       VerifyResult::permerror, "shorter than 1024"},
      {"v=DKIM1; p;", VerifyResult::permerror, "syntax"},
      {std::string(10000, 'a'), VerifyResult::permerror, "too large"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.record.substr(0, 60));
    EXPECT_DKIM(check_one(msg, key_ok(c.record)), c.want, c.reason);
  }
  // Lookup statuses.
  EXPECT_DKIM(check_one(msg, KeyAnswer{KeyStatus::nxdomain, {}, ""}), VerifyResult::permerror,
              "no key");
  EXPECT_DKIM(check_one(msg, KeyAnswer{KeyStatus::nodata, {}, ""}), VerifyResult::permerror,
              "no key");
  EXPECT_DKIM(check_one(msg, KeyAnswer{KeyStatus::temporary, {}, "timeout"}),
              VerifyResult::temperror, "timeout");
  // Several records: the first DKIM key record is used.
  EXPECT_EQ(check_one(msg, KeyAnswer{KeyStatus::ok, {"v=spf1 -all", good}, ""}).result,
            VerifyResult::pass);
  // t=s with an i= subdomain.
  std::string sub = replace(msg, "i=@dkimpy.example", "i=@sub.dkimpy.example");
  EXPECT_DKIM(check_one(sub, key_ok("v=DKIM1; t=s; p=" + p)), VerifyResult::permerror, "t=s");
}

TEST(DkimVerifyCore, MessageShapes) {
  EXPECT_TRUE(prepare("", kNow).empty());
  EXPECT_TRUE(prepare(kMessage, kNow).empty());  // not signed
  EXPECT_TRUE(prepare("\r\nbody", kNow).empty());
  // A malformed header block with a signature: one permerror.
  auto p = prepare("DKIM-Signature: v=1\r\nno colon here\r\n\r\nbody", kNow);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].check.result, VerifyResult::permerror);
  EXPECT_FALSE(p[0].needs_key());
  // Header block over the limit.
  std::string big = "DKIM-Signature: v=1\r\nX: " + std::string(2000, 'a') + "\r\n\r\nb";
  p = prepare(big, kNow, VerifyLimits{.max_header_bytes = 1000});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].check.reason, "header block over the size limit");
  // At most max_signatures, the topmost ones.
  std::string many = fixture("ed25519-relaxed-relaxed");
  for (int i = 0; i < 7; ++i) many = "DKIM-Signature: v=1; junk\r\n" + many;
  p = prepare(many, kNow);
  EXPECT_EQ(p.size(), 5u);
  // Signature field over its limit.
  std::string huge = "DKIM-Signature: v=1; z=" + std::string(20000, 'a') + "\r\n" + kMessage;
  p = prepare(huge, kNow);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].check.reason, "signature field over the size limit");
}

// ---- through a real unbound ------------------------------------------------------------------

class DkimVerifyDns : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::istringstream in(read_file(GOVMAIL_SOURCE_DIR "/tests/data/dkim/keys.zone"));
    std::vector<std::string> records;
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) records.push_back(line);
    records.push_back(txt_line("rsa._domainkey.govmail.example", dns_txt_record(keys().rsa)));
    records.push_back(txt_line("ed._domainkey.govmail.example", dns_txt_record(keys().ed)));
    // "wrong" publishes a different RSA key than the one that signs.
    records.push_back(txt_line("wrong._domainkey.govmail.example",
                               dns_txt_record(generate_key(Algorithm::rsa_sha256).value())));
    records.push_back(txt_line("revoked._domainkey.govmail.example", "v=DKIM1; k=rsa; p="));
    server_ = new UnboundServer(records);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    core::DnsOptions opts;
    opts.forwarders = {server_->forwarder()};
    opts.timeout = 5s;
    auto r = core::Resolver::create(io.get_executor(), opts);
    ASSERT_TRUE(r) << r.error();
    resolver = *r;
  }
  void TearDown() override { resolver->stop(); }

  std::vector<SignatureCheck> run(const std::string& message, VerifyLimits limits = {}) {
    std::optional<std::vector<SignatureCheck>> out;
    asio::co_spawn(io, verify(*resolver, message, kNow, limits),
                   [&](std::exception_ptr e, std::vector<SignatureCheck> v) {
                     if (e) std::rethrow_exception(e);
                     out = std::move(v);
                     io.stop();
                   });
    io.restart();
    io.run();
    if (!out) throw std::runtime_error("verify did not complete");
    return std::move(*out);
  }

  static UnboundServer* server_;
  asio::io_context io;
  std::shared_ptr<core::Resolver> resolver;
};
UnboundServer* DkimVerifyDns::server_ = nullptr;

TEST_F(DkimVerifyDns, OwnSignerPass) {
  for (const KeyPair* k : {&keys().rsa, &keys().ed}) {
    const std::string sel = k == &keys().rsa ? "rsa" : "ed";
    auto checks = run(sign(signer(k->algorithm, *k, sel), kMessage));
    ASSERT_EQ(checks.size(), 1u);
    EXPECT_EQ(checks[0].result, VerifyResult::pass) << checks[0].reason;
    EXPECT_EQ(checks[0].selector, sel);
  }
}

TEST_F(DkimVerifyDns, DkimpyFixtures) {
  for (std::string name :
       {"rsa-simple-simple", "rsa-relaxed-relaxed", "rsa-relaxed-simple", "rsa-relaxed-length",
        "ed25519-relaxed-relaxed", "ed25519-simple-simple"}) {
    SCOPED_TRACE(name);
    std::string msg = fixture(name);
    auto checks = run(msg);
    ASSERT_EQ(checks.size(), 1u);
    EXPECT_EQ(checks[0].result, VerifyResult::pass) << checks[0].reason;
    checks = run(replace(msg, "last line", "last lime"));
    ASSERT_EQ(checks.size(), 1u);
    EXPECT_DKIM(checks[0], VerifyResult::fail, "body hash");
    checks = run(replace(msg, "Date: Mon", "Date: Tue"));
    ASSERT_EQ(checks.size(), 1u);
    EXPECT_DKIM(checks[0], VerifyResult::fail, "signature did not verify");
  }
}

TEST_F(DkimVerifyDns, NoKeyRevokedAndTwoSignatures) {
  auto checks = run(sign(signer(Algorithm::rsa_sha256, keys().rsa, "missing"), kMessage));
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_DKIM(checks[0], VerifyResult::permerror, "no key for signature");
  checks = run(sign(signer(Algorithm::rsa_sha256, keys().rsa, "revoked"), kMessage));
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_DKIM(checks[0], VerifyResult::fail, "key revoked");
  // Two signatures: the top one made with a key other than the published one, then a good one.
  std::string two = sign(signer(Algorithm::ed25519_sha256, keys().ed, "ed"), kMessage);
  two = sign(signer(Algorithm::rsa_sha256, keys().rsa, "wrong"), two);
  checks = run(two);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_DKIM(checks[0], VerifyResult::fail, "signature did not verify");
  EXPECT_EQ(checks[0].selector, "wrong");
  EXPECT_EQ(checks[1].result, VerifyResult::pass) << checks[1].reason;
  EXPECT_EQ(checks[1].selector, "ed");
  // Unsigned: nothing.
  EXPECT_TRUE(run(kMessage).empty());
  // No lookup after the budget: temperror, the decided ones unchanged.
  checks = run(replace(two, "two\r\n", "tw0\r\n"), VerifyLimits{.lookup_budget = 0ms});
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_DKIM(checks[0], VerifyResult::fail, "body hash");
  EXPECT_DKIM(checks[1], VerifyResult::fail, "body hash");
  checks = run(two, VerifyLimits{.lookup_budget = 0ms});
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_DKIM(checks[0], VerifyResult::temperror, "budget");
  EXPECT_DKIM(checks[1], VerifyResult::temperror, "budget");
}

TEST(DkimVerifyTimeout, ForwarderNeverAnswers) {
  test::SilentPort silent;
  asio::io_context io;
  core::DnsOptions opts;
  opts.forwarders = {silent.forwarder()};
  opts.timeout = 300ms;
  auto resolver = core::Resolver::create(io.get_executor(), opts);
  ASSERT_TRUE(resolver) << resolver.error();
  const std::string msg = sign(signer(Algorithm::ed25519_sha256, keys().ed, "ed"), kMessage);
  std::optional<std::vector<SignatureCheck>> out;
  const auto start = std::chrono::steady_clock::now();
  asio::co_spawn(io, verify(**resolver, msg, kNow),
                 [&](std::exception_ptr e, std::vector<SignatureCheck> v) {
                   if (e) std::rethrow_exception(e);
                   out = std::move(v);
                   io.stop();
                 });
  io.run();
  ASSERT_TRUE(out);
  ASSERT_EQ(out->size(), 1u);
  EXPECT_DKIM((*out)[0], VerifyResult::temperror, "timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  (*resolver)->stop();
}

}  // namespace
}  // namespace govmail::smtp::dkim
