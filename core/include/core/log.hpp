// Logging: spdlog to stderr, as text for people or JSON lines for collectors. Log through the
// default logger (spdlog::info(...)). Client-supplied text goes through log_safe() first
// (STYLE.md 10): never a raw request, never a password or message content.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "core/config.hpp"

namespace govmail::core {

// Installs the default logger. `sink` replaces stderr (tests capture output with it).
// Safe to call again (e.g. after the configuration is loaded).
void init_logging(const LogConfig& config, std::shared_ptr<spdlog::sinks::sink> sink = nullptr);

// Untrusted text made fit for a log line: at most `max` bytes of input are shown (cut on a
// UTF-8 boundary, then "..."); control characters, backslash and invalid UTF-8 are escaped
// (\r \n \t \\ \xNN), so a client cannot forge log lines or break the terminal.
std::string log_safe(std::string_view untrusted, std::size_t max = 100);

}  // namespace govmail::core
