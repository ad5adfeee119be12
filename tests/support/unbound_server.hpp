// A real unbound DNS server on 127.0.0.1 for tests (the `unbound` package, /usr/sbin/unbound):
// authoritative local data only, nothing recursive. Python twin: tests/integration/dns_support.py.
//
//   UnboundServer dns({"mx.example. MX 10 a.mx.example.", "a.mx.example. A 192.0.2.1"});
//   DnsOptions opts{.forwarders = {dns.forwarder()}};
//
// Records are zone-file lines (unbound local-data); their names must lie in one of `zones`
// (static local zones: other names there answer NXDOMAIN). The constructor returns once the
// server answers and throws std::runtime_error (with unbound's log) when it does not start.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace govmail::test {

class UnboundServer {
 public:
  explicit UnboundServer(std::vector<std::string> records,
                         std::vector<std::string> zones = {"example."});
  ~UnboundServer();  // SIGTERM (SIGKILL after 5 s), then removes its directory
  UnboundServer(const UnboundServer&) = delete;
  UnboundServer& operator=(const UnboundServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string forwarder() const { return "127.0.0.1@" + std::to_string(port_); }
  const std::string& log() const { return log_; }  // path of unbound's stderr

 private:
  bool start_once(const std::vector<std::string>& records, const std::vector<std::string>& zones);
  void stop();

  std::string dir_;
  std::string log_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// A UDP port on loopback that never answers (bound, never read): a DNS forwarder for timeouts.
class SilentPort {
 public:
  SilentPort();
  ~SilentPort();
  SilentPort(const SilentPort&) = delete;
  SilentPort& operator=(const SilentPort&) = delete;
  std::string forwarder() const { return "127.0.0.1@" + std::to_string(port_); }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace govmail::test
