// Public entries to the ingest decoders (store/include/store/mime.hpp).
#include <cctype>
#include "decode.hpp"
#include "store/mime.hpp"

namespace govmail::store {

std::string decode_header_text(std::string_view raw) {
  return mime::decode_header_text(raw);
}

std::string decode_transfer_encoding(std::string_view body, std::string_view encoding) {
  return mime::decode_transfer(body, encoding);
}

namespace {
bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (std::tolower(x) != std::tolower(y)) return false;
  }
  return true;
}
}  // namespace

std::string decoded_header_fields(std::string_view block, std::string_view only) {
  std::string out, field;
  auto flush = [&] {
    auto colon = field.find(':');
    if (colon != std::string::npos) {
      std::string_view name(field.data(), colon), value(field);
      value.remove_prefix(colon + 1);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      if (only.empty()) {
        out.append(name).append(": ").append(decode_header_text(value)) += '\n';
      } else if (equal_ignoring_case(name, only)) {
        out.append(decode_header_text(value)) += '\n';
      }
    }
    field.clear();
  };
  std::size_t pos = 0;
  while (pos < block.size()) {
    auto eol = block.find('\n', pos);
    auto line = block.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
    pos = eol == std::string_view::npos ? block.size() : eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header block
    if (line.front() != ' ' && line.front() != '\t') flush();
    field.append(line);  // unfolding removes only the line break (RFC 5322 2.2.3)
  }
  flush();
  return out;
}

std::string decode_text_part(std::string_view body, std::string_view encoding,
                             std::string_view charset) {
  return mime::to_utf8(mime::decode_transfer(body, encoding), charset, nullptr);
}

std::string html_text(std::string_view html) {
  return mime::html_to_text(html);
}

}  // namespace govmail::store
