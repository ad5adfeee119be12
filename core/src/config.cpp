// Configuration loading. One schema table (kSchema below) drives parsing, validation, unknown-key
// detection and rendering: adding a setting is one line there plus the field in config.hpp.
//
// Durations: an integer in the unit the key documents (seconds, or milliseconds for keys whose
// doc says so), or a string with a unit: "500ms", "30s", "15m", "1h", "2d".
#include "core/config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <toml.hpp>

namespace govmail::core {
namespace {

using namespace std::chrono_literals;
using TValue = toml::basic_value<toml::discard_comments, std::map, std::vector>;
using Milliseconds = std::chrono::milliseconds;

constexpr std::size_t kMaxConfigBytes = 1 << 20;

// An entry's complaint about a value: "expected ..., found ..." (nullopt = accepted).
using Complaint = std::optional<std::string>;

struct Entry {
  std::string_view key;  // "section.name"
  std::string_view doc;  // one line, shown by render_config
  std::function<Complaint(Config&, const TValue&)> set;
  std::function<std::string(const Config&)> show;  // the value as TOML
};

// ---- describing values -----------------------------------------------------------------------

std::string toml_quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string found(const TValue& v) {
  switch (v.type()) {
    case toml::value_t::boolean:
      return v.as_boolean() ? "found boolean true" : "found boolean false";
    case toml::value_t::integer:
      return "found integer " + std::to_string(v.as_integer());
    case toml::value_t::floating:
      return "found float " + toml::format(v);
    case toml::value_t::string: {
      const std::string& s = v.as_string().str;
      return "found string " + toml_quote(s.size() > 60 ? s.substr(0, 60) + "..." : s);
    }
    case toml::value_t::array:
      return "found array";
    case toml::value_t::table:
      return "found table";
    default:
      return "found a date/time";
  }
}

std::string format_duration(Milliseconds d) {
  const std::int64_t ms = d.count();
  const std::pair<std::int64_t, const char*> units[] = {
      {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
  for (auto [size, suffix] : units)
    if (ms != 0 && ms % size == 0) return std::to_string(ms / size) + suffix;
  return std::to_string(ms) + "ms";
}

// "30s" -> 30000 ms; nullopt when the text is not <digits><unit>.
std::optional<Milliseconds> parse_duration_text(std::string_view s) {
  std::size_t digits = 0;
  while (digits < s.size() && digits < 12 && s[digits] >= '0' && s[digits] <= '9') ++digits;
  if (digits == 0 || digits == s.size()) return std::nullopt;
  const std::int64_t n = std::stoll(std::string(s.substr(0, digits)));
  const std::string_view unit = s.substr(digits);
  if (unit == "ms") return Milliseconds(n);
  if (unit == "s") return Milliseconds(n * 1000);
  if (unit == "m") return Milliseconds(n * 60000);
  if (unit == "h") return Milliseconds(n * 3600000);
  if (unit == "d") return Milliseconds(n * 86400000);
  return std::nullopt;
}

// ---- validators for strings ------------------------------------------------------------------

bool valid_hostname(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i <= h.size(); ++i) {
    if (i == h.size() || h[i] == '.') {
      if (label == 0 || label > 63 || h[i - 1] == '-' || h[i - label] == '-') return false;
      label = 0;
      continue;
    }
    const char c = h[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    ++label;
  }
  return true;
}

bool valid_local_part(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

bool valid_listen(std::string_view s) {
  return parse_listen_address(s).has_value();
}

struct StringRule {
  bool (*ok)(std::string_view);
  std::string_view what;  // "a host name", ...
};
constexpr StringRule kAnyString{nullptr, "string"};
constexpr StringRule kHostname{valid_hostname, "host name (letters, digits, '-', '.')"};
constexpr StringRule kLocalPart{valid_local_part, "local part ([a-z0-9._-], 1..64 chars)"};
constexpr StringRule kListen{valid_listen, "listen address \"IPv4:port\" or \"[IPv6]:port\""};
constexpr StringRule kRoute{[](std::string_view s) { return parse_outbound_route(s).has_value(); },
                            "route \"PATTERN [HOST[:PORT]] "
                            "[tls=none|opportunistic|required|verify] [auth=USER:PASSWORD]\""};
constexpr StringRule kResolver{
    [](std::string_view s) { return !s.empty() && s.find(' ') == std::string_view::npos; },
    "resolver \"IP\" or \"IP@PORT\""};
constexpr StringRule kNonEmpty{[](std::string_view s) { return !s.empty(); }, "non-empty string"};

// ---- entry factories -------------------------------------------------------------------------

template <auto Section, auto Member>
auto& field(Config& c) {
  return (c.*Section).*Member;
}
template <auto Section, auto Member>
const auto& field(const Config& c) {
  return (c.*Section).*Member;
}

template <auto S, auto M>
Entry integer(std::string_view key, std::uint64_t min, std::uint64_t max, std::string_view doc) {
  auto set = [min, max](Config& c, const TValue& v) -> Complaint {
    const std::string expected =
        "expected integer in " + std::to_string(min) + ".." + std::to_string(max);
    if (!v.is_integer()) return expected + ", " + found(v);
    const std::int64_t n = v.as_integer();
    if (n < 0 || static_cast<std::uint64_t>(n) < min || static_cast<std::uint64_t>(n) > max)
      return expected + ", " + found(v);
    auto& f = field<S, M>(c);
    f = static_cast<std::remove_reference_t<decltype(f)>>(n);
    return std::nullopt;
  };
  auto show = [](const Config& c) { return std::to_string(field<S, M>(c)); };
  return {key, doc, set, show};
}

template <auto S, auto M>
Entry boolean(std::string_view key, std::string_view doc) {
  auto set = [](Config& c, const TValue& v) -> Complaint {
    if (!v.is_boolean()) return "expected boolean (true or false), " + found(v);
    field<S, M>(c) = v.as_boolean();
    return std::nullopt;
  };
  auto show = [](const Config& c) { return std::string(field<S, M>(c) ? "true" : "false"); };
  return {key, doc, set, show};
}

Complaint check_string(const TValue& v, StringRule rule) {
  if (!v.is_string()) return "expected " + std::string(rule.what) + ", " + found(v);
  if (rule.ok && !rule.ok(v.as_string().str))
    return "expected " + std::string(rule.what) + ", " + found(v);
  return std::nullopt;
}

// std::string or std::filesystem::path members.
template <auto S, auto M>
Entry string(std::string_view key, StringRule rule, std::string_view doc,
             std::string (*mask)(std::string_view) = nullptr) {
  auto set = [rule](Config& c, const TValue& v) -> Complaint {
    if (auto complaint = check_string(v, rule)) return complaint;
    field<S, M>(c) = v.as_string().str;
    return std::nullopt;
  };
  auto show = [mask](const Config& c) {
    const std::string value{field<S, M>(c)};
    return toml_quote(mask ? mask(value) : value);
  };
  return {key, doc, set, show};
}

template <auto S, auto M>
Entry choice(std::string_view key, std::vector<std::string_view> options, std::string_view doc) {
  auto set = [options](Config& c, const TValue& v) -> Complaint {
    if (v.is_string() &&
        std::find(options.begin(), options.end(), v.as_string().str) != options.end()) {
      field<S, M>(c) = v.as_string().str;
      return std::nullopt;
    }
    std::string list;
    for (auto o : options) list += (list.empty() ? "" : ", ") + toml_quote(o);
    return "expected one of " + list + ", " + found(v);
  };
  auto show = [](const Config& c) { return toml_quote(field<S, M>(c)); };
  return {key, doc, set, show};
}

template <auto S, auto M>
Entry strings(std::string_view key, StringRule rule, std::string_view doc) {
  auto set = [rule](Config& c, const TValue& v) -> Complaint {
    if (!v.is_array()) return "expected array of " + std::string(rule.what) + ", " + found(v);
    std::vector<std::string> out;
    for (const TValue& item : v.as_array()) {
      if (auto complaint = check_string(item, rule)) return "in array: " + *complaint;
      out.push_back(item.as_string().str);
    }
    field<S, M>(c) = std::move(out);
    return std::nullopt;
  };
  auto show = [](const Config& c) {
    std::string out = "[";
    for (const auto& s : field<S, M>(c)) out += (out.size() > 1 ? ", " : "") + toml_quote(s);
    return out + "]";
  };
  return {key, doc, set, show};
}

// std::chrono::seconds or milliseconds members; a bare integer counts in the member's unit.
template <auto S, auto M>
Entry duration(std::string_view key, Milliseconds min, Milliseconds max, std::string_view doc) {
  using D = std::remove_reference_t<decltype(field<S, M>(std::declval<Config&>()))>;
  constexpr bool in_seconds = std::is_same_v<D, std::chrono::seconds>;
  auto set = [min, max](Config& c, const TValue& v) -> Complaint {
    const std::string expected = "expected duration in " + format_duration(min) + ".." +
                                 format_duration(max) +
                                 (in_seconds ? " (integer seconds" : " (integer milliseconds") +
                                 R"( or a string like "30s", "15m", "1h"), )" + found(v);
    std::optional<Milliseconds> ms;
    if (v.is_integer() && v.as_integer() >= 0 && v.as_integer() < (1ll << 40))
      ms = std::chrono::duration_cast<Milliseconds>(D(v.as_integer()));
    else if (v.is_string())
      ms = parse_duration_text(v.as_string().str);
    if (!ms || *ms < min || *ms > max) return expected;
    if (in_seconds && ms->count() % 1000 != 0) return expected + " (not whole seconds)";
    field<S, M>(c) = std::chrono::duration_cast<D>(*ms);
    return std::nullopt;
  };
  auto show = [](const Config& c) {
    return toml_quote(format_duration(std::chrono::duration_cast<Milliseconds>(field<S, M>(c))));
  };
  return {key, doc, set, show};
}

// "postgresql://user:secret@host/db" -> "postgresql://user:***@host/db";
// "host=x password=secret" -> "host=x password=***".
std::string mask_database_url(std::string_view url) {
  std::string s(url);
  if (auto scheme = s.find("://"); scheme != std::string::npos) {
    const auto at = s.find('@', scheme + 3);
    const auto colon = s.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at)
      s.replace(colon + 1, at - colon - 1, "***");
  }
  for (auto pos = s.find("password="); pos != std::string::npos;
       pos = s.find("password=", pos + 1)) {
    const auto start = pos + 9;
    auto end = start;
    if (end < s.size() && s[end] == '\'') {
      end = s.find('\'', start + 1);
      end = end == std::string::npos ? s.size() : end + 1;
    } else {
      while (end < s.size() && s[end] != ' ' && s[end] != '&') ++end;
    }
    s.replace(start, end - start, "***");
  }
  return s;
}

// Route strings as TOML with the auth= passwords masked.
Entry masked_routes(Entry e) {
  e.show = [](const Config& c) {
    std::string out = "[";
    for (std::string s : c.outbound.routes) {
      if (auto at = s.find(" auth="); at != std::string::npos) {
        const auto colon = s.find(':', at);
        const auto end = std::min(s.find(' ', at + 1), s.size());
        if (colon != std::string::npos && colon < end) s.replace(colon + 1, end - colon - 1, "***");
      }
      out += (out.size() > 1 ? ", " : "") + toml_quote(s);
    }
    return out + "]";
  };
  return e;
}

// ---- the schema --------------------------------------------------------------------------------

using C = Config;
constexpr std::uint64_t KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024;

const std::vector<Entry>& schema() {
  // One line per key keeps the table scannable.
  // clang-format off
  static const std::vector<Entry> entries = {
      string<&C::server, &ServerConfig::hostname>("server.hostname", kHostname, "name in greetings and Received: headers; set to the public DNS name"),
      integer<&C::server, &ServerConfig::threads>("server.threads", 0, 1024, "io threads; 0 = one per core"),
      string<&C::server, &ServerConfig::var_dir>("server.var_dir", kNonEmpty, "state directory (embedded PostgreSQL, TLS, search index); relative = to the working directory"),
      string<&C::server, &ServerConfig::user>("server.user", kAnyString, "started as root: bind the ports, then switch to this unprivileged user; \"\" = stay"),

      string<&C::database, &DatabaseConfig::url>("database.url", kAnyString, "libpq URL or keywords; empty = embedded cluster under var_dir/pg; GOVMAIL_DATABASE_URL overrides", mask_database_url),
      integer<&C::database, &DatabaseConfig::pool_size>("database.pool_size", 1, 1000, "connections to PostgreSQL"),
      duration<&C::database, &DatabaseConfig::acquire_timeout>("database.acquire_timeout", 1ms, 600s, "wait for a free connection (integer milliseconds) before a temporary error"),
      integer<&C::database, &DatabaseConfig::embedded_port>("database.embedded_port", 1, 65535, "port of the embedded cluster (unix socket only)"),
      duration<&C::database, &DatabaseConfig::statement_timeout>("database.statement_timeout", 0ms, 3600s, "longest statement on a pool connection (integer milliseconds; 0 = no limit); then a temporary error"),
      duration<&C::database, &DatabaseConfig::lock_timeout>("database.lock_timeout", 0ms, 3600s, "longest wait for a row or table lock (integer milliseconds; 0 = no limit); then a temporary error"),
      boolean<&C::database, &DatabaseConfig::durable_flag_changes>("database.durable_flag_changes", "flag changes wait for the WAL flush too (false: as Dovecot, only messages do)"),
      duration<&C::database, &DatabaseConfig::change_log_keep>("database.change_log_keep", 0s, 3650 * 24h, "change-log rows older than this are pruned (seconds or \"30d\"; 0 = kept): QRESYNC and JMAP /changes from before resynchronise"),
      integer<&C::database, &DatabaseConfig::delivery_batch_max>("database.delivery_batch_max", 1, 1000, "deliveries to the same mailboxes committed together while one runs (group commit); 1 = each alone"),
      duration<&C::database, &DatabaseConfig::idle_in_transaction_timeout>("database.idle_in_transaction_timeout", 0ms, 3600s, "a transaction left idle this long (integer milliseconds; 0 = no limit) is ended by the server with its connection"),

      string<&C::tls, &TlsConfig::cert_file>("tls.cert_file", kNonEmpty, "PEM certificate chain, leaf first; relative = to the working directory"),
      string<&C::tls, &TlsConfig::key_file>("tls.key_file", kNonEmpty, "PEM private key"),
      boolean<&C::tls, &TlsConfig::self_signed>("tls.self_signed", "create a self-signed pair when the files are missing (development only)"),
      choice<&C::tls, &TlsConfig::min_version>("tls.min_version", {"TLSv1.2", "TLSv1.3"}, "oldest TLS version accepted"),

      strings<&C::listen, &ListenConfig::smtp>("listen.smtp", kListen, "SMTP relay/MX (STARTTLS); [] disables"),
      strings<&C::listen, &ListenConfig::submission>("listen.submission", kListen, "message submission (STARTTLS required before AUTH)"),
      strings<&C::listen, &ListenConfig::submissions>("listen.submissions", kListen, "message submission over implicit TLS"),
      strings<&C::listen, &ListenConfig::imap>("listen.imap", kListen, "IMAP (STARTTLS)"),
      strings<&C::listen, &ListenConfig::imaps>("listen.imaps", kListen, "IMAP over implicit TLS"),
      strings<&C::listen, &ListenConfig::pop3>("listen.pop3", kListen, "POP3 (STLS)"),
      strings<&C::listen, &ListenConfig::pop3s>("listen.pop3s", kListen, "POP3 over implicit TLS"),
      strings<&C::listen, &ListenConfig::http>("listen.http", kListen, "plaintext JMAP, webmail and admin API: loopback addresses only"),
      strings<&C::listen, &ListenConfig::https>("listen.https", kListen, "JMAP, webmail and admin API over implicit TLS"),

      boolean<&C::auth, &AuthConfig::allow_plaintext_on_loopback>("auth.allow_plaintext_on_loopback", "allow passwords without TLS from 127.0.0.1/::1 (development only)"),
      duration<&C::auth, &AuthConfig::cache_ttl>("auth.cache_ttl", 1s, 24h, "how long a verified password is trusted without re-hashing (seconds)"),
      duration<&C::auth, &AuthConfig::cache_recheck>("auth.cache_recheck", 0ms, 60s, "HTTP Basic: a cached verification is trusted without reading the stored credentials this long after they were last read (integer milliseconds; 0 = every time; logins that open a session always read them)"),
      integer<&C::auth, &AuthConfig::cache_max_entries>("auth.cache_max_entries", 0, 10'000'000, "verified-credentials cache size; 0 disables the cache"),
      integer<&C::auth, &AuthConfig::hash_workers>("auth.hash_workers", 0, 256, "argon2id worker threads; 0 = one per core"),
      integer<&C::auth, &AuthConfig::hash_queue_max>("auth.hash_queue_max", 1, 1'000'000, "hashes waiting for a worker before logins get a temporary error"),
      integer<&C::auth, &AuthConfig::argon2_opslimit>("auth.argon2_opslimit", 1, 32, "argon2id passes for new hashes"),
      integer<&C::auth, &AuthConfig::argon2_memlimit>("auth.argon2_memlimit", 8 * KiB, 4 * GiB, "argon2id memory (bytes) for new hashes; each running hash uses this much"),
      integer<&C::auth, &AuthConfig::max_failures_per_ip>("auth.max_failures_per_ip", 1, 100'000, "failed logins from one source network (see ipv4_prefix, ipv6_prefix) within failure_window before that network is locked out"),
      integer<&C::auth, &AuthConfig::max_failures_per_account>("auth.max_failures_per_account", 1, 100'000, "failed logins for one address from one source network within failure_window before that network is locked out of that address"),
      integer<&C::auth, &AuthConfig::max_failures_per_account_total>("auth.max_failures_per_account_total", 1, 1'000'000, "failed logins for one address from all networks within failure_window before only known-good networks and app passwords get in"),
      duration<&C::auth, &AuthConfig::known_good_ttl>("auth.known_good_ttl", 0s, 365 * 24h, "a network that logged in to an address stays known-good (exempt from the address-wide lock-out) this long (seconds); 0 = never"),
      integer<&C::auth, &AuthConfig::ipv4_prefix>("auth.ipv4_prefix", 8, 32, "IPv4 source network for failure counting: leading bits of the address (32 = one address)"),
      integer<&C::auth, &AuthConfig::ipv6_prefix>("auth.ipv6_prefix", 16, 128, "IPv6 source network for failure counting: leading bits (64 = one subnet, what one customer holds)"),
      duration<&C::auth, &AuthConfig::failure_window>("auth.failure_window", 1s, 24h, "failures older than this are forgotten (seconds)"),
      duration<&C::auth, &AuthConfig::lockout_base>("auth.lockout_base", 1s, 24h, "first lock-out (seconds); doubles with each further failure"),
      duration<&C::auth, &AuthConfig::lockout_max>("auth.lockout_max", 1s, 7 * 24h, "longest lock-out (seconds)"),

      boolean<&C::smtp, &SmtpConfig::check_authentication>("smtp.check_authentication", "MX: check SPF, DKIM and DMARC and write Authentication-Results (DNS through outbound.resolvers)"),
      choice<&C::smtp, &SmtpConfig::dmarc_reject>("smtp.dmarc_reject", {"reject", "junk"}, "a message failing DMARC of a domain with p=reject: refused with 550 5.7.1, or put in Junk"),
      duration<&C::smtp, &SmtpConfig::vacation_resend_after>("smtp.vacation_resend_after", 60s, 365 * 24h, "a vacation auto-reply answers the same sender again after this long at the earliest (seconds; RFC 3834 suggests 7 days)"),
      boolean<&C::smtp, &SmtpConfig::vrfy>("smtp.vrfy", "VRFY answers whether a local address exists, on submission after AUTH only; false = 252 to everyone"),

      boolean<&C::outbound, &OutboundConfig::enabled>("outbound.enabled", "queue workers deliver remote mail in this process"),
      strings<&C::outbound, &OutboundConfig::resolvers>("outbound.resolvers", kResolver, "DNS resolvers \"IP\" or \"IP@PORT\"; [] = /etc/resolv.conf"),
      duration<&C::outbound, &OutboundConfig::dns_timeout>("outbound.dns_timeout", 100ms, 120s, "one DNS query (integer milliseconds); then the attempt is deferred"),
      integer<&C::outbound, &OutboundConfig::smtp_port>("outbound.smtp_port", 1, 65535, "port of remote MX hosts (25; tests use others)"),
      choice<&C::outbound, &OutboundConfig::tls>("outbound.tls", {"none", "opportunistic", "required", "verify"}, "TLS to remote hosts unless a route says otherwise"),
      masked_routes(strings<&C::outbound, &OutboundConfig::routes>("outbound.routes", kRoute, "static routes \"PATTERN [HOST[:PORT]] [tls=MODE] [auth=USER:PASSWORD]\", first match wins")),
      integer<&C::outbound, &OutboundConfig::max_connections>("outbound.max_connections", 1, 100'000, "open outbound SMTP connections per process"),
      integer<&C::outbound, &OutboundConfig::max_connections_per_domain>("outbound.max_connections_per_domain", 1, 10'000, "open outbound connections per destination domain"),
      integer<&C::outbound, &OutboundConfig::max_rcpts_per_transaction>("outbound.max_rcpts_per_transaction", 1, 100'000, "recipients of one domain sent in one transaction"),
      integer<&C::outbound, &OutboundConfig::max_messages_per_connection>("outbound.max_messages_per_connection", 1, 1'000'000, "transactions on one connection before it is closed"),
      duration<&C::outbound, &OutboundConfig::connection_idle>("outbound.connection_idle", 0ms, 300s, "an open connection waits this long for more mail to its domain (integer milliseconds)"),
      integer<&C::outbound, &OutboundConfig::claim_batch>("outbound.claim_batch", 1, 100'000, "recipients a worker claims per query"),
      duration<&C::outbound, &OutboundConfig::poll_interval>("outbound.poll_interval", 10ms, 60s, "queue polled this often when idle (integer milliseconds)"),
      duration<&C::outbound, &OutboundConfig::lease>("outbound.lease", 10s, 24h, "a claimed recipient is due again after this unless recorded (seconds)"),
      duration<&C::outbound, &OutboundConfig::retry_min>("outbound.retry_min", 1s, 24h, "first retry after a temporary failure (seconds); doubled per attempt"),
      duration<&C::outbound, &OutboundConfig::retry_max>("outbound.retry_max", 1s, 7 * 24h, "longest wait between attempts (seconds)"),
      duration<&C::outbound, &OutboundConfig::lifetime>("outbound.lifetime", 1s, 60 * 24h, "a message not delivered after this is returned to its sender (seconds)"),
      duration<&C::outbound, &OutboundConfig::delay_warning>("outbound.delay_warning", 0s, 60 * 24h, "the sender is told once when delivery takes longer (seconds); 0 = never"),
      duration<&C::outbound, &OutboundConfig::history>("outbound.history", 0s, 365 * 24h, "finished entries kept for `govmail queue show` (seconds)"),
      boolean<&C::outbound, &OutboundConfig::dkim_sign>("outbound.dkim_sign", "DKIM-sign with the From: domain's active key (govmail admin dkim generate)"),
      string<&C::outbound, &OutboundConfig::dkim_master_key_file>("outbound.dkim_master_key_file", kAnyString, "file of the master key (64 hex characters, mode 0600) sealing DKIM private keys in the database; \"\" = none"),
      boolean<&C::outbound, &OutboundConfig::dkim_master_key_create>("outbound.dkim_master_key_create", "create the master key file when it is missing and no DKIM key is sealed yet (development only)"),
      duration<&C::outbound, &OutboundConfig::connect_timeout>("outbound.connect_timeout", 1s, 600s, "TCP connect to a remote host (seconds)"),
      duration<&C::outbound, &OutboundConfig::command_timeout>("outbound.command_timeout", 1s, 3600s, "wait for a remote reply (seconds; RFC 5321 4.5.3.2: 5 minutes)"),
      duration<&C::outbound, &OutboundConfig::data_timeout>("outbound.data_timeout", 1s, 3600s, "wait for the reply to the end of data (seconds; RFC 5321: 10 minutes)"),
      boolean<&C::outbound, &OutboundConfig::mta_sts>("outbound.mta_sts", "honour MTA-STS policies (RFC 8461) of domains without a static route"),
      duration<&C::outbound, &OutboundConfig::mta_sts_timeout>("outbound.mta_sts_timeout", 1s, 600s, "one MTA-STS policy fetch over HTTPS (seconds)"),
      string<&C::outbound, &OutboundConfig::tls_ca_file>("outbound.tls_ca_file", kAnyString, "PEM trust anchors for verified TLS (tls=verify, MTA-STS); \"\" = system store"),

      integer<&C::limits, &LimitsConfig::max_connections>("limits.max_connections", 1, 1'000'000, "open connections over all services"),
      integer<&C::limits, &LimitsConfig::max_connections_per_ip>("limits.max_connections_per_ip", 1, 1'000'000, "open connections from one IP (one network: the prefixes below)"),
      integer<&C::limits, &LimitsConfig::ipv4_network_prefix>("limits.ipv4_network_prefix", 8, 32, "IPv4 addresses sharing this many leading bits count as one network"),
      integer<&C::limits, &LimitsConfig::ipv6_network_prefix>("limits.ipv6_network_prefix", 16, 128, "IPv6 addresses sharing this many leading bits count as one network"),
      integer<&C::limits, &LimitsConfig::max_preauth_connections_per_network>("limits.max_preauth_connections_per_network", 1, 1'000'000, "IMAP/POP3/submission connections not yet logged in, per network"),
      duration<&C::limits, &LimitsConfig::preauth_timeout>("limits.preauth_timeout", 1s, 1h, "IMAP/POP3/submission: connect to successful login, whole (seconds)"),
      duration<&C::limits, &LimitsConfig::mx_session_timeout>("limits.mx_session_timeout", 1s, 24h, "an MX (port 25) connection, whole (seconds)"),
      duration<&C::limits, &LimitsConfig::command_timeout>("limits.command_timeout", 1s, 24h, "one command line, literal or DATA, from its first byte to its end (seconds)"),
      integer<&C::limits, &LimitsConfig::max_inflight_message_bytes>("limits.max_inflight_message_bytes", 1 * KiB, 1024 * GiB, "message bytes held in memory by all sessions (SMTP 452 / IMAP NO [LIMIT] beyond)"),
      integer<&C::limits, &LimitsConfig::max_message_bytes>("limits.max_message_bytes", 1 * KiB, 4 * GiB, "largest message accepted (bytes)"),
      integer<&C::limits, &LimitsConfig::smtp_max_recipients>("limits.smtp_max_recipients", 100, 100'000, "RCPT TO per transaction (RFC 5321: at least 100)"),
      integer<&C::limits, &LimitsConfig::smtp_line_max>("limits.smtp_line_max", 512, 1 * MiB, "SMTP command line bytes (RFC 5321: at least 512)"),
      integer<&C::limits, &LimitsConfig::smtp_data_line_max>("limits.smtp_data_line_max", 1000, 16 * MiB, "line bytes inside DATA (RFC 5321: at least 1000)"),
      integer<&C::limits, &LimitsConfig::smtp_sender_domains_max>("limits.smtp_sender_domains_max", 4, 10'000, "distinct domains named by From/Sender/Reply-To of unauthenticated mail (each is looked up)"),
      integer<&C::limits, &LimitsConfig::smtp_max_commands_before_mail>("limits.smtp_max_commands_before_mail", 1, 10'000, "commands allowed before MAIL FROM"),
      integer<&C::limits, &LimitsConfig::max_bad_commands>("limits.max_bad_commands", 1, 1000, "bad commands before disconnect"),
      duration<&C::limits, &LimitsConfig::smtp_command_timeout>("limits.smtp_command_timeout", 1s, 1h, "wait for an SMTP command (seconds; RFC 5321: 5 minutes)"),
      duration<&C::limits, &LimitsConfig::smtp_data_timeout>("limits.smtp_data_timeout", 1s, 1h, "wait for each DATA chunk (seconds)"),
      integer<&C::limits, &LimitsConfig::imap_line_max>("limits.imap_line_max", 1 * KiB, 16 * MiB, "IMAP command line bytes, literals excluded"),
      integer<&C::limits, &LimitsConfig::imap_literal_max>("limits.imap_literal_max", 1 * KiB, 4 * GiB, "IMAP literal bytes (APPEND size)"),
      integer<&C::limits, &LimitsConfig::imap_message_cache_bytes>("limits.imap_message_cache_bytes", 0, 64 * GiB, "bytes of ENVELOPE, BODYSTRUCTURE and header blocks IMAP keeps in memory for FETCH (messages never change); 0: none"),
      integer<&C::limits, &LimitsConfig::imap_preauth_literal_max>("limits.imap_preauth_literal_max", 256, 1 * MiB, "IMAP literal bytes before login"),
      integer<&C::limits, &LimitsConfig::imap_max_commands_before_auth>("limits.imap_max_commands_before_auth", 1, 1000, "IMAP commands before LOGIN/AUTHENTICATE"),
      duration<&C::limits, &LimitsConfig::imap_idle_timeout>("limits.imap_idle_timeout", 1s, 24h, "idle IMAP connection lifetime (seconds; RFC 9051: at least 30 minutes)"),
      integer<&C::limits, &LimitsConfig::pop3_line_max>("limits.pop3_line_max", 255, 64 * KiB, "POP3 command line bytes (RFC 2449: at least 255)"),
      integer<&C::limits, &LimitsConfig::pop3_max_commands_before_auth>("limits.pop3_max_commands_before_auth", 1, 1000, "POP3 commands before a successful login"),
      duration<&C::limits, &LimitsConfig::pop3_idle_timeout>("limits.pop3_idle_timeout", 1s, 24h, "idle POP3 connection lifetime (seconds; RFC 1939: at least 10 minutes)"),
      integer<&C::limits, &LimitsConfig::mime_max_depth>("limits.mime_max_depth", 1, 10'000, "MIME nesting parsed at ingest; deeper parts stay unparsed in the blob"),
      integer<&C::limits, &LimitsConfig::mime_max_headers>("limits.mime_max_headers", 10, 1'000'000, "header fields parsed per message"),
      integer<&C::limits, &LimitsConfig::mime_max_parts>("limits.mime_max_parts", 1, 1'000'000, "MIME parts parsed per message"),

      choice<&C::log, &LogConfig::level>("log.level", {"trace", "debug", "info", "warn", "error"}, "least severe level written"),
      choice<&C::log, &LogConfig::format>("log.format", {"text", "json"}, "text for people, json lines for collectors"),

      integer<&C::admin, &AdminConfig::deleted_retention_days>("admin.deleted_retention_days", 0, 36500, "days a deleted account keeps its mail before `account purge` removes it"),
      integer<&C::admin, &AdminConfig::unused_days>("admin.unused_days", 1, 36500, "accounts not logged in for this many days are listed by `account unused`"),
      string<&C::admin, &AdminConfig::local_part_pattern>("admin.local_part_pattern", kNonEmpty, "local parts made from full names: {given} {surname} {middle} {initials} {all}"),
      integer<&C::admin, &AdminConfig::default_quota_mb>("admin.default_quota_mb", 0, 1 * MiB, "quota of imported accounts without quota_mb (MB); 0 = unlimited"),
      boolean<&C::admin, &AdminConfig::require_totp>("admin.require_totp", "admin API logins need a TOTP second factor"),
      string<&C::admin, &AdminConfig::totp_issuer>("admin.totp_issuer", kNonEmpty, "issuer name shown by authenticator apps"),

      boolean<&C::demo, &DemoConfig::seed>("demo.seed", "create the demo domain and accounts at first start (development only)"),
      string<&C::demo, &DemoConfig::domain>("demo.domain", kHostname, "demo domain"),
      strings<&C::demo, &DemoConfig::accounts>("demo.accounts", kLocalPart, "local parts of the demo accounts"),

      integer<&C::http, &HttpConfig::header_max>("http.header_max", 1 * KiB, 1 * MiB, "HTTP request line and headers (bytes); over it: 431"),
      integer<&C::http, &HttpConfig::body_max>("http.body_max", 1 * KiB, 4 * GiB, "any HTTP request body (bytes; at least jmap.max_size_upload and jmap.max_size_request to allow them); over it: 413"),
      duration<&C::http, &HttpConfig::request_timeout>("http.request_timeout", 1s, 1h, "one whole HTTP request read, first byte to last (seconds); then the connection closes"),
      duration<&C::http, &HttpConfig::keepalive_timeout>("http.keepalive_timeout", 1s, 1h, "an idle keep-alive connection waits this long for the next request (seconds)"),
      integer<&C::http, &HttpConfig::max_requests_per_connection>("http.max_requests_per_connection", 1, 1'000'000, "requests served on one connection before it closes"),
      integer<&C::http, &HttpConfig::rate_per_network>("http.rate_per_network", 0, 1'000'000, "HTTP requests per second from one network (limits.*_network_prefix); beyond: 429; 0 = no limit"),
      integer<&C::http, &HttpConfig::rate_burst>("http.rate_burst", 1, 10'000'000, "requests one network may send at once above http.rate_per_network"),

      integer<&C::jmap, &JmapConfig::max_size_upload>("jmap.max_size_upload", 1 * KiB, 4 * GiB, "largest JMAP blob upload (bytes; RFC 8620 maxSizeUpload)"),
      integer<&C::jmap, &JmapConfig::max_concurrent_upload>("jmap.max_concurrent_upload", 1, 1000, "uploads of one account at once, per process (maxConcurrentUpload)"),
      integer<&C::jmap, &JmapConfig::max_size_request>("jmap.max_size_request", 1 * KiB, 1 * GiB, "largest JMAP API request (bytes; maxSizeRequest)"),
      integer<&C::jmap, &JmapConfig::max_concurrent_requests>("jmap.max_concurrent_requests", 1, 1000, "API requests of one account at once, per process (maxConcurrentRequests)"),
      integer<&C::jmap, &JmapConfig::max_calls_in_request>("jmap.max_calls_in_request", 1, 10'000, "method calls in one API request (maxCallsInRequest)"),
      integer<&C::jmap, &JmapConfig::max_objects_in_get>("jmap.max_objects_in_get", 1, 100'000, "ids in one /get (maxObjectsInGet)"),
      integer<&C::jmap, &JmapConfig::max_objects_in_set>("jmap.max_objects_in_set", 1, 100'000, "create + update + destroy in one /set (maxObjectsInSet)"),
      duration<&C::jmap, &JmapConfig::upload_ttl>("jmap.upload_ttl", 60s, 30 * 24h, "an uploaded blob is deleted this long after upload (seconds)"),
      duration<&C::jmap, &JmapConfig::session_idle_timeout>("jmap.session_idle_timeout", 60s, 30 * 24h, "a login token (cookie or bearer) unused this long expires (seconds)"),
      duration<&C::jmap, &JmapConfig::session_lifetime>("jmap.session_lifetime", 60s, 365 * 24h, "a login token expires this long after the login, used or not (seconds)"),
      duration<&C::jmap, &JmapConfig::eventsource_ping_min>("jmap.eventsource_ping_min", 1s, 3600s, "smallest ping interval an EventSource client may ask for (seconds)"),
      integer<&C::jmap, &JmapConfig::max_eventsource_per_account>("jmap.max_eventsource_per_account", 1, 1000, "open push streams of one account, per process"),

      boolean<&C::search, &SearchConfig::use_index>("search.use_index", "IMAP SEARCH text keys go through the search index (false: every message is read)"),
      boolean<&C::search, &SearchConfig::indexer>("search.indexer", "this process may run the search indexer (one process per database holds its lease)"),
      integer<&C::search, &SearchConfig::shards>("search.shards", 1, 4096, "Xapian databases under var_dir/search; an account is in shard id % shards (changing it needs `govmail search reindex --all`)"),
      integer<&C::search, &SearchConfig::batch>("search.batch", 1, 100'000, "queued messages indexed per Xapian commit"),
      duration<&C::search, &SearchConfig::poll_interval>("search.poll_interval", 10ms, 60s, "how often an idle indexer looks at the queue"),
      duration<&C::search, &SearchConfig::lease_ttl>("search.lease_ttl", 5s, 3600s, "an indexer that has not renewed its lease for this long is replaced"),
      integer<&C::search, &SearchConfig::threads>("search.threads", 1, 256, "worker threads for Xapian reads and writes"),
      integer<&C::search, &SearchConfig::max_query_bytes>("search.max_query_bytes", 16, 1 * MiB, "bytes of one search string; longer ones are refused"),
      integer<&C::search, &SearchConfig::max_query_terms>("search.max_query_terms", 1, 10'000, "text keys of one SEARCH, words of one query; more are refused"),
      integer<&C::search, &SearchConfig::max_wildcard_terms>("search.max_wildcard_terms", 10, 10'000'000, "index words a prefix or infix may expand to; past it IMAP reads the candidates' text, a query is refused"),
      integer<&C::search, &SearchConfig::max_pending>("search.max_pending", 0, 10'000'000, "queued (not yet indexed) messages of an account past which IMAP SEARCH does without the index"),

      string<&C::archive, &ArchiveConfig::signing_key_file>("archive.signing_key_file", kAnyString, "Ed25519 checkpoint key (hex, mode 0600), created at first use; \"\" = server.var_dir/archive-signing.key"),
      string<&C::archive, &ArchiveConfig::public_key_file>("archive.public_key_file", kAnyString, "public key (64 hex characters) `archive verify` trusts; \"\" = the key pinned in the database at first key creation"),
      integer<&C::archive, &ArchiveConfig::audit_retention_days>("archive.audit_retention_days", 1, 36'500, "audit-log entries older than this many days are pruned by `archive audit-prune`"),
      duration<&C::archive, &ArchiveConfig::link_interval>("archive.link_interval", 50ms, 1h, "`serve` links the journal entries committed since into their chain this often"),
      duration<&C::archive, &ArchiveConfig::checkpoint_interval>("archive.checkpoint_interval", 60s, 7 * 24h, "`serve` signs the archive's chain heads this often (seconds)"),
      duration<&C::archive, &ArchiveConfig::login_audit_flush>("archive.login_audit_flush", 10ms, 60s, "protocol logins are written to the audit log in one statement this often; a crash loses at most one interval"),
      integer<&C::archive, &ArchiveConfig::login_audit_queue_max>("archive.login_audit_queue_max", 100, 10'000'000, "logins waiting for the audit log past which a login is refused (temporary failure)"),
      integer<&C::archive, &ArchiveConfig::search_scan_max>("archive.search_scan_max", 100, 10'000'000, "journal entries one auditor search reads"),
      integer<&C::archive, &ArchiveConfig::search_results_max>("archive.search_results_max", 1, 1'000'000, "journal entries one auditor search returns"),
      integer<&C::archive, &ArchiveConfig::export_max>("archive.export_max", 1, 10'000'000, "messages one archive export writes"),
      integer<&C::archive, &ArchiveConfig::index_batch>("archive.index_batch", 1, 100'000, "journal entries the auditors' text index takes in one round (one Xapian commit)"),
      duration<&C::archive, &ArchiveConfig::index_interval>("archive.index_interval", 100ms, 1h, "pause of the auditors' text indexer after a round that found less than a full batch"),
      duration<&C::archive, &ArchiveConfig::index_delay>("archive.index_delay", 0ms, 24h, "age of a journal entry before the auditors' text indexer takes it"),
  };
  // clang-format on
  return entries;
}

const Entry* find_entry(std::string_view key) {
  for (const Entry& e : schema())
    if (e.key == key) return &e;
  return nullptr;
}

bool is_section(std::string_view path) {
  for (const Entry& e : schema())
    if (e.key.size() > path.size() && e.key.starts_with(path) && e.key[path.size()] == '.')
      return true;
  return false;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string_view leaf(std::string_view key) {
  const auto dot = key.rfind('.');
  return dot == std::string_view::npos ? key : key.substr(dot + 1);
}

// The closest known key or section: a typo, or a key put in the wrong section.
std::optional<std::string> suggest(std::string_view unknown) {
  std::vector<std::string> candidates;
  for (const Entry& e : schema()) {
    candidates.emplace_back(e.key);
    candidates.emplace_back(e.key.substr(0, e.key.find('.')));
  }
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(2, unknown.size() / 4) + 1;
  for (const std::string& c : candidates) {
    std::size_t d = edit_distance(unknown, c);
    if (c.find('.') != std::string::npos && leaf(c) == leaf(unknown)) d = 1;
    if (d < best_distance) best_distance = d, best = c;
  }
  return best;
}

// ---- parsing -----------------------------------------------------------------------------------

struct Parser {
  Config& config;
  std::string file;
  std::vector<std::pair<std::uint32_t, std::string>> errors;  // (line, message)
  std::map<std::string_view, std::uint32_t> lines;            // key -> line it was set on

  void error(std::uint32_t line, std::string message) {
    errors.emplace_back(line, file + ":" + std::to_string(line) + ": " + std::move(message));
  }

  void walk(const TValue& table, const std::string& prefix) {
    for (const auto& [name, value] : table.as_table()) {
      const std::string path = prefix.empty() ? name : prefix + "." + name;
      const std::uint32_t line = value.location().line();
      if (const Entry* entry = find_entry(path)) {
        lines[entry->key] = line;
        if (auto complaint = entry->set(config, value))
          error(line, "key '" + path + "': " + *complaint);
      } else if (value.is_table() && is_section(path)) {
        walk(value, path);
      } else {
        const auto hint = suggest(path);
        error(line, "unknown key '" + path + "'" +
                        (hint ? " (did you mean '" + *hint + "'?)" : std::string()));
      }
    }
  }

  std::uint32_t line_of(std::string_view key) const {
    const auto it = lines.find(key);
    return it == lines.end() ? 0 : it->second;
  }

  void check_lockout() {
    if (config.auth.lockout_base > config.auth.lockout_max)
      error(line_of("auth.lockout_base"),
            "key 'auth.lockout_base': must not exceed auth.lockout_max (" +
                format_duration(config.auth.lockout_max) + ")");
    if (config.auth.max_failures_per_account_total < config.auth.max_failures_per_account)
      error(line_of("auth.max_failures_per_account_total"),
            "key 'auth.max_failures_per_account_total': must not be below "
            "auth.max_failures_per_account (" +
                std::to_string(config.auth.max_failures_per_account) + ")");
  }

  // Admin passwords, TOTP codes and bearer tokens cross HTTP: in clear only on loopback.
  void check_plaintext_http() {
    for (const std::string& text : config.listen.http) {
      const ListenAddress a = *parse_listen_address(text);
      if (is_loopback_host(a)) continue;
      error(line_of("listen.http"),
            "key 'listen.http': " + text +
                " is not a loopback address; plaintext HTTP would carry passwords and tokens "
                "in clear: serve it from listen.https (TLS)");
    }
  }

  // 127.0.0.0/8 or ::1, however written (parse_listen_address has checked the syntax).
  static bool is_loopback_host(const ListenAddress& a) {
    unsigned char b[16] = {};
    if (inet_pton(a.v6 ? AF_INET6 : AF_INET, a.host.c_str(), b) != 1) return false;
    if (!a.v6) return b[0] == 127;
    static constexpr unsigned char kV6Loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                                      0, 0, 0, 0, 0, 0, 0, 1};
    return std::equal(b, b + 16, kV6Loopback);
  }

  // Two services on one address (or on a wildcard of the same family and port) cannot bind.
  void check_listen_conflicts() {
    struct Bound {
      ListenAddress addr;
      std::string_view key;
    };
    std::vector<Bound> bound;
    for (const Entry& e : schema()) {
      if (!e.key.starts_with("listen.")) continue;
      const auto& list = list_of(e.key);
      for (const std::string& text : list) {
        const ListenAddress a = *parse_listen_address(text);
        for (const Bound& b : bound) {
          const bool wildcard = a.host == "0.0.0.0" || a.host == "::" || b.addr.host == "0.0.0.0" ||
                                b.addr.host == "::";
          if (a.port == b.addr.port && a.v6 == b.addr.v6 && (a.host == b.addr.host || wildcard))
            error(line_of(e.key), "key '" + std::string(e.key) + "': address " + text +
                                      " conflicts with " + std::string(b.key));
        }
        bound.push_back({a, e.key});
      }
    }
  }

  const std::vector<std::string>& list_of(std::string_view key) const {
    const ListenConfig& l = config.listen;
    if (key == "listen.smtp") return l.smtp;
    if (key == "listen.submission") return l.submission;
    if (key == "listen.submissions") return l.submissions;
    if (key == "listen.imap") return l.imap;
    if (key == "listen.imaps") return l.imaps;
    if (key == "listen.pop3") return l.pop3;
    if (key == "listen.pop3s") return l.pop3s;
    if (key == "listen.https") return l.https;
    return l.http;
  }
};

// "[error] toml::parse_xxx: what\n --> file\n ..." -> "what" plus toml11's source excerpt.
std::string syntax_message(const toml::syntax_error& e) {
  std::string what = e.what();
  const auto newline = what.find('\n');
  std::string head = what.substr(0, newline);
  if (head.starts_with("[error] ")) head.erase(0, 8);
  if (head.starts_with("toml::")) {
    const auto colon = head.find(": ");
    if (colon != std::string::npos) head.erase(0, colon + 2);
  }
  const std::string rest = newline == std::string::npos ? "" : what.substr(newline);
  return e.location().file_name() + ":" + std::to_string(e.location().line()) +
         ": TOML syntax error: " + head + rest;
}

}  // namespace

std::optional<ListenAddress> parse_listen_address(std::string_view text) {
  ListenAddress out;
  std::string_view host, port;
  if (text.starts_with("[")) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    out.v6 = true;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  out.host = std::string(host);
  unsigned char buf[16];
  if (inet_pton(out.v6 ? AF_INET6 : AF_INET, out.host.c_str(), buf) != 1) return std::nullopt;
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  const unsigned long n = std::stoul(std::string(port));
  if (n == 0 || n > 65535) return std::nullopt;
  out.port = static_cast<std::uint16_t>(n);
  return out;
}

namespace {

bool valid_route_pattern(std::string_view p) {
  if (p == "*") return true;
  if (p.starts_with("*.")) p.remove_prefix(2);
  return valid_hostname(p);
}

// "host", "host:port", "[ip]" or "[ip]:port" into route.host / route.port.
bool parse_route_host(std::string_view text, OutboundRoute& route) {
  std::string_view rest;
  if (text.starts_with("[")) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return false;
    route.host = std::string(text.substr(1, close - 1));
    unsigned char buf[16];
    if (inet_pton(AF_INET, route.host.c_str(), buf) != 1 &&
        inet_pton(AF_INET6, route.host.c_str(), buf) != 1)
      return false;
    rest = text.substr(close + 1);
  } else {
    const auto colon = std::min(text.find(':'), text.size());
    route.host = std::string(text.substr(0, colon));
    if (!valid_hostname(route.host)) return false;
    rest = text.substr(colon);
  }
  if (rest.empty()) return true;
  const std::string_view port = rest.substr(1);
  if (rest[0] != ':' || port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  const unsigned long n = std::stoul(std::string(port));
  if (n == 0 || n > 65535) return false;
  route.port = static_cast<std::uint16_t>(n);
  return true;
}

}  // namespace

std::optional<OutboundRoute> parse_outbound_route(std::string_view text) {
  std::vector<std::string_view> words;
  for (std::size_t i = 0; i < text.size();) {
    while (i < text.size() && text[i] == ' ') ++i;
    const auto end = std::min(text.find(' ', i), text.size());
    if (end > i) words.push_back(text.substr(i, end - i));
    i = end;
  }
  if (words.empty() || !valid_route_pattern(words[0])) return std::nullopt;
  OutboundRoute route;
  route.pattern = std::string(words[0]);
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string_view w = words[i];
    if (w.starts_with("tls=")) {
      const std::string_view mode = w.substr(4);
      if (mode != "none" && mode != "opportunistic" && mode != "required" && mode != "verify")
        return std::nullopt;
      route.tls = std::string(mode);
    } else if (w.starts_with("auth=")) {
      const auto colon = w.find(':');
      if (colon == std::string_view::npos || colon == 5 || colon + 1 == w.size())
        return std::nullopt;
      route.auth_user = std::string(w.substr(5, colon - 5));
      route.auth_password = std::string(w.substr(colon + 1));
    } else if (i == 1 && w.find('=') == std::string_view::npos) {
      if (!parse_route_host(w, route)) return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  // A password would cross the network in clear without TLS.
  if (!route.auth_user.empty() && (route.tls == "none" || route.tls == "opportunistic"))
    return std::nullopt;
  if (!route.auth_user.empty() && route.tls.empty()) route.tls = "required";
  return route;
}

Result<Config, ConfigError> parse_config(std::string_view toml_text, std::string_view file_name) {
  Config config;
  config.source = std::filesystem::path(file_name);
  Parser parser{config, std::string(file_name), {}, {}};
  try {
    std::istringstream in{std::string(toml_text)};
    const TValue root =
        toml::parse<toml::discard_comments, std::map, std::vector>(in, std::string(file_name));
    parser.walk(root, "");
  } catch (const toml::syntax_error& e) {
    return unexpected(ConfigError{syntax_message(e)});
  } catch (const std::exception& e) {
    return unexpected(ConfigError{std::string(file_name) + ": " + e.what()});
  }
  if (parser.errors.empty()) {
    parser.check_lockout();
    parser.check_listen_conflicts();
    parser.check_plaintext_http();
  }
  if (!parser.errors.empty()) {
    std::stable_sort(parser.errors.begin(), parser.errors.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string message;
    for (const auto& [line, text] : parser.errors) message += (message.empty() ? "" : "\n") + text;
    return unexpected(ConfigError{std::move(message)});
  }
  return config;
}

Result<Config, ConfigError> load_config(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return unexpected(ConfigError{file.string() + ": cannot open: " + std::strerror(errno)});
  std::string text(kMaxConfigBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxConfigBytes)
    return unexpected(ConfigError{file.string() + ": larger than 1 MiB"});
  auto config = parse_config(text, file.string());
  if (!config) return config;
  if (const char* url = std::getenv("GOVMAIL_DATABASE_URL"); url && *url)
    config->database.url = url;
  return config;
}

std::string render_config(const Config& config) {
  std::string out = "# Effective configuration";
  if (!config.source.empty()) out += " (loaded from " + config.source.string() + ")";
  out += "\n";
  std::string_view section;
  for (const Entry& e : schema()) {
    const auto dot = e.key.find('.');
    if (e.key.substr(0, dot) != section) {
      section = e.key.substr(0, dot);
      out += "\n[" + std::string(section) + "]\n";
    }
    out += "# " + std::string(e.doc) + "\n";
    out += std::string(e.key.substr(dot + 1)) + " = " + e.show(config) + "\n";
  }
  return out;
}

std::vector<std::string> config_keys() {
  std::vector<std::string> keys;
  for (const Entry& e : schema()) keys.emplace_back(e.key);
  return keys;
}

}  // namespace govmail::core
