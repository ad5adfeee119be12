// COMPRESS=DEFLATE (RFC 4978): raw deflate in both directions, each write flushed with
// Z_SYNC_FLUSH so that the client can read every response at once.
#pragma once
#include <memory>
#include <string>
#include <string_view>

namespace govmail::imap {

class Deflate {
 public:
  Deflate();
  ~Deflate();
  Deflate(const Deflate&) = delete;
  Deflate& operator=(const Deflate&) = delete;

  std::string compress(std::string_view plain);

  // Inflating is bounded per call: 64 KiB of input may inflate to ~66 MB, which must never sit
  // in one buffer. push() queues what was read; inflate_some() appends at most `max` bytes of
  // its output to `plain` and keeps the rest of the input for the next call.
  void push(std::string_view packed);
  // False on corrupt input (the connection must then be closed).
  bool inflate_some(std::string& plain, std::size_t max);
  // Pushed input not yet inflated, or output zlib may still hold: call inflate_some() again
  // before reading more.
  bool has_input() const { return pos_ < pending_.size() || output_full_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string pending_;  // pushed input; at most one read's worth
  std::size_t pos_ = 0;  // inflated up to here
  bool output_full_ = false;
};

}  // namespace govmail::imap
