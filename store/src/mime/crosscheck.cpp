#include "mime/crosscheck.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>

#include "mime/decode.hpp"
#include "mime/gmime_ptr.hpp"
#include "store/mime.hpp"

namespace govmail::store::mime {
namespace {

constexpr int kMaxOutlineDepth = 200;

std::string fingerprint(std::string_view data) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ull;
  return std::to_string(data.size()) + ":" + std::to_string(h);
}

std::string join(const std::string& prefix, int index) {
  return prefix.empty() ? std::to_string(index) : prefix + "." + std::to_string(index);
}

std::string lower(const char* s) {
  std::string out = s != nullptr ? s : "";
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return out;
}

void walk_gmime(GMimeObject* obj, const std::string& section, int depth,
                std::vector<std::string>& out);

// The body of a message: a multipart takes the message's number, a single part gets ".1".
void walk_message_body(GMimeObject* body, const std::string& prefix, int depth,
                       std::vector<std::string>& out) {
  if (body == nullptr) return;
  walk_gmime(body, GMIME_IS_MULTIPART(body) ? prefix : join(prefix, 1), depth, out);
}

void walk_gmime(GMimeObject* obj, const std::string& section, int depth,
                std::vector<std::string>& out) {
  if (depth > kMaxOutlineDepth) return;
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  std::string line = section + " " + lower(g_mime_content_type_get_media_type(ct)) + "/" +
                     lower(g_mime_content_type_get_media_subtype(ct));
  if (GMIME_IS_MULTIPART(obj)) {
    out.push_back(line);
    GMimeMultipart* mp = GMIME_MULTIPART(obj);
    const int count = g_mime_multipart_get_count(mp);
    for (int i = 0; i < count; ++i)
      walk_gmime(g_mime_multipart_get_part(mp, i), join(section, i + 1), depth + 1, out);
  } else if (GMIME_IS_MESSAGE_PART(obj)) {
    out.push_back(line);
    GMimeMessage* msg = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
    if (msg != nullptr)
      walk_message_body(g_mime_message_get_mime_part(msg), section, depth + 1, out);
  } else if (GMIME_IS_PART(obj)) {
    GMimeDataWrapper* content = g_mime_part_get_content(GMIME_PART(obj));
    std::string decoded;
    if (content != nullptr) {
      GObjectPtr<GMimeStream> mem(g_mime_stream_mem_new());
      g_mime_data_wrapper_write_to_stream(content, mem.get());
      GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
      decoded.assign(reinterpret_cast<const char*>(bytes->data), bytes->len);
    }
    out.push_back(line + " " + fingerprint(decoded));
  }
}

void walk_json(std::string_view raw, const nlohmann::json& part, std::vector<std::string>& out) {
  std::string line = part["section"].get<std::string>() + " " + part["type"].get<std::string>() +
                     "/" + part["subtype"].get<std::string>();
  if (part.contains("parts")) {
    out.push_back(line);
    for (const auto& child : part["parts"]) walk_json(raw, child, out);
  } else if (part.contains("message")) {
    out.push_back(line);
    walk_json(raw, part["message"]["body"], out);
  } else {
    const auto body = part["body_offset"].get<std::size_t>();
    const auto end = part["end_offset"].get<std::size_t>();
    out.push_back(line + " " +
                  fingerprint(decode_transfer(raw.substr(body, end - body),
                                              part["encoding"].get<std::string>())));
  }
}

}  // namespace

std::vector<std::string> gmime_outline(std::string_view raw) {
  ensure_gmime();
  std::vector<std::string> out;
  GObjectPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  GObjectPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  GObjectPtr<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), nullptr));
  if (!message) return out;
  walk_message_body(g_mime_message_get_mime_part(message.get()), "", 0, out);
  return out;
}

std::vector<std::string> offsets_outline(std::string_view raw) {
  std::vector<std::string> out;
  const ParsedMessage parsed = parse_message(raw);
  walk_json(raw, nlohmann::json::parse(parsed.bodystructure_json), out);
  return out;
}

}  // namespace govmail::store::mime
