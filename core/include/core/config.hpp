// Every setting and every limit of govmail in one struct, loaded from TOML (conf/govmail.toml
// documents each key). Loading refuses unknown keys, wrong types and out-of-range values with
// file:line, the key and what was expected: govmail never starts half-configured.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace govmail::core {

struct ServerConfig {
  std::string hostname = "localhost";     // greeting / Received: name
  unsigned threads = 0;                   // io threads; 0 = one per core
  std::filesystem::path var_dir = "var";  // state: embedded PostgreSQL, TLS, search index
  // Started as root: bind the ports, then run as this user ("" = keep the starting user).
  std::string user;
};

struct DatabaseConfig {
  std::string url;  // empty: embedded cluster under var/pg
  std::size_t pool_size = 16;
  std::chrono::milliseconds acquire_timeout{5000};
  std::uint16_t embedded_port = 54329;  // port of the embedded cluster (unix socket only)
  // Set on every pool connection, so that a lock wait or a stuck query frees its connection
  // and the client gets a temporary error instead of a hang; 0 = no limit. Migrations and the
  // bulk import lift them for their own transactions.
  std::chrono::milliseconds statement_timeout{30000};
  std::chrono::milliseconds lock_timeout{10000};
  std::chrono::milliseconds idle_in_transaction_timeout{60000};
  // Deliveries (and APPENDs) to exactly the same mailboxes that arrive while one is running are
  // committed together, up to this many per transaction (group commit); 1 = each alone.
  std::size_t delivery_batch_max = 32;
  // A flag change (STORE, JMAP keywords) commits without waiting for its WAL flush, as Dovecot
  // writes flags without fsync: after a crash of PostgreSQL (not of govmail) the flag changes of
  // the last ~0.6 s may be gone (messages never are: deliveries, APPENDs, copies and expunges
  // always wait). true: every flag change waits for the flush too (one fsync per STORE).
  bool durable_flag_changes = false;
  // Change-log rows (CONDSTORE/QRESYNC expunges, JMAP /changes) older than this are pruned; a
  // client asking for changes from before answers as after a long absence (JMAP:
  // cannotCalculateChanges; IMAP: every UID it may know that is gone, as VANISHED). 0: kept.
  std::chrono::seconds change_log_keep{30 * 24 * 3600};
};

struct TlsConfig {
  std::filesystem::path cert_file = "var/tls/cert.pem";
  std::filesystem::path key_file = "var/tls/key.pem";
  bool self_signed = false;  // create a self-signed pair at start when the files are missing
  std::string min_version = "TLSv1.2";
};

struct ListenConfig {
  // "host:port" or "[v6]:port" each; an empty list disables the service.
  std::vector<std::string> smtp{"127.0.0.1:2525", "[::1]:2525"};
  std::vector<std::string> submission{"127.0.0.1:2587", "[::1]:2587"};
  std::vector<std::string> submissions{"127.0.0.1:2465", "[::1]:2465"};
  std::vector<std::string> imap{"127.0.0.1:2143", "[::1]:2143"};
  std::vector<std::string> imaps{"127.0.0.1:2993", "[::1]:2993"};
  std::vector<std::string> pop3{"127.0.0.1:2110", "[::1]:2110"};
  std::vector<std::string> pop3s{"127.0.0.1:2995", "[::1]:2995"};
  // Plaintext HTTP: loopback addresses only (a reverse proxy or local tools); loading refuses
  // any other address, since admin passwords, TOTP codes and bearer tokens cross it.
  std::vector<std::string> http{"127.0.0.1:8080", "[::1]:8080"};
  // HTTP over implicit TLS (the mail ports' certificate): what browsers and remote admins use.
  std::vector<std::string> https{"127.0.0.1:8443", "[::1]:8443"};
};

struct AuthConfig {
  bool allow_plaintext_on_loopback = false;
  std::chrono::seconds cache_ttl{3600};
  // A cached verification is trusted without reading the stored credentials for this long after
  // they were last read; changes made through govmail flush the cache by notification at once,
  // this bounds how long one whose notification is late goes unseen. 0 = read them every time.
  std::chrono::milliseconds cache_recheck{1000};
  std::size_t cache_max_entries = 100000;
  unsigned hash_workers = 0;          // argon2id workers; 0 = one per core
  std::size_t hash_queue_max = 1024;  // pending hashes before refusing with a temporary error
  std::uint64_t argon2_opslimit = 2;  // crypto_pwhash_OPSLIMIT_INTERACTIVE
  std::uint64_t argon2_memlimit = 67108864;  // crypto_pwhash_MEMLIMIT_INTERACTIVE (64 MiB)
  // Failed logins within failure_window are counted per source network (an IPv4 address cut to
  // ipv4_prefix bits, an IPv6 address to ipv6_prefix bits): past a limit that network alone is
  // refused, without a password check, so guessing from one network locks nobody else out.
  unsigned max_failures_per_ip = 10;      // per source network, whatever the address
  unsigned max_failures_per_account = 5;  // per (address, source network)
  // Per address from all networks together (a distributed guesser): past it the address is
  // refused to every network except those it logged in from within known_good_ttl, while an
  // app password still gets in from anywhere.
  unsigned max_failures_per_account_total = 100;
  std::chrono::seconds known_good_ttl{30 * 86400};
  unsigned ipv4_prefix = 32;
  unsigned ipv6_prefix = 64;
  std::chrono::seconds failure_window{900};
  std::chrono::seconds lockout_base{30};  // doubled per further failure, up to lockout_max
  std::chrono::seconds lockout_max{3600};
};

struct SmtpConfig {
  bool vrfy = false;  // VRFY answers for local addresses (submission, after AUTH only)
  // MX: SPF, DKIM and DMARC of incoming mail, written as Authentication-Results (resolvers and
  // DNS timeout from [outbound]).
  bool check_authentication = true;
  std::string dmarc_reject = "reject";  // p=reject failures: "reject" (550 5.7.1) or "junk"
  // A vacation response (JMAP VacationResponse) answers one sender again after this long at
  // the earliest, within one setting of it (RFC 3834 5.1: at most once per period; 7 days).
  std::chrono::seconds vacation_resend_after{std::chrono::hours(7 * 24)};
};

// A static route for outbound mail (outbound.routes), one string each:
//   "PATTERN [HOST[:PORT]] [tls=MODE] [auth=USER:PASSWORD]"
// PATTERN: a domain ("mic.gov.vn"), "*.gov.vn" (its subdomains) or "*" (everything). HOST: the
// next hop, resolved by A/AAAA (no MX lookup; "[192.0.2.1]" or "[2001:db8::1]" for an address);
// none = the recipient domain's MX as usual, with the options below. MODE: none, opportunistic,
// required (TLS, certificate not checked), verify (TLS and a certificate valid for the host).
// auth= sends AUTH PLAIN, only over TLS.
struct OutboundRoute {
  std::string pattern;
  std::string host;        // "" = MX lookup
  std::uint16_t port = 0;  // 0 = outbound.smtp_port
  std::string tls;         // "" = outbound.tls
  std::string auth_user;
  std::string auth_password;
};
std::optional<OutboundRoute> parse_outbound_route(std::string_view text);

struct OutboundConfig {
  bool enabled = true;                 // queue workers in `govmail serve`
  std::vector<std::string> resolvers;  // "IP" or "IP@PORT"; empty = /etc/resolv.conf
  std::chrono::milliseconds dns_timeout{10000};
  std::uint16_t smtp_port = 25;       // port of remote MX hosts
  std::string tls = "opportunistic";  // default policy: none, opportunistic, required, verify
  std::vector<std::string> routes;    // OutboundRoute strings, first match wins
  std::size_t max_connections = 100;  // open outbound connections per process
  std::size_t max_connections_per_domain = 10;  // per destination domain
  std::size_t max_rcpts_per_transaction = 100;  // RFC 5321 4.5.3.1.8: servers take at least 100
  std::size_t max_messages_per_connection = 100;
  std::chrono::milliseconds connection_idle{2000};  // a connection waits this long for more mail
  std::size_t claim_batch = 200;                    // recipients claimed per query
  std::chrono::milliseconds poll_interval{1000};    // queue polled this often when idle
  std::chrono::seconds lease{1800};                 // a claimed recipient is due again after this
  std::chrono::seconds retry_min{300};              // first retry; doubled per attempt
  std::chrono::seconds retry_max{3600};             // longest wait between attempts
  std::chrono::seconds lifetime{5 * 86400};         // then the sender gets a failure report
  std::chrono::seconds delay_warning{4 * 3600};     // a delay report once after this; 0 = never
  std::chrono::seconds history{7 * 86400};  // finished entries kept for `govmail queue show`
  bool dkim_sign = true;  // sign with the From: domain's active key when it has one
  // DKIM private keys are stored sealed under the key in this file (core::SecretBox); "" = none.
  std::filesystem::path dkim_master_key_file;
  bool dkim_master_key_create = false;  // development: make the file when missing
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds command_timeout{300};  // RFC 5321 4.5.3.2: greeting, EHLO, MAIL, RCPT
  std::chrono::seconds data_timeout{600};     // RFC 5321 4.5.3.2.6: the final dot
  // MTA-STS (RFC 8461) for domains without a static route: policy discovery, fetch, cache.
  bool mta_sts = true;
  std::chrono::seconds mta_sts_timeout{60};  // one policy fetch (RFC 8461 3.3 suggests a minute)
  // Trust anchors (PEM) for verified TLS: tls=verify routes, MTA-STS MX hosts and policy hosts.
  // Empty: the system store (Debian ca-certificates).
  std::string tls_ca_file;
};

struct LimitsConfig {
  std::size_t max_connections = 20000;
  std::size_t max_connections_per_ip = 100;  // counted per network (the prefixes below)
  // Connections count per network: an IPv4 address by its first ipv4_network_prefix bits, an
  // IPv6 one by its first ipv6_network_prefix (a /64 is one customer: one host owns them all).
  unsigned ipv4_network_prefix = 32;
  unsigned ipv6_network_prefix = 64;
  // Connections not yet logged in (IMAP, submission) per network; the slot frees at login.
  std::size_t max_preauth_connections_per_network = 20;
  // Whole-connection and whole-command deadlines: per-read timeouts alone let a client that
  // sends a byte a minute hold a slot for ever.
  std::chrono::seconds preauth_timeout{60};       // connect to successful login (IMAP, submission)
  std::chrono::seconds mx_session_timeout{1800};  // an MX connection, which never logs in
  std::chrono::seconds command_timeout{600};      // one command line, literal or DATA, whole
  // Message bytes held in memory by all sessions (SMTP DATA/BDAT, IMAP literals) at once.
  std::uint64_t max_inflight_message_bytes = 1ull << 30;
  std::uint64_t max_message_bytes = 50ull << 20;
  std::size_t smtp_max_recipients = 1000;
  std::size_t smtp_line_max = 4096;          // command lines (RFC 5321: at least 512)
  std::size_t smtp_data_line_max = 65536;    // lines inside DATA (RFC 5321: at least 1000)
  std::size_t smtp_sender_domains_max = 32;  // domains looked up in From/Sender/Reply-To (MX)
  unsigned smtp_max_commands_before_mail = 50;
  unsigned max_bad_commands = 20;
  std::chrono::seconds smtp_command_timeout{300};
  std::chrono::seconds smtp_data_timeout{600};
  std::size_t imap_line_max = 65536;
  std::uint64_t imap_literal_max = 50ull << 20;
  std::uint64_t imap_preauth_literal_max = 8192;  // before login (RFC 7888 section 4)
  // ENVELOPE/BODYSTRUCTURE/header blocks of messages kept in memory by IMAP (0: none). Filled
  // only by FETCH (idle sessions cost nothing); ~1 KB per message listed, so 256 MiB holds the
  // listings of 100 mailboxes of 2,000 messages (bench/imap/mix.sh; 64 MiB ran it at half rate).
  std::uint64_t imap_message_cache_bytes = 256ull << 20;
  unsigned imap_max_commands_before_auth = 20;
  std::chrono::seconds imap_idle_timeout{1800};
  std::size_t pop3_line_max = 1024;  // RFC 2449: 255 octets per command line at least
  unsigned pop3_max_commands_before_auth = 20;
  std::chrono::seconds pop3_idle_timeout{600};  // RFC 1939: at least 10 minutes
  std::size_t mime_max_depth = 100;             // deeper parts stay in the blob, unparsed
  std::size_t mime_max_headers = 10000;
  std::size_t mime_max_parts = 10000;
};

struct LogConfig {
  std::string level = "info";   // trace, debug, info, warn, error
  std::string format = "text";  // text or json
};

struct AdminConfig {
  unsigned deleted_retention_days = 90;  // deleted accounts keep their mail this long, then purge
  unsigned unused_days = 45;             // "unused" threshold (TCVN 14423 level 3: 45 days)
  std::string local_part_pattern = "{given}{initials}";  // Nguyễn Quang Vinh -> vinhnq
  std::uint64_t default_quota_mb = 0;   // for imported accounts without quota_mb; 0 = unlimited
  bool require_totp = true;             // admin API logins need a TOTP code
  std::string totp_issuer = "govmail";  // shown by authenticator apps
};

struct DemoConfig {
  // Development only: create a demo domain and accounts at first start, print passwords once.
  bool seed = false;
  std::string domain = "example.gov.vn";
  std::vector<std::string> accounts{"demo1", "demo2"};
};

// The HTTP/1.1 server (JMAP, webmail, admin API).
struct HttpConfig {
  std::size_t header_max = 16 * 1024;          // request line + headers; over it: 431
  std::size_t body_max = 64ull << 20;          // any request body; over it: 413
  std::chrono::seconds request_timeout{30};    // one whole request read, first byte to last
  std::chrono::seconds keepalive_timeout{60};  // wait for the next request on a connection
  std::size_t max_requests_per_connection = 1000;
  // Requests per second from one network (limits.ipv4/ipv6_network_prefix), with bursts of
  // rate_burst; beyond: 429. 0 = no limit.
  unsigned rate_per_network = 200;
  unsigned rate_burst = 400;
};

// JMAP (RFC 8620) limits announced in the session resource, and web sessions.
struct JmapConfig {
  std::size_t max_size_upload = 50ull << 20;
  std::size_t max_concurrent_upload = 4;
  std::size_t max_size_request = 10ull << 20;
  std::size_t max_concurrent_requests = 8;
  std::size_t max_calls_in_request = 32;
  std::size_t max_objects_in_get = 500;
  std::size_t max_objects_in_set = 500;
  std::chrono::seconds upload_ttl{24 * 3600};        // unused uploads are deleted after this
  std::chrono::seconds session_idle_timeout{3600};   // a login token unused this long expires
  std::chrono::seconds session_lifetime{12 * 3600};  // and expires this long after login
  std::chrono::seconds eventsource_ping_min{5};      // smallest ping interval granted
  std::size_t max_eventsource_per_account = 10;
};

// Full-text search (search/, docs/SEARCH.md). Shards live under server.var_dir/search.
struct SearchConfig {
  bool use_index = true;  // IMAP SEARCH text keys through the index (false: read every message)
  bool indexer = true;    // this process may run the indexer (one per database holds the lease)
  unsigned shards = 16;   // Xapian databases; an account lives in shard (account id % shards)
  unsigned batch = 500;   // queued messages per Xapian commit
  std::chrono::milliseconds poll_interval{500};  // idle indexer looks at the queue this often
  std::chrono::seconds lease_ttl{30};            // an indexer that stops renewing loses the lease
  unsigned threads = 2;                          // worker threads for Xapian (never io threads)
  std::size_t max_query_bytes = 4096;  // one search string (IMAP SEARCH value, query text)
  unsigned max_query_terms = 64;       // text keys in one SEARCH / words in one query
  unsigned max_wildcard_terms = 5000;  // index words one prefix or infix piece may expand to
  unsigned max_pending = 20000;        // queued messages of an account searched without index
};

// The archive and the audit log (docs/ARCHIVE.md).
struct ArchiveConfig {
  // Ed25519 checkpoint key (hex, mode 0600), created at first use; "" = server.var_dir /
  // archive-signing.key.
  std::filesystem::path signing_key_file;
  // The public key `archive verify` trusts (64 hex characters); "" = the key pinned in the
  // database when the signing key was first created.
  std::filesystem::path public_key_file;
  // Audit-log entries older than this are deleted (TCVN 14423 level 3
  // asks for at least 3 months): `archive audit-prune`.
  unsigned audit_retention_days = 92;
  std::chrono::seconds checkpoint_interval{3600};  // `serve` signs the chain heads this often
  // `serve` links the journal entries committed since into their chain this often (an entry is
  // tamper-evident once linked; every reader of the chains links first).
  std::chrono::milliseconds link_interval{1000};
  // Protocol logins reach the audit log in one statement per flush; a crash loses at most one.
  std::chrono::milliseconds login_audit_flush{1000};
  std::size_t login_audit_queue_max = 10000;  // queued logins past which a login is refused
  std::size_t search_scan_max = 20000;        // journal entries one auditor search reads
  std::size_t search_results_max = 1000;      // entries one search returns
  std::size_t export_max = 1000;              // messages one export writes
  // The auditors' text index (`serve`): at most index_batch journal entries a round, a full round
  // followed by the next at once, else the next after index_interval. Its thread runs at nice 10.
  std::size_t index_batch = 200;
  std::chrono::milliseconds index_interval{2000};
  // Entries are indexed once they are index_delay old: a burst of deliveries does not share the
  // CPU with their parsing (entries not indexed yet are still found, read one by one). 0: none.
  std::chrono::milliseconds index_delay{30000};
};

struct Config {
  ServerConfig server;
  DatabaseConfig database;
  TlsConfig tls;
  ListenConfig listen;
  AuthConfig auth;
  SmtpConfig smtp;
  OutboundConfig outbound;
  LimitsConfig limits;
  LogConfig log;
  AdminConfig admin;
  DemoConfig demo;
  HttpConfig http;
  JmapConfig jmap;
  SearchConfig search;
  ArchiveConfig archive;
  std::filesystem::path source;  // file it was loaded from (relative paths resolve against cwd)
};

struct ConfigError {
  std::string message;  // "file:line: key: expected ..., found ..."
};

// Loads and validates. GOVMAIL_DATABASE_URL, when set and not empty, overrides database.url.
// Relative paths (server.var_dir, tls.*_file) are kept as written: they resolve against the
// working directory of the process, not against the directory of the file.
Result<Config, ConfigError> load_config(const std::filesystem::path& file);
// Same validation on text already in memory; reads no environment variable.
Result<Config, ConfigError> parse_config(std::string_view toml_text, std::string_view file_name);

// The effective configuration as TOML (for `govmail check-config --print`), every key with its
// one-line documentation; secrets (the password in database.url) are masked.
std::string render_config(const Config& config);
// Every key the schema knows, "section.name", in schema order.
std::vector<std::string> config_keys();

// A listen address: "127.0.0.1:2525", "0.0.0.0:25", "[::1]:2525" or "[::]:25".
struct ListenAddress {
  std::string host;  // "127.0.0.1" or "::1" (no brackets)
  std::uint16_t port = 0;
  bool v6 = false;
};
std::optional<ListenAddress> parse_listen_address(std::string_view text);

}  // namespace govmail::core
