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

void Deflate::push(std::string_view packed) {
  if (pos_ == pending_.size()) {
    pending_.clear();
    pos_ = 0;
  }
  pending_.append(packed);
}

bool Deflate::inflate_some(std::string& plain, std::size_t max) {
  auto& z = impl_->in;
  const std::size_t old = plain.size();
  plain.resize(old + max);
  z.next_in = reinterpret_cast<Bytef*>(pending_.data() + pos_);
  z.avail_in = static_cast<uInt>(pending_.size() - pos_);
  z.next_out = reinterpret_cast<Bytef*>(plain.data() + old);
  z.avail_out = static_cast<uInt>(max);
  int rc = inflate(&z, Z_SYNC_FLUSH);
  plain.resize(old + max - z.avail_out);
  pos_ = pending_.size() - z.avail_in;
  if (pos_ == pending_.size()) {
    pending_.clear();
    pos_ = 0;
  }
  if (rc == Z_STREAM_END) {  // the client ended its stream: what follows is not ours to read
    pending_.clear();
    pos_ = 0;
  }
  output_full_ = rc == Z_OK && z.avail_out == 0;
  return rc == Z_OK || rc == Z_BUF_ERROR || rc == Z_STREAM_END;
}

}  // namespace govmail::imap
