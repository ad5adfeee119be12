// Runs a bulk import end to end: parse, plan, (dry-run: stop), hash new passwords on every core,
// write the credentials file (mode 0600, created exclusively), apply in one transaction (its
// batches written while the later passwords are still hashing), audit.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "admin/import.hpp"
#include "core/awaitable_fwd.hpp"
#include "store/admin_store.hpp"

namespace govmail::admin {

struct ImportRequest {
  std::string csv_text;
  ImportOptions options;
  bool dry_run = false;
  bool skip_bad = false;
  std::optional<std::filesystem::path> credentials;  // required when accounts are created...
  bool credentials_in_outcome = false;  // ...unless they go back in ImportOutcome (HTTP API)
  std::uint64_t opslimit = 2, memlimit = 64u << 20;  // argon2id cost
  unsigned hash_threads = 0;                         // 0 = every core
  std::string actor, source;                         // for the audit log
};

struct ImportOutcome {
  ImportPlan plan;
  bool applied = false;
  std::string error;            // why nothing was applied (empty on success or dry run)
  std::string credentials_csv;  // with credentials_in_outcome, once applied: the new passwords
  // From the start of hashing to the last hash; from the last hash to the COMMIT (the database
  // writes run during the hashing: this is what is left of them).
  double hash_seconds = 0, apply_seconds = 0;
};

struct ImportProgress {
  std::function<void(std::string_view phase, std::size_t done, std::size_t total)> update;
};

awaitable<ImportOutcome> run_import(store::AdminStore& admin, ImportRequest req,
                                    ImportProgress progress = {});

// A one-line progress bar with rate and ETA, redrawn in place; silent when `out` is not a
// terminal (unless forced).
class ProgressBar {
 public:
  explicit ProgressBar(std::FILE* out, bool force = false);
  void update(std::string_view phase, std::size_t done, std::size_t total);
  void finish();  // ends the line

 private:
  std::FILE* out_;
  bool enabled_;
  bool drawn_ = false;
  std::string phase_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace govmail::admin
