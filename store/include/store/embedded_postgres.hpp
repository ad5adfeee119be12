// The embedded default: a private PostgreSQL cluster under var/pg that govmail initialises,
// starts and stops itself (no system service touched). Listens on a unix socket only.
// As root, the cluster runs as the unprivileged 'postgres' user (initdb refuses root).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/result.hpp"

namespace govmail::store {

class EmbeddedPostgres {
 public:
  struct Options {
    std::filesystem::path dir = "var/pg";
    std::uint16_t port = 54329;
    std::string database = "govmail";
    // serve: a cluster left running by a killed govmail is adopted and stopped at exit.
    // admin commands: a running cluster belongs to the server using it and is left running.
    bool stop_adopted = true;
  };

  // Initialises the cluster on first use, starts it unless already running (a cluster left
  // running by a killed govmail is adopted), and creates the database. Blocking: call before the
  // io_context runs.
  static govmail::Result<EmbeddedPostgres, std::string> start(const Options& opts);

  EmbeddedPostgres(EmbeddedPostgres&& o) noexcept;
  EmbeddedPostgres& operator=(EmbeddedPostgres&&) = delete;
  ~EmbeddedPostgres();

  const std::string& conninfo() const { return conninfo_; }
  bool started_here() const { return started_here_; }
  // Fast shutdown (waits for it). Idempotent; also done by the destructor if started here.
  void stop();

 private:
  EmbeddedPostgres() = default;
  std::filesystem::path dir_;
  std::string conninfo_;
  bool started_here_ = false;
  bool stopped_ = false;
};

}  // namespace govmail::store
