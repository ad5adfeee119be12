#include "core/line_reader.hpp"

namespace govmail::core {

LineReader::LineReader(std::size_t max_line, LineEnding ending)
    : max_line_(max_line), ending_(ending) {}

void LineReader::feed(std::string_view bytes) {
  // Compact only here: views handed out by next() / take_bytes() stay valid until this call.
  if (head_ == buf_.size()) {
    buf_.clear();
    head_ = 0;
  } else if (head_ >= buf_.size() / 2) {  // keeps feeding amortised O(n)
    buf_.erase(0, head_);
    head_ = 0;
  }
  buf_.append(bytes);
}

void LineReader::consume(std::size_t n) {
  head_ += n;
  scanned_ = 0;
}

LineReader::Event LineReader::next() {
  if (discarding_) {
    Event skipped = skip_to_lf();
    if (discarding_) return skipped;
  }
  std::string_view data = pending();
  std::size_t from = scanned_;  // bytes before it hold no line end: fed a byte at a time stays O(n)
  for (;;) {
    std::size_t lf = data.find('\n', from);
    if (lf == std::string_view::npos) break;
    bool bare = lf == 0 || data[lf - 1] != '\r';
    if (!bare || ending_ == LineEnding::crlf_or_lf) return take_line(lf);
    from = lf + 1;  // crlf_only: a bare LF is part of the line
  }
  scanned_ = data.size();
  // No terminator yet. A trailing CR may be the first half of a CRLF split across reads.
  std::size_t content = data.size() - (!data.empty() && data.back() == '\r' ? 1 : 0);
  if (content > max_line_) {
    consume(data.size());
    discarding_ = true;
    return {Kind::too_long, {}, false};
  }
  return {};
}

LineReader::Event LineReader::take_line(std::size_t lf) {
  std::string_view data = pending();
  bool crlf = lf > 0 && data[lf - 1] == '\r';
  std::string_view text = data.substr(0, crlf ? lf - 1 : lf);
  bool bare = !crlf || text.find('\n') != std::string_view::npos;
  consume(lf + 1);  // head_ moves; the bytes stay in buf_ until the next feed
  if (text.size() > max_line_) return {Kind::too_long, {}, bare};
  return {Kind::line, text, bare};
}

LineReader::Event LineReader::skip_to_lf() {
  std::size_t lf = pending().find('\n');
  if (lf == std::string_view::npos) {
    consume(buffered());
    return {};
  }
  consume(lf + 1);
  discarding_ = false;
  return {};
}

std::string_view LineReader::take_bytes(std::size_t n) {
  std::string_view out = pending().substr(0, n);
  consume(out.size());
  return out;
}

void LineReader::release_buffer() {
  if (buffered() != 0) return;
  std::string().swap(buf_);
  head_ = 0;
  scanned_ = 0;
}

std::size_t LineReader::discard_buffered() {
  std::size_t n = buffered();
  consume(n);
  discarding_ = false;
  return n;
}

}  // namespace govmail::core
