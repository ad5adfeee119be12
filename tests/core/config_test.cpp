#include "core/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace govmail::core {
namespace {

using namespace std::chrono_literals;

std::filesystem::path source_dir() {
  if (const char* env = std::getenv("GOVMAIL_SOURCE_DIR")) return env;
  return GOVMAIL_SOURCE_DIR;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string error_of(std::string_view text) {
  auto r = parse_config(text, "t.toml");
  EXPECT_FALSE(r.ok()) << "accepted:\n" << text;
  return r.ok() ? "" : r.error().message;
}

TEST(Config, EmptyFileGivesDefaults) {
  auto r = parse_config("", "empty.toml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->limits.max_message_bytes, 50ull << 20);
  EXPECT_EQ(r->auth.cache_ttl, 3600s);
  EXPECT_FALSE(r->tls.self_signed);
  EXPECT_FALSE(r->database.durable_flag_changes);
  EXPECT_EQ(r->listen.smtp, (std::vector<std::string>{"127.0.0.1:2525", "[::1]:2525"}));
  EXPECT_EQ(r->source, "empty.toml");
  EXPECT_EQ(r->archive.audit_retention_days, 92u);  // TCVN 14423: at least 3 months
  EXPECT_EQ(r->archive.checkpoint_interval, 3600s);
  EXPECT_EQ(r->archive.login_audit_flush, 1000ms);
  EXPECT_EQ(r->archive.login_audit_queue_max, 10000u);
  EXPECT_EQ(r->archive.index_delay, 30000ms);
  EXPECT_TRUE(r->archive.signing_key_file.empty());
  EXPECT_TRUE(r->archive.public_key_file.empty());
  auto durable = parse_config("[database]\ndurable_flag_changes = true\n", "d.toml");
  ASSERT_TRUE(durable.ok()) << durable.error().message;
  EXPECT_TRUE(durable->database.durable_flag_changes);
}

TEST(Config, DevelopmentFileParsesAndSetsEveryKey) {
  const auto path = source_dir() / "conf/govmail.toml";
  auto r = load_config(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->tls.self_signed);
  EXPECT_TRUE(r->auth.allow_plaintext_on_loopback);
  EXPECT_TRUE(r->demo.seed);
  EXPECT_EQ(r->listen.submission, (std::vector<std::string>{"127.0.0.1:2587", "[::1]:2587"}));
  EXPECT_EQ(r->listen.imaps, (std::vector<std::string>{"127.0.0.1:2993", "[::1]:2993"}));
  EXPECT_EQ(r->listen.pop3, (std::vector<std::string>{"127.0.0.1:2110", "[::1]:2110"}));
  EXPECT_EQ(r->listen.pop3s, (std::vector<std::string>{"127.0.0.1:2995", "[::1]:2995"}));
  EXPECT_EQ(r->limits.pop3_idle_timeout, 600s);
  EXPECT_EQ(r->listen.http, (std::vector<std::string>{"127.0.0.1:8080", "[::1]:8080"}));
  EXPECT_EQ(r->tls.cert_file, "var/tls/cert.pem");

  // The documented example must mention every key the schema knows, in its section.
  const std::string text = read_file(path);
  for (const std::string& key : config_keys()) {
    const auto dot = key.find('.');
    const auto section = text.find("\n[" + key.substr(0, dot) + "]\n");
    ASSERT_NE(section, std::string::npos) << key;
    const auto next = text.find("\n[", section + 2);
    const auto at = text.find("\n" + key.substr(dot + 1) + " = ", section);
    EXPECT_TRUE(at != std::string::npos && at < next) << "conf/govmail.toml lacks " << key;
  }
}

TEST(Config, ProductionExampleParses) {
  const char* env = std::getenv("GOVMAIL_DATABASE_URL");
  const std::string saved = env ? env : "";
  ::unsetenv("GOVMAIL_DATABASE_URL");  // it would replace the example's URL
  auto r = load_config(source_dir() / "conf/production.example.toml");
  if (env) ::setenv("GOVMAIL_DATABASE_URL", saved.c_str(), 1);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->tls.self_signed);
  EXPECT_FALSE(r->auth.allow_plaintext_on_loopback);
  EXPECT_FALSE(r->demo.seed);
  EXPECT_EQ(r->listen.smtp, (std::vector<std::string>{"0.0.0.0:25", "[::]:25"}));
  EXPECT_EQ(r->listen.https, (std::vector<std::string>{"0.0.0.0:443", "[::]:443"}));
  EXPECT_EQ(r->listen.pop3s, (std::vector<std::string>{"0.0.0.0:995", "[::]:995"}));
  EXPECT_EQ(r->listen.http, (std::vector<std::string>{"127.0.0.1:8080"}));
  EXPECT_EQ(r->auth.failure_window, 900s);
  EXPECT_EQ(r->log.format, "json");
  EXPECT_FALSE(r->database.url.empty());
  EXPECT_EQ(r->archive.public_key_file, "/etc/govmail/archive-public.key");
}

TEST(Config, ArchiveSection) {
  auto r = parse_config(
      "[archive]\nsigning_key_file = \"/k\"\naudit_retention_days = 365\n"
      "checkpoint_interval = \"15m\"\nlogin_audit_flush = \"200ms\"\n"
      "login_audit_queue_max = 500\nsearch_scan_max = 1000\nsearch_results_max = 50\n"
      "export_max = 20\nindex_batch = 50\nindex_interval = \"500ms\"\nindex_delay = \"0s\"\n",
      "a.toml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->archive.index_batch, 50u);
  EXPECT_EQ(r->archive.index_interval, 500ms);
  EXPECT_EQ(r->archive.index_delay, 0ms);
  EXPECT_EQ(r->archive.signing_key_file, "/k");
  EXPECT_EQ(r->archive.audit_retention_days, 365u);
  EXPECT_EQ(r->archive.checkpoint_interval, 900s);
  EXPECT_EQ(r->archive.login_audit_flush, 200ms);
  EXPECT_EQ(r->archive.login_audit_queue_max, 500u);
  EXPECT_EQ(r->archive.search_scan_max, 1000u);
  EXPECT_EQ(r->archive.search_results_max, 50u);
  EXPECT_EQ(r->archive.export_max, 20u);
  EXPECT_NE(error_of("[archive]\ncheckpoint_interval = \"10s\"\n").find("checkpoint_interval"),
            std::string::npos);
  EXPECT_NE(error_of("[archive]\naudit_retention_days = 0\n").find("audit_retention_days"),
            std::string::npos);
  EXPECT_NE(error_of("[archive]\nindex_batch = 0\n").find("index_batch"), std::string::npos);
}

TEST(Config, WrongTypeNamesFileLineKeyAndExpectation) {
  EXPECT_EQ(error_of("[database]\n\nembedded_port = \"abc\"\n"),
            "t.toml:3: key 'database.embedded_port': expected integer in 1..65535, found string "
            "\"abc\"");
  EXPECT_EQ(error_of("[tls]\nself_signed = 1\n"),
            "t.toml:2: key 'tls.self_signed': expected boolean (true or false), found integer 1");
  EXPECT_EQ(error_of("[log]\nlevel = \"loud\"\n"),
            "t.toml:2: key 'log.level': expected one of \"trace\", \"debug\", \"info\", \"warn\", "
            "\"error\", found string \"loud\"");
}

TEST(Config, OutOfRangeIsRefused) {
  EXPECT_EQ(error_of("[database]\nembedded_port = 70000\n"),
            "t.toml:2: key 'database.embedded_port': expected integer in 1..65535, found integer "
            "70000");
  EXPECT_NE(error_of("[limits]\nsmtp_line_max = 100\n").find("expected integer in 512.."),
            std::string::npos);
  EXPECT_NE(error_of("[server]\nthreads = -1\n").find("found integer -1"), std::string::npos);
}

TEST(Config, UnknownKeysAreRefusedWithASuggestion) {
  EXPECT_EQ(error_of("[limits]\nmax_mesage_bytes = 10\n"),
            "t.toml:2: unknown key 'limits.max_mesage_bytes' (did you mean "
            "'limits.max_message_bytes'?)");
  // Right name, wrong section.
  EXPECT_EQ(error_of("[server]\nsmtp_line_max = 5000\n"),
            "t.toml:2: unknown key 'server.smtp_line_max' (did you mean "
            "'limits.smtp_line_max'?)");
  EXPECT_NE(error_of("[limit]\nmax_message_bytes = 5000\n").find("unknown key 'limit'"),
            std::string::npos);
  EXPECT_EQ(error_of("colour = \"blue\"\n"), "t.toml:1: unknown key 'colour'");
}

TEST(Config, EveryErrorIsReportedInLineOrder) {
  const std::string e = error_of("[server]\nthreads = \"x\"\nbogus = 1\n[tls]\nmin_version = 2\n");
  EXPECT_NE(e.find("t.toml:2: key 'server.threads'"), std::string::npos) << e;
  EXPECT_NE(e.find("\nt.toml:3: unknown key 'server.bogus'"), std::string::npos) << e;
  EXPECT_NE(e.find("\nt.toml:5: key 'tls.min_version'"), std::string::npos) << e;
}

TEST(Config, SyntaxErrorHasFileAndLine) {
  const std::string e = error_of("[server]\nhostname = \"a\"\nthreads = = 3\n");
  EXPECT_EQ(e.rfind("t.toml:3: TOML syntax error: ", 0), 0u) << e;
  const std::string dup = error_of("[server]\nthreads = 1\nthreads = 2\n");
  EXPECT_EQ(dup.rfind("t.toml:", 0), 0u) << dup;
}

TEST(Config, DurationsTakeIntegersInTheKeyUnitOrStringsWithUnits) {
  auto r = parse_config(
      "[auth]\ncache_ttl = \"15m\"\nfailure_window = 120\nlockout_max = \"2h\"\n"
      "[database]\nacquire_timeout = \"2s\"\n[limits]\nimap_idle_timeout = \"1d\"\n",
      "t.toml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->auth.cache_ttl, 900s);
  EXPECT_EQ(r->auth.failure_window, 120s);
  EXPECT_EQ(r->auth.lockout_max, 7200s);
  EXPECT_EQ(r->database.acquire_timeout, 2000ms);
  EXPECT_EQ(r->limits.imap_idle_timeout, 86400s);

  EXPECT_NE(error_of("[auth]\ncache_ttl = \"1500ms\"\n").find("not whole seconds"),
            std::string::npos);
  EXPECT_EQ(error_of("[auth]\ncache_ttl = \"soon\"\n"),
            "t.toml:2: key 'auth.cache_ttl': expected duration in 1s..1d (integer seconds or a "
            "string like \"30s\", \"15m\", \"1h\"), found string \"soon\"");
  EXPECT_NE(error_of("[auth]\ncache_ttl = \"2d\"\n").find("1s..1d"), std::string::npos);
}

TEST(Config, LockoutBaseMustNotExceedMax) {
  EXPECT_EQ(error_of("[auth]\nlockout_base = 600\nlockout_max = 60\n"),
            "t.toml:2: key 'auth.lockout_base': must not exceed auth.lockout_max (1m)");
}

TEST(Config, AddressWideFailureLimitIsNotBelowThePerNetworkOne) {
  EXPECT_EQ(error_of("[auth]\nmax_failures_per_account = 8\nmax_failures_per_account_total = 6\n"),
            "t.toml:3: key 'auth.max_failures_per_account_total': must not be below "
            "auth.max_failures_per_account (8)");
  EXPECT_NE(error_of("[auth]\nipv6_prefix = 8\n").find("16..128"), std::string::npos);
}

TEST(Config, ListenAddresses) {
  for (const char* ok : {"127.0.0.1:2525", "[::1]:2525", "0.0.0.0:25", "[::]:25"})
    EXPECT_TRUE(parse_listen_address(ok).has_value()) << ok;
  for (const char* bad : {"localhost:25", "1.2.3.4", "[::1]:0", "1.2.3.4:70000", "[::1:25",
                          "::1:25", "1.2.3.4:", "1.2.3.4:+5", "[1.2.3.4]:25", ""})
    EXPECT_FALSE(parse_listen_address(bad).has_value()) << bad;
  const auto v6 = parse_listen_address("[::1]:2143");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 2143);
  EXPECT_TRUE(v6->v6);

  EXPECT_EQ(error_of("[listen]\nsmtp = [\"127.0.0.1:25\", \"localhost:25\"]\n"),
            "t.toml:2: key 'listen.smtp': in array: expected listen address \"IPv4:port\" or "
            "\"[IPv6]:port\", found string \"localhost:25\"");
  EXPECT_NE(error_of("[listen]\nsmtp = \"127.0.0.1:25\"\n").find("expected array"),
            std::string::npos);
}

// Admin passwords, TOTP codes and tokens cross HTTP: plaintext only on loopback.
TEST(Config, PlaintextHttpOnlyOnLoopback) {
  for (const char* bad : {"0.0.0.0:443", "[::]:443", "192.0.2.10:80", "[2001:db8::1]:80",
                          "[::ffff:127.0.0.1]:80", "128.0.0.1:80"}) {
    const std::string text = std::string("[listen]\nhttp = [\"") + bad + "\"]\nhttps = []\n";
    EXPECT_EQ(error_of(text), std::string("t.toml:2: key 'listen.http': ") + bad +
                                  " is not a loopback address; plaintext HTTP would carry "
                                  "passwords and tokens in clear: serve it from listen.https "
                                  "(TLS)");
  }
  for (const char* ok : {"127.0.0.1:8080", "127.8.9.10:80", "[::1]:8080", "[0:0::1]:8080"}) {
    auto r = parse_config(std::string("[listen]\nhttp = [\"") + ok + "\"]\n", "t.toml");
    EXPECT_TRUE(r.ok()) << ok << ": " << r.error().message;
  }
  auto tls = parse_config("[listen]\nhttp = []\nhttps = [\"0.0.0.0:443\", \"[::]:443\"]\n", "t");
  EXPECT_TRUE(tls.ok()) << tls.error().message;
}

TEST(Config, TwoServicesOnOneAddressAreRefused) {
  EXPECT_EQ(error_of("[listen]\nsmtp = [\"0.0.0.0:25\"]\nimap = [\"127.0.0.1:25\"]\n"),
            "t.toml:3: key 'listen.imap': address 127.0.0.1:25 conflicts with listen.smtp");
  auto ok = parse_config("[listen]\nsmtp = [\"0.0.0.0:25\", \"[::]:25\"]\nimap = []\n", "t.toml");
  EXPECT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_TRUE(ok->listen.imap.empty());
}

TEST(Config, EnvironmentOverridesDatabaseUrl) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("govmail-config-" + std::to_string(::getpid()) + ".toml");
  std::ofstream(path) << "[database]\nurl = \"host=from-file\"\n";
  ::setenv("GOVMAIL_DATABASE_URL", "host=from-env", 1);
  auto r = load_config(path);
  ::unsetenv("GOVMAIL_DATABASE_URL");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->database.url, "host=from-env");
  auto plain = load_config(path);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->database.url, "host=from-file");
  std::filesystem::remove(path);

  auto missing = load_config("/nonexistent/govmail.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message.rfind("/nonexistent/govmail.toml: cannot open", 0), 0u);
}

TEST(Config, RenderMasksSecretsAndRoundTrips) {
  auto r = parse_config(
      "[database]\nurl = \"postgresql://govmail:s3cret@db/govmail\"\n"
      "[auth]\ncache_ttl = \"15m\"\n[listen]\nhttp = [\"[::1]:9090\"]\n",
      "t.toml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::string text = render_config(*r);
  EXPECT_EQ(text.find("s3cret"), std::string::npos) << text;
  EXPECT_NE(text.find("url = \"postgresql://govmail:***@db/govmail\""), std::string::npos);
  EXPECT_NE(text.find("cache_ttl = \"15m\""), std::string::npos);

  auto keywords = parse_config("[database]\nurl = \"host=db password=s3cret dbname=m\"\n", "t");
  ASSERT_TRUE(keywords.ok());
  EXPECT_NE(render_config(*keywords).find("\"host=db password=*** dbname=m\""), std::string::npos);

  // Everything but the masked secret survives a render -> parse round trip.
  auto again = parse_config(text, "rendered.toml");
  ASSERT_TRUE(again.ok()) << again.error().message << "\n" << text;
  EXPECT_EQ(again->auth.cache_ttl, 900s);
  EXPECT_EQ(again->listen.http, (std::vector<std::string>{"[::1]:9090"}));
  const auto body = [](const std::string& s) { return s.substr(s.find('\n')); };
  EXPECT_EQ(body(render_config(*again)), body(text));
}

}  // namespace
}  // namespace govmail::core
