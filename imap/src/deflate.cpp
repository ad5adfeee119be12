#include "deflate.hpp"

#include <zlib.h>

#include <stdexcept>

namespace govmail::imap {

struct Deflate::Impl {
  z_stream out{};
  z_stream in{};
};

Deflate::Deflate() : impl_(std::make_unique<Impl>()) {
  // -15: raw deflate without zlib header (RFC 4978 section 4); memLevel 8 is zlib's default.
  if (deflateInit2(&impl_->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) !=
          Z_OK ||
      inflateInit2(&impl_->in, -15) != Z_OK)
    throw std::runtime_error("zlib initialisation failed");
}

Deflate::~Deflate() {
  deflateEnd(&impl_->out);
  inflateEnd(&impl_->in);
}

std::string Deflate::compress(std::string_view plain) {
  std::string out;
  auto& z = impl_->out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  char buf[16384];
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    deflate(&z, Z_SYNC_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  } while (z.avail_out == 0);
  return out;
}

bool Deflate::decompress(std::string_view packed, std::string& plain) {
  auto& z = impl_->in;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
  z.avail_in = static_cast<uInt>(packed.size());
  char buf[16384];
  while (z.avail_in > 0) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    int rc = inflate(&z, Z_SYNC_FLUSH);
    if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) return false;
    plain.append(buf, sizeof buf - z.avail_out);
    if (rc == Z_BUF_ERROR && z.avail_out != 0) break;
  }
  return true;
}

}  // namespace govmail::imap
