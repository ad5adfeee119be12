// Public entries to the ingest decoders (store/include/store/mime.hpp).
#include "decode.hpp"
#include "store/mime.hpp"

namespace govmail::store {

std::string decode_header_text(std::string_view raw) {
  return mime::decode_header_text(raw);
}

std::string decode_transfer_encoding(std::string_view body, std::string_view encoding) {
  return mime::decode_transfer(body, encoding);
}

std::string decode_text_part(std::string_view body, std::string_view encoding,
                             std::string_view charset) {
  return mime::to_utf8(mime::decode_transfer(body, encoding), charset, nullptr);
}

std::string html_text(std::string_view html) {
  return mime::html_to_text(html);
}

}  // namespace govmail::store
