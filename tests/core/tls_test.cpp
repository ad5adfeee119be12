#include "core/tls.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ssl.hpp>
#include <fstream>
#include <sstream>

#include "core/asio.hpp"

namespace govmail::core {
namespace {

namespace fs = std::filesystem;
namespace ssl = boost::asio::ssl;
using boost::asio::ip::tcp;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("govmail-tls-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    cfg_.cert_file = dir_ / "tls/cert.pem";  // tls/ does not exist yet: must be created
    cfg_.key_file = dir_ / "tls/key.pem";
    cfg_.self_signed = true;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  struct Handshake {
    boost::system::error_code server_error, client_error;
    std::string version;  // negotiated by the client
    std::string echoed;
  };

  // One real TLS connection over loopback: the server echoes one line.
  Handshake connect(const TlsContext& server_ctx, const TlsContext& client_ctx,
                    const std::string& verify_name) {
    asio::io_context io;
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    Handshake out;
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          ssl::stream<tcp::socket> s(co_await acceptor.async_accept(use_awaitable), *server_ctx);
          co_await s.async_handshake(ssl::stream_base::server,
                                     asio::redirect_error(use_awaitable, out.server_error));
          if (out.server_error) co_return;
          std::string line;
          co_await asio::async_read_until(s, asio::dynamic_buffer(line), '\n', use_awaitable);
          co_await asio::async_write(s, asio::buffer(line), use_awaitable);
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          ssl::stream<tcp::socket> s(io, *client_ctx);
          s.set_verify_callback(ssl::host_name_verification(verify_name));
          SSL_set_tlsext_host_name(s.native_handle(), verify_name.c_str());
          co_await s.next_layer().async_connect(acceptor.local_endpoint(), use_awaitable);
          co_await s.async_handshake(ssl::stream_base::client,
                                     asio::redirect_error(use_awaitable, out.client_error));
          if (out.client_error) {
            acceptor.close();
            co_return;
          }
          out.version = SSL_get_version(s.native_handle());
          co_await asio::async_write(s, asio::buffer(std::string("ping\n")), use_awaitable);
          co_await asio::async_read_until(s, asio::dynamic_buffer(out.echoed), '\n', use_awaitable);
        },
        asio::detached);
    io.run_for(std::chrono::seconds(10));
    return out;
  }

  fs::path dir_;
  TlsConfig cfg_;
};

TEST_F(TlsTest, SelfSignedCertificateHasTheNamesAndAPrivateKey) {
  ASSERT_TRUE(ensure_self_signed(cfg_.cert_file, cfg_.key_file, "mail.test").ok());
  struct stat st {};
  ASSERT_EQ(::stat(cfg_.key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto san = certificate_san(cfg_.cert_file);
  ASSERT_TRUE(san.ok()) << san.error();
  EXPECT_EQ(*san,
            (std::vector<std::string>{"DNS:mail.test", "DNS:localhost", "IP:127.0.0.1", "IP:::1"}));

  // Present files are kept: a restart must not change the certificate clients pinned.
  const std::string before = slurp(cfg_.cert_file);
  ASSERT_TRUE(ensure_self_signed(cfg_.cert_file, cfg_.key_file, "other.test").ok());
  EXPECT_EQ(slurp(cfg_.cert_file), before);
  EXPECT_NE(before.find("-----BEGIN CERTIFICATE-----"), std::string::npos);
}

TEST_F(TlsTest, HandshakeOverLoopbackNegotiatesTls13AndVerifiesTheName) {
  auto server = prepare_server_tls(cfg_, "mail.test");
  ASSERT_TRUE(server.ok()) << server.error();
  auto client = make_client_tls_context(cfg_.cert_file);

  for (const std::string name : {"mail.test", "localhost"}) {
    const Handshake h = connect(*server, client, name);
    ASSERT_FALSE(h.client_error) << name << ": " << h.client_error.message();
    EXPECT_EQ(h.version, "TLSv1.3");
    EXPECT_EQ(h.echoed, "ping\n");
  }
  const Handshake wrong = connect(*server, client, "evil.test");
  EXPECT_TRUE(wrong.client_error) << "a name not in the SAN was accepted";
}

TEST_F(TlsTest, MinimumVersionIsEnforced) {
  cfg_.min_version = "TLSv1.3";
  auto server = prepare_server_tls(cfg_, "mail.test");
  ASSERT_TRUE(server.ok()) << server.error();
  auto old_client = make_client_tls_context(cfg_.cert_file);
  SSL_CTX_set_max_proto_version(old_client->native_handle(), TLS1_2_VERSION);
  const Handshake h = connect(*server, old_client, "localhost");
  EXPECT_TRUE(h.client_error);
  EXPECT_TRUE(h.server_error);
}

TEST_F(TlsTest, MissingOrMismatchedFilesAreReported) {
  cfg_.self_signed = false;
  auto missing = prepare_server_tls(cfg_, "mail.test");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("tls.cert_file"), std::string::npos) << missing.error();

  // A key from another pair must be refused at start, not at the first handshake.
  ASSERT_TRUE(ensure_self_signed(cfg_.cert_file, cfg_.key_file, "a.test").ok());
  ASSERT_TRUE(ensure_self_signed(dir_ / "b/cert.pem", dir_ / "b/key.pem", "b.test").ok());
  cfg_.key_file = dir_ / "b/key.pem";
  auto mismatched = make_server_tls_context(cfg_);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.error().find("does not match"), std::string::npos) << mismatched.error();
}

}  // namespace
}  // namespace govmail::core
