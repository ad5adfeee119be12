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
  // False on corrupt input (the connection must then be closed).
  bool decompress(std::string_view packed, std::string& plain);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace govmail::imap
