// DKIM private keys at rest, against a real PostgreSQL: what the database holds is sealed (not the
// PEM, not the key bytes) and opens back to the key that signs; keys stored unencrypted before
// sealing existed are sealed when signing starts; a wrong or missing master key is refused with
// a clear reason; a sealed key moved to another domain's row does not open.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/secret_box.hpp"
#include "smtp/dkim.hpp"
#include "smtp/dkim_vault.hpp"
#include "smtp/src/outbound/message.hpp"
#include "tests/store/store_fixture.hpp"

namespace govmail::store::testing {
namespace {

namespace fs = std::filesystem;

class DkimVaultTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    dir_ = fs::temp_directory_path() /
           ("govmail-vault-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    cfg_.dkim_master_key_file = dir_ / "master.key";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string stored(const std::string& selector) {
    return q("SELECT private_pem FROM dkim_keys WHERE selector = '" + selector + "'");
  }
  // A key stored as `govmail admin dkim generate` stores it: sealed under `master`.
  smtp::dkim::KeyPair add_sealed(const core::SecretBox& master, const std::string& domain,
                                 const std::string& selector) {
    auto pair = smtp::dkim::generate_key(smtp::dkim::Algorithm::ed25519_sha256);
    EXPECT_TRUE(pair.ok());
    DkimKey k;
    k.domain = domain;
    k.selector = selector;
    k.algorithm = "ed25519-sha256";
    k.private_pem = smtp::dkim::seal_private_key(master, domain, selector, pair->private_pem);
    k.public_b64 = pair->public_b64;
    EXPECT_TRUE(run(db_->outbound().add_dkim_key(k)).ok());
    return *pair;
  }
  void write_key_file(const std::string& text, mode_t mode = 0600) {
    std::ofstream(cfg_.dkim_master_key_file) << text;
    ::chmod(cfg_.dkim_master_key_file.c_str(), mode);
  }

  fs::path dir_;
  core::OutboundConfig cfg_;
};

TEST_F(DkimVaultTest, StoredKeyIsSealedAndOpensBackToTheSigningKey) {
  cfg_.dkim_master_key_create = true;
  auto master = run(smtp::dkim::prepare_keys(cfg_, db_->outbound()));
  ASSERT_TRUE(master.ok()) << master.error();
  ASSERT_TRUE(*master);
  struct stat st {};
  ASSERT_EQ(::stat(cfg_.dkim_master_key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // created readable by its owner only

  const auto pair = add_sealed(**master, "so.gov.vn", "s1");
  const std::string column = stored("s1");
  EXPECT_TRUE(column.starts_with("sealed1:")) << column.substr(0, 20);
  EXPECT_EQ(column.find("BEGIN"), std::string::npos);
  EXPECT_EQ(column.find(pair.private_pem.substr(30, 40)), std::string::npos);

  auto keys = run(db_->outbound().dkim_keys("so.gov.vn"));
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  auto pem = smtp::dkim::private_key_pem(master->get(), (*keys)[0]);
  ASSERT_TRUE(pem.ok()) << pem.error();
  EXPECT_EQ(*pem, pair.private_pem);
  auto signer =
      smtp::dkim::Signer::load(smtp::dkim::Algorithm::ed25519_sha256, *pem, "so.gov.vn", "s1");
  ASSERT_TRUE(signer.ok());
  EXPECT_EQ(signer->public_b64(), pair.public_b64);

  // The same file loads again (a restart) and the key still opens: nothing was re-created.
  auto again = run(smtp::dkim::prepare_keys(cfg_, db_->outbound()));
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_TRUE(smtp::dkim::private_key_pem(again->get(), (*keys)[0]).ok());
}

TEST_F(DkimVaultTest, AMissingFileIsCreatedOnlyWhereAllowed) {
  auto refused = run(smtp::dkim::prepare_keys(cfg_, db_->outbound()));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("does not exist: create it with (umask 077; openssl rand -hex 32"),
            std::string::npos)
      << refused.error();
  EXPECT_FALSE(fs::exists(cfg_.dkim_master_key_file));
  core::OutboundConfig none;  // no file configured and no keys: nothing to do
  auto nothing = run(smtp::dkim::prepare_keys(none, db_->outbound()));
  ASSERT_TRUE(nothing.ok());
  EXPECT_FALSE(*nothing);
}

TEST_F(DkimVaultTest, PlaintextKeysFromBeforeSealingAreSealedWhenSigningStarts) {
  auto pair = smtp::dkim::generate_key(smtp::dkim::Algorithm::rsa_sha256);
  ASSERT_TRUE(pair.ok());
  DkimKey k;
  k.domain = "hue.gov.vn";
  k.selector = "old";
  k.algorithm = "rsa-sha256";
  k.private_pem = pair->private_pem;  // as versions before sealing stored it
  k.public_b64 = pair->public_b64;
  ASSERT_TRUE(run(db_->outbound().add_dkim_key(k)).ok());
  ASSERT_TRUE(stored("old").starts_with("-----BEGIN"));

  // Without a master key such a key keeps the server from starting, with what to do.
  core::OutboundConfig none;
  auto refused = run(smtp::dkim::prepare_keys(none, db_->outbound()));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("DKIM key old of hue.gov.vn is stored unencrypted"),
            std::string::npos)
      << refused.error();
  EXPECT_NE(refused.error().find("outbound.dkim_master_key_file"), std::string::npos);
  EXPECT_TRUE(stored("old").starts_with("-----BEGIN"));

  cfg_.dkim_master_key_create = true;
  auto master = run(smtp::dkim::prepare_keys(cfg_, db_->outbound()));
  ASSERT_TRUE(master.ok()) << master.error();
  const std::string column = stored("old");
  EXPECT_TRUE(column.starts_with("sealed1:"));
  EXPECT_EQ(column.find("BEGIN"), std::string::npos);
  auto keys = run(db_->outbound().dkim_keys("hue.gov.vn"));
  auto pem = smtp::dkim::private_key_pem(master->get(), (*keys)[0]);
  ASSERT_TRUE(pem.ok()) << pem.error();
  EXPECT_EQ(*pem, pair->private_pem);
}

TEST_F(DkimVaultTest, WrongOrMissingMasterKeyIsRefusedClearly) {
  write_key_file(std::string(64, 'a') + "\n");
  auto first = run(smtp::dkim::prepare_keys(cfg_, db_->outbound()));
  ASSERT_TRUE(first.ok()) << first.error();
  add_sealed(**first, "so.gov.vn", "s1");

  write_key_file(std::string(64, 'b') + "\n");  // another key
  auto wrong = run(smtp::dkim::prepare_keys(cfg_, db_->outbound()));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().find("DKIM key s1 of so.gov.vn does not decrypt"), std::string::npos)
      << wrong.error();
  EXPECT_NE(wrong.error().find("outbound.dkim_master_key_file"), std::string::npos);

  // A missing file is not silently replaced by a new key, even where creation is allowed.
  fs::remove(cfg_.dkim_master_key_file);
  cfg_.dkim_master_key_create = true;
  auto missing = run(smtp::dkim::prepare_keys(cfg_, db_->outbound()));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("is missing, and DKIM key s1 of so.gov.vn is sealed under it"),
            std::string::npos)
      << missing.error();
  EXPECT_FALSE(fs::exists(cfg_.dkim_master_key_file));
  cfg_.dkim_master_key_create = false;
  missing = run(smtp::dkim::prepare_keys(cfg_, db_->outbound()));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("is missing, and DKIM key s1 of so.gov.vn is sealed under it"),
            std::string::npos)
      << missing.error();

  // Not set at all while a sealed key is stored.
  core::OutboundConfig none;
  auto unset = run(smtp::dkim::prepare_keys(none, db_->outbound()));
  ASSERT_FALSE(unset.ok());
  EXPECT_NE(unset.error().find("is sealed but outbound.dkim_master_key_file is not set"),
            std::string::npos)
      << unset.error();

  // A malformed or world-readable file.
  write_key_file("not hex\n");
  auto bad = run(smtp::dkim::prepare_keys(cfg_, db_->outbound()));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("must hold 64 hexadecimal characters"), std::string::npos);
  write_key_file(std::string(64, 'a') + "\n", 0644);
  auto open = run(smtp::dkim::prepare_keys(cfg_, db_->outbound()));
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.error().find("readable or writable by other users"), std::string::npos);
}

TEST_F(DkimVaultTest, ASealedKeyMovedToAnotherRowDoesNotOpen) {
  cfg_.dkim_master_key_create = true;
  auto master = run(smtp::dkim::prepare_keys(cfg_, db_->outbound()));
  ASSERT_TRUE(master.ok()) << master.error();
  add_sealed(**master, "so.gov.vn", "s1");
  add_sealed(**master, "evil.gov.vn", "s1");
  // Someone with write access to the table copies so.gov.vn's sealed key into evil.gov.vn's row.
  tdb_.exec(
      "UPDATE dkim_keys SET private_pem = (SELECT private_pem FROM dkim_keys WHERE domain ="
      " 'so.gov.vn') WHERE domain = 'evil.gov.vn'");
  auto keys = run(db_->outbound().dkim_keys("evil.gov.vn"));
  auto pem = smtp::dkim::private_key_pem(master->get(), (*keys)[0]);
  ASSERT_FALSE(pem.ok());
  EXPECT_NE(pem.error().find("DKIM key s1 of evil.gov.vn does not decrypt"), std::string::npos);
}

awaitable<bool> reload(smtp::outbound::DkimKeys& keys, OutboundQueue& queue) {
  co_await keys.reload(queue);
  co_return true;  // run() wants a value
}

// While serving: a key that does not open (made under another master key, or its row altered)
// makes its domain's mail an error to defer, never a message sent unsigned; other domains sign.
TEST_F(DkimVaultTest, OutboundDefersMailOfADomainWhoseKeyDoesNotOpen) {
  cfg_.dkim_master_key_create = true;
  auto master = run(smtp::dkim::prepare_keys(cfg_, db_->outbound()));
  ASSERT_TRUE(master.ok()) << master.error();
  add_sealed(**master, "so.gov.vn", "s1");
  add_sealed(**master, "evil.gov.vn", "s1");
  tdb_.exec(
      "UPDATE dkim_keys SET private_pem = (SELECT private_pem FROM dkim_keys WHERE domain ="
      " 'so.gov.vn') WHERE domain = 'evil.gov.vn'");
  smtp::outbound::DkimKeys keys;
  keys.set_master(*master);
  run(reload(keys, db_->outbound()));
  const std::string good = "From: a@so.gov.vn\r\nSubject: x\r\n\r\nbody\r\n";
  auto signed_ = keys.prepare(good, true, 1700000000);
  ASSERT_TRUE(signed_.ok()) << signed_.error();
  EXPECT_TRUE(signed_->starts_with("DKIM-Signature:"));
  EXPECT_NE(signed_->find("d=so.gov.vn"), std::string::npos);
  const std::string bad = "From: a@evil.gov.vn\r\nSubject: x\r\n\r\nbody\r\n";
  auto refused = keys.prepare(bad, true, 1700000000);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("DKIM key s1 of evil.gov.vn does not decrypt"), std::string::npos)
      << refused.error();
  EXPECT_TRUE(keys.prepare(bad, false, 1700000000).ok());  // signing off: sent as it is
  const std::string other = "From: a@hue.gov.vn\r\nSubject: x\r\n\r\nbody\r\n";
  EXPECT_EQ(*keys.prepare(other, true, 1700000000), other);  // no key: unsigned, as before

  smtp::outbound::DkimKeys without_master;  // sealed keys and no master key
  run(reload(without_master, db_->outbound()));
  auto none = without_master.prepare(good, true, 1700000000);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().find("outbound.dkim_master_key_file is not set"), std::string::npos);
}

}  // namespace
}  // namespace govmail::store::testing
