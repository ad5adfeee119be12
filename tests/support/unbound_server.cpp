#include "unbound_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace govmail::test {
namespace {

constexpr const char* kUnbound = "/usr/sbin/unbound";

// A port free for both UDP and TCP on 127.0.0.1 right now (another process may still take it
// before unbound binds: the caller retries).
std::uint16_t free_port() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    int u = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (u < 0 || ::bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(u, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      if (u >= 0) ::close(u);
      continue;
    }
    int t = ::socket(AF_INET, SOCK_STREAM, 0);
    bool tcp_free = t >= 0 && ::bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (t >= 0) ::close(t);
    ::close(u);
    if (tcp_free) return ntohs(a.sin_port);
  }
  throw std::runtime_error("UnboundServer: no free port");
}

// Sends one query (type SOA) for `zone` and waits up to 200 ms for any answer.
bool answers(std::uint16_t port, const std::string& zone) {
  std::string q("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
  std::stringstream labels(zone);
  for (std::string label; std::getline(labels, label, '.');) {
    if (label.empty()) continue;
    q.push_back(static_cast<char>(label.size()));
    q += label;
  }
  q += std::string("\x00\x00\x06\x00\x01", 5);
  int s = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) return false;
  timeval tv{0, 200000};
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  char buf[512];
  bool ok = ::sendto(s, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) ==
                static_cast<ssize_t>(q.size()) &&
            ::recv(s, buf, sizeof buf, 0) >= 12 && buf[0] == '\x12' && buf[1] == '\x34';
  ::close(s);
  return ok;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

UnboundServer::UnboundServer(std::vector<std::string> records, std::vector<std::string> zones) {
  char tmpl[] = "/tmp/govmail-unbound-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("UnboundServer: mkdtemp failed");
  dir_ = tmpl;
  log_ = dir_ + "/unbound.log";
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (start_once(records, zones)) return;
    stop();
  }
  std::string output = read_file(log_);
  std::filesystem::remove_all(dir_);
  throw std::runtime_error("UnboundServer: unbound did not start: " + output);
}

UnboundServer::~UnboundServer() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

bool UnboundServer::start_once(const std::vector<std::string>& records,
                               const std::vector<std::string>& zones) {
  port_ = free_port();
  const std::string conf = dir_ + "/unbound.conf";
  {
    std::ofstream out(conf);
    out << "server:\n"
        << "  interface: 127.0.0.1\n"
        << "  port: " << port_ << "\n"
        << "  do-ip6: no\n"
        << "  num-threads: 1\n"
        << "  do-daemonize: no\n"
        << "  username: \"\"\n"
        << "  chroot: \"\"\n"
        << "  directory: \"" << dir_ << "\"\n"
        << "  pidfile: \"\"\n"
        << "  use-syslog: no\n"
        << "  logfile: \"\"\n"
        << "  verbosity: 1\n"
        << "  module-config: \"iterator\"\n"
        << "  do-not-query-localhost: no\n"
        << "  access-control: 127.0.0.0/8 allow\n";
    for (const std::string& z : zones) out << "  local-zone: \"" << z << "\" static\n";
    for (const std::string& r : records) out << "  local-data: '" << r << "'\n";
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::string c_flag = "-c";
  std::string d_flag = "-d";
  std::string exe = kUnbound;
  char* argv[] = {exe.data(), d_flag.data(), c_flag.data(), const_cast<char*>(conf.c_str()),
                  nullptr};
  int r = ::posix_spawn(&pid_, kUnbound, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (r != 0) {
    pid_ = -1;
    throw std::runtime_error(std::string("UnboundServer: cannot run ") + kUnbound);
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: config error or port taken
      pid_ = -1;
      return false;
    }
    if (answers(port_, zones.empty() ? std::string(".") : zones.front())) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

void UnboundServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > until) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
}

SilentPort::SilentPort() {
  fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("SilentPort: bind failed");
  port_ = ntohs(a.sin_port);
}

SilentPort::~SilentPort() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace govmail::test
