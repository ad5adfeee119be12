// POP3 wire pieces: command lines, numbers, unique-ids, dot-stuffing, SASL PLAIN.
#include "pop3/proto.hpp"

#include <cctype>
#include <cstring>

#include <fmt/format.h>

#include "core/base64.hpp"

namespace govmail::pop3 {

Result<Command, std::string> parse_command(std::string_view line) {
  for (unsigned char c : line)
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return unexpected(std::string("Control character in command line"));
  const auto space = line.find(' ');
  const std::string_view keyword = line.substr(0, space);
  if (keyword.size() < 3 || keyword.size() > 4)
    return unexpected(std::string(keyword.empty() ? "Empty command" : "Unknown command"));
  Command cmd;
  for (char c : keyword) {
    if (!std::isalpha(static_cast<unsigned char>(c)))
      return unexpected(std::string("Unknown command"));
    cmd.keyword += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (space == std::string_view::npos) return cmd;
  cmd.rest = std::string(line.substr(space + 1));
  std::string_view tail = cmd.rest;
  while (!tail.empty()) {
    const auto start = tail.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    tail.remove_prefix(start);
    const auto end = tail.find(' ');
    cmd.args.emplace_back(tail.substr(0, end));
    tail.remove_prefix(end == std::string_view::npos ? tail.size() : end);
  }
  return cmd;
}

std::optional<std::uint32_t> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  std::uint32_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return n;
}

std::string unique_id(std::uint32_t uidvalidity, std::uint32_t uid) {
  return fmt::format("{:08X}{:08X}", uid, uidvalidity);
}

void DotStuffer::emit(std::string_view bytes, std::string& out) {
  if (bytes.empty()) return;
  out.append(bytes);
  before_last_ = bytes.size() >= 2 ? bytes[bytes.size() - 2] : last_;
  last_ = bytes.back();
  emitted_ = true;
}

bool DotStuffer::feed(std::string_view p, std::string& out) {
  if (done_) return false;
  std::size_t i = 0, run = 0;  // bytes from `run` on are not yet copied
  while (i < p.size()) {
    if (at_line_start_) {
      if (in_body_ && remaining_ == 0) {  // TOP: every line asked for is out
        emit(p.substr(run, i - run), out);
        done_ = true;
        return false;
      }
      at_line_start_ = false;
      if (p[i] == '.') {
        emit(p.substr(run, i - run), out);
        out += '.';
        run = i;
      }
    }
    const void* nl = std::memchr(p.data() + i, '\n', p.size() - i);
    const std::size_t end =
        nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - p.data()) : p.size();
    if (body_lines_ && !in_body_ && line_empty_)
      for (std::size_t k = i; k < end && line_empty_; ++k) line_empty_ = p[k] == '\r';
    if (!nl) break;
    if (body_lines_) {
      if (in_body_)
        --remaining_;
      else if (line_empty_)
        in_body_ = true;  // the blank line ending the header
      line_empty_ = true;
    }
    at_line_start_ = true;
    i = end + 1;
  }
  emit(p.substr(run), out);
  return true;
}

void DotStuffer::finish(std::string& out) {
  if (emitted_ && !(before_last_ == '\r' && last_ == '\n')) out += "\r\n";
  out += ".\r\n";
}

std::string dot_stuffed(std::string_view message, std::optional<std::uint64_t> body_lines) {
  std::string out;
  out.reserve(message.size() + message.size() / 64 + 8);
  DotStuffer d(body_lines);
  d.feed(message, out);
  d.finish(out);
  return out;
}

Result<PlainCredentials, std::string> decode_sasl_plain(std::string_view base64) {
  auto raw = core::base64_decode(base64);
  if (!raw) return unexpected(std::string("Invalid base64"));
  const auto a = raw->find('\0');
  const auto b = a == std::string::npos ? a : raw->find('\0', a + 1);
  if (b == std::string::npos || raw->find('\0', b + 1) != std::string::npos)
    return unexpected(std::string("Invalid PLAIN response"));
  return PlainCredentials{raw->substr(0, a), raw->substr(a + 1, b - a - 1), raw->substr(b + 1)};
}

}  // namespace govmail::pop3
