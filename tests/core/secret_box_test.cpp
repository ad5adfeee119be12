// SecretBox: sealed values open only with their key and associated data, survive no alteration,
// and never show the plaintext; master key files are read strictly.
#include "core/secret_box.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace govmail::core {
namespace {

std::array<std::uint8_t, SecretBox::kKeyBytes> key_of(std::uint8_t b) {
  std::array<std::uint8_t, SecretBox::kKeyBytes> k{};
  k.fill(b);
  return k;
}

TEST(SecretBox, SealsAndOpensWithTheSameKeyAndAssociatedData) {
  auto box = SecretBox::from_key(key_of(1));
  const std::string secret = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n";
  const std::string sealed = box->seal(secret, "so.gov.vn/s1");
  EXPECT_TRUE(SecretBox::is_sealed(sealed));
  EXPECT_FALSE(SecretBox::is_sealed(secret));
  EXPECT_EQ(sealed.find("BEGIN"), std::string::npos);
  EXPECT_EQ(*box->open(sealed, "so.gov.vn/s1"), secret);
  EXPECT_NE(box->seal(secret, "so.gov.vn/s1"), sealed);  // a fresh nonce every time
  EXPECT_EQ(*box->open(box->seal("", "x"), "x"), "");
}

TEST(SecretBox, RefusesAnotherKeyOtherAssociatedDataAndAlteredValues) {
  auto box = SecretBox::from_key(key_of(1));
  const std::string sealed = box->seal("secret", "so.gov.vn/s1");
  EXPECT_FALSE(SecretBox::from_key(key_of(2))->open(sealed, "so.gov.vn/s1").ok());
  EXPECT_FALSE(box->open(sealed, "evil.gov.vn/s1").ok());
  std::string flipped = sealed;
  flipped[20] = flipped[20] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(box->open(flipped, "so.gov.vn/s1").ok());
  EXPECT_EQ(box->open(sealed.substr(0, 20), "so.gov.vn/s1").error(), "sealed value is damaged");
  EXPECT_EQ(box->open("sealed1:!!!!", "a").error(), "sealed value is damaged");
  EXPECT_EQ(box->open("-----BEGIN", "a").error(), "not a sealed value");
}

TEST(SecretBox, KeyFilesAreCreatedPrivateAndReadStrictly) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("govmail-sb-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path file = dir / "k";
  ASSERT_TRUE(SecretBox::create(file).ok());
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(fs::file_size(file), 65u);         // 64 hex characters and a newline
  EXPECT_FALSE(SecretBox::create(file).ok());  // never overwritten
  auto a = SecretBox::load(file);
  ASSERT_TRUE(a.ok()) << a.error();
  auto b = SecretBox::load(file);
  EXPECT_EQ(*(*b)->open((*a)->seal("x", "y"), "y"), "x");  // the same key read twice

  auto write = [&](const std::string& text, mode_t mode) {
    fs::remove(file);
    std::ofstream(file) << text;
    ::chmod(file.c_str(), mode);
    return SecretBox::load(file);
  };
  EXPECT_TRUE(write("  " + std::string(64, 'F') + "\r\n", 0600).ok());
  EXPECT_TRUE(write(std::string(64, 'f'), 0640).ok());  // group-readable is allowed
  EXPECT_NE(write(std::string(64, 'f'), 0604).error().find("readable or writable by other"),
            std::string::npos);
  EXPECT_NE(write(std::string(63, 'f'), 0600).error().find("64 hexadecimal"), std::string::npos);
  EXPECT_NE(write(std::string(64, 'g'), 0600).error().find("64 hexadecimal"), std::string::npos);
  EXPECT_NE(write(std::string(32, 'f') + " " + std::string(32, 'f'), 0600).error().find("64 hex"),
            std::string::npos);
  EXPECT_NE(write(std::string(5000, 'f'), 0600).error().find("too big"), std::string::npos);
  EXPECT_NE(SecretBox::load(dir).error().find("is not a file"), std::string::npos);
  EXPECT_NE(SecretBox::load(dir / "none").error().find("No such file"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace govmail::core
