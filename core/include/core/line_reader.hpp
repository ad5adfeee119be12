// Sans-I/O line framing for the text protocols (SMTP, IMAP): bytes in, events out, no Asio.
// The coroutine that owns the socket only moves bytes: feed() what was read, then call next()
// until it answers need_more. For literals and BDAT chunks, take_bytes() hands out raw bytes.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace govmail::core {

enum class LineEnding {
  crlf_or_lf,  // a bare LF also ends a line (flagged in Event::bare_lf)
  crlf_only,   // only CRLF ends a line; a bare LF stays in the text (flagged): SMTP DATA
};

class LineReader {
 public:
  enum class Kind {
    need_more,  // no complete line buffered: feed more bytes
    line,       // text holds the line without its CRLF / LF
    too_long,   // the line exceeded max_line; reported once, the rest up to LF is discarded
  };
  struct Event {
    Kind kind = Kind::need_more;
    std::string_view text;  // with line: valid until the next call on this reader
    bool bare_lf = false;   // the line ended with, or (crlf_only) contains, a bare LF
  };

  // max_line counts the bytes of a line without its terminator.
  explicit LineReader(std::size_t max_line, LineEnding ending = LineEnding::crlf_or_lf);

  // Appends bytes. Drain next() before feeding again: the buffer then stays under
  // max_line + the size of one read.
  void feed(std::string_view bytes);
  Event next();

  // Raw mode (literal, DATA chunk): up to n buffered bytes, removed from the buffer. An empty
  // result means feed more. Valid until the next call on this reader.
  std::string_view take_bytes(std::size_t n);

  // Drops everything buffered (STARTTLS: bytes pipelined before the handshake must never be
  // read as if they had come over TLS). Returns how many bytes were dropped.
  std::size_t discard_buffered();

  std::size_t buffered() const { return buf_.size() - head_; }
  // Part of a line has arrived (buffered, or being discarded after too_long): a command has
  // begun and its deadline runs.
  bool mid_line() const { return buffered() > 0 || discarding_; }
  std::size_t allocated() const { return buf_.capacity(); }  // memory held, whatever is unread
  // Frees the buffer when nothing is buffered (a connection about to wait long, IMAP IDLE):
  // it otherwise keeps the capacity of the longest read so far.
  void release_buffer();
  void set_max_line(std::size_t max_line) { max_line_ = max_line; }
  void set_line_ending(LineEnding ending) {
    ending_ = ending;
    scanned_ = 0;
  }

 private:
  std::string_view pending() const { return std::string_view(buf_).substr(head_); }
  void consume(std::size_t n);
  Event take_line(std::size_t lf);
  Event skip_to_lf();

  std::string buf_;
  std::size_t head_ = 0;     // start of unread bytes in buf_ (compacted lazily in feed)
  std::size_t scanned_ = 0;  // unread bytes already searched for a line end
  std::size_t max_line_;
  LineEnding ending_;
  bool discarding_ = false;  // after too_long: dropping bytes up to the next LF
};

}  // namespace govmail::core
