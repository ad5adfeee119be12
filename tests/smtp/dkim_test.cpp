// DKIM signing (RFC 6376, RFC 8463): relaxed canonicalisation tables, the signature field's shape,
// the limits, and every signature checked by an independent verifier, dkimpy (Debian
// python3-dkim) through tests/smtp/dkim_verify.py, which must also reject altered messages.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "smtp/dkim.hpp"

namespace govmail::smtp::dkim {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kNow = 1767225600;  // 2026-01-01; dkimpy refuses t= in the future

// ---- canonicalisation -----------------------------------------------------------------------

TEST(SmtpDkim, Rfc6376Example345) {
  // RFC 6376 3.4.5, relaxed: the header fields and the body of the example.
  EXPECT_EQ(relaxed_header("A: X\r\n"), "a:X\r\n");
  EXPECT_EQ(relaxed_header("B : Y\t\r\n\tZ  \r\n"), "b:Y Z\r\n");
  EXPECT_EQ(relaxed_body(" C \r\nD \t E\r\n\r\n\r\n"), " C\r\nD E\r\n");
}

TEST(SmtpDkim, RelaxedHeaderTable) {
  struct Case {
    std::string_view in, out;
  };
  const Case cases[] = {
      {"Subject: hello", "subject:hello\r\n"},
      {"SUBJECT:hello\r\n", "subject:hello\r\n"},
      {"Subject:   a  \t b   \r\n", "subject:a b\r\n"},
      {"Subject: a\r\n b\r\n\t\tc \r\n", "subject:a b c\r\n"},
      {"To: x@y,\r\n   z@w  \t\r\n", "to:x@y, z@w\r\n"},
      {"X-Empty:\r\n", "x-empty:\r\n"},
      {"X-Empty:   \t \r\n", "x-empty:\r\n"},
      {"X-Colons:: b", "x-colons:: b\r\n"},
      {"From \t: a", "from:a\r\n"},
      {"Subject: C\xc3\xb4ng v\xc4\x83n  s\xe1\xbb\x91",
       "subject:C\xc3\xb4ng v\xc4\x83n s\xe1\xbb\x91\r\n"},
  };
  for (const auto& c : cases) EXPECT_EQ(relaxed_header(c.in), c.out) << c.in;
}

TEST(SmtpDkim, RelaxedBodyTable) {
  struct Case {
    std::string_view in, out;
  };
  const Case cases[] = {
      {"", ""},  // relaxed: an empty body is empty (simple would give CRLF)
      {"\r\n", ""},
      {"\r\n\r\n \t\r\n\t\r\n", ""},
      {"a\r\n", "a\r\n"},
      {"a", "a\r\n"},  // a CRLF is added to a non-empty body without one
      {"a\r\n\r\n\r\n", "a\r\n"},
      {"a  \t\r\nb\r\n", "a\r\nb\r\n"},
      {"a\t\tb  c\r\n", "a b c\r\n"},
      {"  lead\r\n", " lead\r\n"},
      {"a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n"},
      {"a\r\n \r\nb\r\n", "a\r\n\r\nb\r\n"},
      {"a\r\n  \r\n\r\n", "a\r\n"},
      {"..\r\n.x\r\n", "..\r\n.x\r\n"},
      {"a\rb\r\n", "a\rb\r\n"},    // a bare CR is an ordinary character
      {"a \nb\r\n", "a \nb\r\n"},  // and so is a bare LF
      {"a\r", "a\r\r\n"},
      {"a  ", "a\r\n"},  // as if the body ended with CRLF, as it will after SMTP DATA
      {"a\r\n \t", "a\r\n"},
      {"a \r", "a \r\r\n"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(relaxed_body(c.in), c.out) << testing::PrintToString(std::string(c.in));
    if (!c.in.ends_with("\r\n")) {
      EXPECT_EQ(relaxed_body(std::string(c.in) + "\r\n"), c.out) << "with CRLF added";
    }
    // One byte at a time gives the same bytes (STYLE.md 17).
    RelaxedBody rb;
    std::string out;
    for (char ch : c.in) rb.feed(std::string_view(&ch, 1), out);
    rb.finish(out);
    EXPECT_EQ(out, c.out) << "bytewise " << testing::PrintToString(std::string(c.in));
  }
}

// ---- keys and names -------------------------------------------------------------------------

TEST(SmtpDkim, AlgorithmNames) {
  EXPECT_EQ(to_string(Algorithm::rsa_sha256), "rsa-sha256");
  EXPECT_EQ(to_string(Algorithm::ed25519_sha256), "ed25519-sha256");
  EXPECT_EQ(parse_algorithm("rsa"), Algorithm::rsa_sha256);
  EXPECT_EQ(parse_algorithm("RSA-SHA256"), Algorithm::rsa_sha256);
  EXPECT_EQ(parse_algorithm("ed25519"), Algorithm::ed25519_sha256);
  EXPECT_EQ(parse_algorithm("ed25519-sha256"), Algorithm::ed25519_sha256);
  EXPECT_EQ(parse_algorithm("rsa-sha1"), std::nullopt);
  EXPECT_EQ(parse_algorithm(""), std::nullopt);
}

// Keys are generated once for the whole file (RSA 2048 takes a moment).
struct Keys {
  KeyPair rsa, rsa_other, ed, ed_other;
};
const Keys& keys() {
  static const Keys k = [] {
    Keys k;
    k.rsa = *generate_key(Algorithm::rsa_sha256);
    k.rsa_other = *generate_key(Algorithm::rsa_sha256);
    k.ed = *generate_key(Algorithm::ed25519_sha256);
    k.ed_other = *generate_key(Algorithm::ed25519_sha256);
    return k;
  }();
  return k;
}

TEST(SmtpDkim, GeneratedKeysAndRecords) {
  const auto& k = keys();
  EXPECT_TRUE(k.rsa.private_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
  EXPECT_TRUE(k.ed.private_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
  EXPECT_NE(k.rsa.public_b64, k.rsa_other.public_b64);
  // Ed25519: the raw 32-byte key (RFC 8463 4.2) is 44 base64 characters.
  EXPECT_EQ(k.ed.public_b64.size(), 44u);
  EXPECT_EQ(dns_txt_record(k.ed), "v=DKIM1; k=ed25519; p=" + k.ed.public_b64);
  // RSA 2048 SubjectPublicKeyInfo: 294 bytes of DER, 392 characters.
  EXPECT_EQ(k.rsa.public_b64.size(), 392u);
  EXPECT_TRUE(k.rsa.public_b64.starts_with("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"));
  EXPECT_EQ(dns_txt_record(k.rsa), "v=DKIM1; k=rsa; p=" + k.rsa.public_b64);
  // A loaded signer derives the same public key.
  auto s = Signer::load(Algorithm::ed25519_sha256, k.ed.private_pem, "example.gov.vn", "ed1");
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(s->public_b64(), k.ed.public_b64);
}

TEST(SmtpDkim, LoadRefusesBadKeysWithoutQuotingThem) {
  const auto& k = keys();
  auto no_key_text = [&](const std::string& error) {
    EXPECT_EQ(error.find("BEGIN"), std::string::npos) << error;
    EXPECT_EQ(error.find(k.rsa.private_pem.substr(40, 20)), std::string::npos) << error;
    EXPECT_EQ(error.find(k.ed.private_pem.substr(40, 20)), std::string::npos) << error;
  };
  auto r = Signer::load(Algorithm::ed25519_sha256, k.rsa.private_pem, "example.gov.vn", "s");
  ASSERT_FALSE(r);
  no_key_text(r.error());
  r = Signer::load(Algorithm::rsa_sha256, k.ed.private_pem, "example.gov.vn", "s");
  ASSERT_FALSE(r);
  no_key_text(r.error());
  std::string broken = k.rsa.private_pem;
  broken[100] = broken[100] == 'A' ? 'B' : 'A';
  broken.erase(200, 30);
  r = Signer::load(Algorithm::rsa_sha256, broken, "example.gov.vn", "s");
  ASSERT_FALSE(r);
  no_key_text(r.error());
  r = Signer::load(Algorithm::rsa_sha256, "", "example.gov.vn", "s");
  EXPECT_FALSE(r);
  // Domain and selector go into the header field: nothing that could break out of a tag.
  for (std::string_view bad : {"", "a..b", "a;b", "a b", ".a", "a.", "a\r\nX: y"}) {
    EXPECT_FALSE(Signer::load(Algorithm::rsa_sha256, k.rsa.private_pem, std::string(bad), "s"))
        << bad;
    EXPECT_FALSE(
        Signer::load(Algorithm::rsa_sha256, k.rsa.private_pem, "example.gov.vn", std::string(bad)))
        << bad;
  }
}

// ---- the signature field --------------------------------------------------------------------

// Tag values of a DKIM-Signature field (unfolded, whitespace removed).
std::map<std::string, std::string> tags(std::string field) {
  std::string flat;
  for (char c : field.substr(field.find(':') + 1))
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') flat += c;
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos < flat.size()) {
    auto semi = flat.find(';', pos);
    if (semi == std::string::npos) semi = flat.size();
    auto item = flat.substr(pos, semi - pos);
    auto eq = item.find('=');
    if (eq != std::string::npos) out[item.substr(0, eq)] = item.substr(eq + 1);
    pos = semi + 1;
  }
  return out;
}

Signer signer(Algorithm alg, const KeyPair& key, Limits limits = {}) {
  auto s = Signer::load(alg, key.private_pem, "example.gov.vn", "sel2026", limits);
  EXPECT_TRUE(s) << s.error();
  return std::move(s).value();
}

TEST(SmtpDkim, FieldShape) {
  auto s = signer(Algorithm::rsa_sha256, keys().rsa);
  const std::string msg =
      "From: An <an@example.gov.vn>\r\nTo: binh@bo.gov.vn\r\nSubject: hi\r\n"
      "Date: Thu, 1 Jan 2026 00:00:00 +0700\r\nX-Other: 1\r\nReceived: x\r\n\r\nbody\r\n";
  auto f = s.sign(msg, kNow);
  ASSERT_TRUE(f) << f.error();
  const std::string& field = *f;
  EXPECT_TRUE(field.starts_with("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;")) << field;
  EXPECT_TRUE(field.ends_with("\r\n"));
  std::size_t pos = 0;
  while (pos < field.size()) {  // every line under 78 characters, continuation lines folded
    auto end = field.find("\r\n", pos);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LT(end - pos, 78u) << field;
    if (pos > 0) {
      EXPECT_EQ(field[pos], '\t');
    }
    pos = end + 2;
  }
  auto t = tags(field);
  EXPECT_EQ(t["d"], "example.gov.vn");
  EXPECT_EQ(t["s"], "sel2026");
  EXPECT_EQ(t["t"], std::to_string(kNow));
  EXPECT_EQ(t["h"], "from:from:subject:subject:date:date:to:to:cc");
  EXPECT_EQ(t.count("l"), 0u);
  EXPECT_EQ(t.count("x"), 0u);
  EXPECT_EQ(t["b"].size(), 344u);                                      // 2048-bit signature
  EXPECT_EQ(t["bh"], "Ck5SoRNWUpSR4X0COv7R5ub2pUTtl6xz4dTFz++ji4M=");  // sha256("body\r\n")
}

TEST(SmtpDkim, EmptyBodyHashIsTheHashOfNothing) {
  auto s = signer(Algorithm::ed25519_sha256, keys().ed);
  for (std::string_view msg :
       {"From: a@example.gov.vn\r\n\r\n", "From: a@example.gov.vn\r\n", "From: a@example.gov.vn",
        "From: a@example.gov.vn\r\n\r\n\r\n\r\n"}) {
    auto f = s.sign(msg, kNow);
    ASSERT_TRUE(f) << f.error();
    EXPECT_EQ(tags(*f)["bh"], "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=") << msg;
  }
}

TEST(SmtpDkim, SignsEveryListedFieldBottomUp) {
  auto s = signer(Algorithm::ed25519_sha256, keys().ed);
  const std::string msg =
      "Received: a\r\nfrom: a@example.gov.vn\r\nSender: s@example.gov.vn\r\nReply-To: r@x\r\n"
      "Subject: s\r\nDate: d\r\nMessage-ID: <1@x>\r\nTo: t@x\r\nCc: c@x\r\nIn-Reply-To: <0@x>\r\n"
      "References: <0@x>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n"
      "Content-Transfer-Encoding: 8bit\r\nList-Id: l\r\nList-Unsubscribe: <mailto:u@x>\r\n"
      "Auto-Submitted: auto-generated\r\nTo: t2@x\r\nX-Mailer: m\r\n\r\n";
  auto f = s.sign(msg, kNow);
  ASSERT_TRUE(f) << f.error();
  EXPECT_EQ(tags(*f)["h"],
            "from:from:sender:reply-to:subject:subject:date:date:message-id:to:to:to:cc:cc:"
            "in-reply-to:references:mime-version:content-type:content-transfer-encoding:list-id:"
            "list-unsubscribe:auto-submitted");
}

TEST(SmtpDkim, RefusesMalformedAndOversizedHeaders) {
  auto s = signer(Algorithm::ed25519_sha256, keys().ed,
                  {.max_header_bytes = 4096, .max_header_fields = 10});
  auto err = [&](std::string_view msg) {
    auto r = s.sign(msg, kNow);
    return r ? std::string("(signed)") : r.error();
  };
  EXPECT_NE(err("To: a@x\r\n\r\nbody\r\n").find("no From"), std::string::npos);
  EXPECT_NE(err("\r\nFrom: a@x\r\n").find("no From"), std::string::npos);
  EXPECT_NE(err("").find("no From"), std::string::npos);
  EXPECT_NE(err("From: a@x\r\nFROM: b@x\r\n\r\n").find("more than one From"), std::string::npos);
  EXPECT_NE(err("From: a@x\r\nnot a header\r\n\r\n").find("colon"), std::string::npos);
  EXPECT_NE(err(" From: a@x\r\n\r\n").find("continuation"), std::string::npos);
  EXPECT_NE(err(": x\r\nFrom: a@x\r\n\r\n").find("without a name"), std::string::npos);
  EXPECT_NE(err("Fr om: a@x\r\n\r\n").find("invalid characters"), std::string::npos);
  EXPECT_NE(err("From: a@x\nTo: b@x\r\n\r\n").find("bare CR or LF"), std::string::npos);
  std::string many = "From: a@x\r\n";
  for (int i = 0; i < 10; ++i) many += "X: y\r\n";
  EXPECT_NE(err(many + "\r\n").find("more header fields"), std::string::npos);
  std::string big = "From: a@x\r\nX: " + std::string(5000, 'y') + "\r\n\r\nbody";
  EXPECT_NE(err(big).find("larger than the limit"), std::string::npos);
  EXPECT_NE(err(big.substr(0, 4500)).find("larger than the limit"), std::string::npos);
  // Within the limits the same shapes sign; a big body is not part of the header limit.
  EXPECT_EQ(err("From: a@x\r\n\r\n" + std::string(100000, 'b')), "(signed)");
  EXPECT_EQ(err("From: a@x\r\nX: " + std::string(4000, 'y') + "\r\n\r\n"), "(signed)");
}

TEST(SmtpDkim, SignIsThreadSafe) {
  auto s = signer(Algorithm::ed25519_sha256, keys().ed);  // Ed25519 is deterministic
  const std::string msg = "From: a@example.gov.vn\r\nSubject: x\r\n\r\nbody\r\n";
  const std::string expected = *s.sign(msg, kNow);
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (auto& g : got)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto r = s.sign(msg, kNow);
        g = r ? *r : r.error();
        if (g != expected) return;
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, expected);
}

// ---- verification by dkimpy -----------------------------------------------------------------

class DkimVerify : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    have_dkimpy_ = std::system("/usr/bin/python3 -c 'import dkim, nacl' >/dev/null 2>&1") == 0;
  }
  void SetUp() override {
    if (!have_dkimpy_) GTEST_SKIP() << "/usr/bin/python3 lacks python3-dkim or python3-nacl";
    std::string tmpl = (fs::temp_directory_path() / "govmail-dkim-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Exit status of dkim_verify.py on `message` with `record` published at the signer's name.
  int verify(const std::string& message, const std::string& record) {
    write(dir_ / "msg.eml", message);
    write(dir_ / "key.txt", record);
    const std::string cmd = "/usr/bin/python3 " GOVMAIL_SOURCE_DIR "/tests/smtp/dkim_verify.py '" +
                            (dir_ / "msg.eml").string() + "' '" + (dir_ / "key.txt").string() +
                            "' sel2026._domainkey.example.gov.vn 2>'" +
                            (dir_ / "err.txt").string() + "'";
    int status = std::system(cmd.c_str());
    last_error_ = read(dir_ / "err.txt");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  }

  static void write(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  static std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  static inline bool have_dkimpy_ = false;
  fs::path dir_;
  std::string last_error_;
};

struct Sample {
  const char* name;
  std::string message;
};

std::vector<Sample> samples() {
  std::vector<Sample> v;
  v.push_back({"simple",
               "From: An Nguyen <an@example.gov.vn>\r\nTo: binh@bo.gov.vn\r\n"
               "Subject: Hello\r\nDate: Thu, 01 Jan 2026 08:00:00 +0700\r\n"
               "Message-ID: <1.abc@example.gov.vn>\r\nMIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=us-ascii\r\n\r\nHello Binh,\r\n\r\nAn\r\n"});
  v.push_back({"folded and trailing whitespace",
               "From: An <an@example.gov.vn>  \t\r\nTo: binh@bo.gov.vn,\r\n  chi@bo.gov.vn ,\r\n"
               "\tdung@bo.gov.vn\t\r\nSubject:   a   subject\t\r\n   folded  \t over \r\n"
               "\tthree lines  \r\nCc:\r\n\tcc@bo.gov.vn\r\n"
               "Content-Type: text/plain;\r\n charset=utf-8\r\n\r\n"
               "line with trailing spaces   \r\nline\twith\t\ttabs\t\r\n  \t leading\r\n"
               "\t\r\nlast\r\n"});
  v.push_back({"empty body", "From: an@example.gov.vn\r\nSubject: empty\r\n\r\n"});
  v.push_back({"headers only", "From: an@example.gov.vn\r\nSubject: no separator\r\n"});
  v.push_back({"trailing empty lines",
               "From: an@example.gov.vn\r\nSubject: t\r\n\r\ntext\r\n\r\n\r\n \r\n\t\r\n\r\n"});
  v.push_back({"vietnamese 8-bit",
               "From: =?UTF-8?B?Tmd1eeG7hW4gVsSDbiBBbg==?= <an@example.gov.vn>\r\n"
               "To: Tr\xe1\xba\xa7n Th\xe1\xbb\x8b B\xc3\xacnh <binh@bo.gov.vn>\r\n"
               "Subject: C\xc3\xb4ng v\xc4\x83n s\xe1\xbb\x91 12/UBND v\xe1\xbb\x81 vi\xe1\xbb\x87"
               "c tri\xe1\xbb\x83n khai\r\nMIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
               "K\xc3\xadnh g\xe1\xbb\xadi \xc4\x91\xe1\xbb\x93ng ch\xc3\xad,\r\n\r\n"
               "\xe1\xbb\xa6y ban nh\xc3\xa2n d\xc3\xa2n t\xe1\xbb\x89nh \xc4\x91\xe1\xbb\x81 "
               "ngh\xe1\xbb\x8b"
               "  \xe2\x80\xa6 \r\n"});
  std::string big = "From: an@example.gov.vn\r\nSubject: big\r\n\r\n";
  for (int i = 0; big.size() < 2 * 1024 * 1024; ++i)
    big += "line " + std::to_string(i) + std::string(60, i % 7 == 0 ? ' ' : 'x') + "\r\n";
  v.push_back({"2 MB body", std::move(big)});
  v.push_back({"dot lines",
               "From: an@example.gov.vn\r\nSubject: dots\r\n\r\n.\r\n..\r\n.leading dot\r\n"
               ". \r\n...\r\n"});
  return v;
}

struct AlgCase {
  Algorithm alg;
  const KeyPair* key;
  const KeyPair* other;
};
std::vector<AlgCase> algorithms() {
  return {{Algorithm::rsa_sha256, &keys().rsa, &keys().rsa_other},
          {Algorithm::ed25519_sha256, &keys().ed, &keys().ed_other}};
}

TEST_F(DkimVerify, DkimpyVerifiesEverySample) {
  for (const auto& a : algorithms()) {
    auto s = signer(a.alg, *a.key);
    const std::string record = dns_txt_record(*a.key);
    for (const auto& m : samples()) {
      SCOPED_TRACE(std::string(to_string(a.alg)) + " / " + m.name);
      auto f = s.sign(m.message, kNow);
      ASSERT_TRUE(f) << f.error();
      EXPECT_EQ(verify(*f + m.message, record), 0) << last_error_ << *f;
    }
  }
}

// A body without its final CRLF (possible through BDAT) is signed as it will read once SMTP DATA
// has added the CRLF.
TEST_F(DkimVerify, UnterminatedBodyVerifiesOnceTheCrlfIsAdded) {
  const std::string msg = "From: an@example.gov.vn\r\nSubject: u\r\n\r\nline\r\nlast line  \t";
  for (const auto& a : algorithms()) {
    SCOPED_TRACE(std::string(to_string(a.alg)));
    auto s = signer(a.alg, *a.key);
    auto f = s.sign(msg, kNow);
    ASSERT_TRUE(f) << f.error();
    EXPECT_EQ(verify(*f + msg + "\r\n", dns_txt_record(*a.key)), 0) << last_error_;
  }
}

TEST_F(DkimVerify, DkimpyRejectsAlteredMessages) {
  const std::string msg = samples()[0].message;
  for (const auto& a : algorithms()) {
    SCOPED_TRACE(std::string(to_string(a.alg)));
    auto s = signer(a.alg, *a.key);
    const std::string record = dns_txt_record(*a.key);
    const std::string signed_msg = *s.sign(msg, kNow) + msg;
    ASSERT_EQ(verify(signed_msg, record), 0) << last_error_;

    std::string body_byte = signed_msg;
    body_byte[body_byte.find("Hello Binh")] = 'J';
    EXPECT_EQ(verify(body_byte, record), 1);
    EXPECT_NE(last_error_.find("body hash mismatch"), std::string::npos) << last_error_;

    std::string subject = signed_msg;
    subject.replace(subject.find("Subject: Hello"), 14, "Subject: Hellp");
    EXPECT_EQ(verify(subject, record), 1) << last_error_;

    EXPECT_EQ(verify("From: evil@attacker.example\r\n" + signed_msg, record), 1) << last_error_;
    EXPECT_EQ(verify("Subject: Urgent\r\n" + signed_msg, record), 1) << last_error_;
    EXPECT_EQ(verify("Cc: extra@attacker.example\r\n" + signed_msg, record), 1)
        << last_error_;  // null-signed
    std::string appended = signed_msg;
    appended += "P.S. appended\r\n";
    EXPECT_EQ(verify(appended, record), 1) << last_error_;  // no l=

    EXPECT_EQ(verify(signed_msg, dns_txt_record(*a.other)), 1) << last_error_;  // wrong key

    // Controls: what relaxed canonicalisation allows still verifies.
    EXPECT_EQ(verify("X-Spam-Score: 0\r\n" + signed_msg, record), 0) << last_error_;
    std::string rewrapped = signed_msg;
    rewrapped.replace(rewrapped.find("Subject: Hello"), 14, "subject:\r\n   Hello   ");
    EXPECT_EQ(verify(rewrapped, record), 0) << last_error_;
    EXPECT_EQ(verify(signed_msg + "\r\n\r\n", record), 0) << last_error_;
  }
}

}  // namespace
}  // namespace govmail::smtp::dkim
