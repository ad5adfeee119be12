// Command framing: lines and the literals they announce, each bounded by the configured limits.
#include <charconv>

#include "imap/proto.hpp"

namespace govmail::imap {
namespace {

struct LiteralMarker {
  std::uint64_t size = 0;
  bool sync = true;
};

// "{123}", "{123+}" or "~{123}" at the very end of a line.
std::optional<LiteralMarker> literal_marker(std::string_view line) {
  if (line.empty() || line.back() != '}') return std::nullopt;
  auto open = line.rfind('{');
  if (open == std::string_view::npos) return std::nullopt;
  auto digits = line.substr(open + 1, line.size() - open - 2);
  LiteralMarker m;
  if (!digits.empty() && (digits.back() == '+' || digits.back() == '-')) {
    m.sync = false;
    digits.remove_suffix(1);
  }
  if (digits.empty() || digits.size() > 19) return std::nullopt;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), m.size);
  if (ec != std::errc() || p != digits.data() + digits.size()) return std::nullopt;
  return m;
}

// The tag of a line, for answering an error about it.
std::string tag_of(std::string_view line) {
  auto sp = line.find(' ');
  auto tag = line.substr(0, sp);
  if (tag.empty() || tag.size() > 64) return "*";
  for (unsigned char c : tag)
    if (c <= ' ' || c >= 0x7f || c == '{' || c == '(' || c == ')' || c == '"' || c == '*' ||
        c == '%' || c == '\\' || c == '+')
      return "*";
  return std::string(tag);
}

}  // namespace

Receiver::Receiver(ReceiverLimits limits) : limits_(limits), reader_(limits.line_max) {
  if (limits_.budget) held_ = core::ByteBudget::Reservation(*limits_.budget);
}

void Receiver::reset() {
  lines_.clear();
  literals_.clear();
  line_bytes_ = 0;
  literal_bytes_ = 0;
  literal_left_ = 0;
  in_literal_ = false;
}

void Receiver::release_buffers() {
  if (!idle()) return;
  held_.release();
  std::vector<std::string>().swap(lines_);
  std::vector<std::string>().swap(literals_);
  reader_.release_buffer();
}

Receiver::Event Receiver::next() {
  // Asked for the next command: the last one has been handled, its literals stored or dropped.
  if (lines_.empty() && !in_literal_) held_.release();
  for (;;) {
    if (in_literal_) {
      while (literal_left_ > 0) {
        auto chunk = reader_.take_bytes(literal_left_);
        if (chunk.empty()) return {};
        literals_.back().append(chunk);
        literal_left_ -= chunk.size();
      }
      in_literal_ = false;
    }
    auto ev = reader_.next();
    if (ev.kind == core::LineReader::Kind::need_more) return {};
    if (ev.kind == core::LineReader::Kind::too_long) {
      std::string tag = lines_.empty() ? "*" : tag_of(lines_.front());
      reset();
      return {.kind = Kind::error,
              .tag = tag,
              .reason = "[TOOBIG] Line too long (limits.imap_line_max)"};
    }
    auto r = on_line(ev.text);
    if (r.kind != Kind::need_more) return r;
  }
}

Receiver::Event Receiver::on_line(std::string_view text) {
  line_bytes_ += text.size();
  if (line_bytes_ > limits_.line_max) {
    std::string tag = tag_of(lines_.empty() ? text : std::string_view(lines_.front()));
    auto m = literal_marker(text);
    reset();
    // A non-synchronising literal follows regardless: the stream cannot be resynchronised.
    return {.kind = Kind::error,
            .tag = tag,
            .reason = "[TOOBIG] Command too long (limits.imap_line_max)",
            .fatal = m && !m->sync};
  }
  lines_.emplace_back(text);
  auto m = literal_marker(text);
  if (!m) {
    auto parsed = parse_command(lines_, literals_);
    reset();
    if (!parsed)
      return {.kind = Kind::error, .tag = parsed.error().tag, .reason = parsed.error().reason};
    return {.kind = Kind::command, .command = std::move(*parsed)};
  }
  const bool preauth_cap = !authenticated_ && limits_.preauth_literal_max < limits_.literal_max;
  const std::uint64_t max = preauth_cap ? limits_.preauth_literal_max : limits_.literal_max;
  if (m->size > max || literal_bytes_ + m->size > max) {
    std::string tag = tag_of(lines_.front());
    reset();
    // A synchronising literal is never sent without our "+": refusing it keeps the stream in sync.
    return {
        .kind = Kind::error,
        .tag = tag,
        .reason = preauth_cap
                      ? "[TOOBIG] Literal too big before login (limits.imap_preauth_literal_max)"
                      : "[TOOBIG] Literal too big (limits.imap_literal_max)",
        .fatal = !m->sync};
  }
  if (limits_.budget && !held_.grow(m->size)) {
    std::string tag = tag_of(lines_.front());
    reset();
    return {.kind = Kind::error,
            .tag = tag,
            .reason = "[LIMIT] Server busy, try again later (limits.max_inflight_message_bytes)",
            .fatal = !m->sync,
            .no = true};
  }
  literal_bytes_ += m->size;
  literals_.emplace_back();
  literals_.back().reserve(std::min<std::uint64_t>(m->size, 1 << 20));
  literal_left_ = m->size;
  in_literal_ = true;
  if (m->sync) return {.kind = Kind::continuation};
  return {};
}

Receiver::Event Receiver::next_line() {
  auto ev = reader_.next();
  if (ev.kind == core::LineReader::Kind::need_more) return {};
  if (ev.kind == core::LineReader::Kind::too_long)
    return {.kind = Kind::error, .tag = "*", .reason = "[TOOBIG] Line too long"};
  return {.kind = Kind::line, .line = std::string(ev.text)};
}

}  // namespace govmail::imap
