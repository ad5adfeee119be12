#include "webmail/files.hpp"

#include <zlib.h>

#include <cstdint>
#include <memory>

#include "core/awaitable_fwd.hpp"
#include "static/embedded.hpp"

namespace govmail::webmail {
namespace {

constexpr std::string_view kVersionMarker = "__GOVMAIL_V__";

// The page runs only its own scripts; styles may be inline because a message's HTML, shown in a
// sandboxed srcdoc frame, inherits this policy and mail relies on style attributes. Images: our
// own, data: (inline parts), blob: (attachment previews), and remote ones only after the
// sanitiser lets them through (the user asked). Frames: srcdoc messages and blob: PDF previews.
constexpr std::string_view kPagePolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: https: http:; font-src 'self'; connect-src 'self'; "
    "frame-src 'self' blob:; child-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

std::string_view content_type_for(std::string_view path) {
  struct Type {
    std::string_view ext, type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const Type& t : kTypes)
    if (path.ends_with(t.ext)) return t.type;
  return "application/octet-stream";
}

bool is_text(std::string_view path) {
  return path.ends_with(".html") || path.ends_with(".js") || path.ends_with(".css") ||
         path.ends_with(".svg") || path.ends_with(".json") || path.ends_with(".txt") ||
         path.ends_with(".webmanifest");
}

std::uint64_t fnv1a(std::string_view bytes, std::uint64_t h = 14695981039346656037ull) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string hex16(std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = kDigits[v & 15];
  return out;
}

// gzip (RFC 1952) at the best level: done once at start-up, so the cost does not matter.
std::string gzip(std::string_view in) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    return {};
  std::string out(deflateBound(&z, static_cast<uLong>(in.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string{};
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

bool accepts_gzip(const core::HttpRequest& request) {
  // Good enough for browsers: they send "gzip, deflate, br"; "gzip;q=0" is not seen in practice.
  return request.header("Accept-Encoding").find("gzip") != std::string_view::npos;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match == "*") return true;
  return if_none_match.find(etag) != std::string_view::npos;
}

}  // namespace

WebmailFiles::WebmailFiles() {
  std::uint64_t all = fnv1a("govmail-webmail");
  for (const auto& f : files::embedded_files()) all = fnv1a(f.bytes, fnv1a(f.path, all));
  version_ = hex16(all).substr(0, 12);
  for (const auto& f : files::embedded_files()) {
    File file;
    file.content_type = std::string(content_type_for(f.path));
    file.body = is_text(f.path) ? replace_all(std::string(f.bytes), kVersionMarker, version_)
                                : std::string(f.bytes);
    file.etag = "\"" + hex16(fnv1a(file.body)) + "\"";
    if (is_text(f.path) && file.body.size() > 256) {
      std::string z = gzip(file.body);
      if (!z.empty() && z.size() < file.body.size()) file.gzipped = std::move(z);
    }
    files_.emplace("/" + std::string(f.path), std::move(file));
  }
}

core::HttpResponse WebmailFiles::answer(const core::HttpRequest& request) const {
  const std::string_view path =
      request.path == "/" ? "/index.html" : std::string_view(request.path);
  auto it = files_.find(path);
  if (it == files_.end()) return core::HttpResponse::error(404, "not found");
  const File& file = it->second;

  core::HttpResponse r;
  r.content_type = file.content_type;
  const bool versioned = request.query == "v=" + version_;
  r.headers.emplace_back("Cache-Control",
                         versioned ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.emplace_back("ETag", file.etag);
  r.headers.emplace_back("Vary", "Accept-Encoding");
  r.headers.emplace_back("Content-Security-Policy", std::string(kPagePolicy));
  if (etag_matches(request.header("If-None-Match"), file.etag)) {
    r.status = 304;
    return r;
  }
  if (!file.gzipped.empty() && accepts_gzip(request)) {
    r.headers.emplace_back("Content-Encoding", "gzip");
    r.body = file.gzipped;
  } else {
    r.body = file.body;
  }
  return r;
}

namespace {
// A static coroutine, not a lambda one: its arguments are copies it owns (see STYLE/GCC notes).
awaitable<core::HttpResponse> serve(std::shared_ptr<const WebmailFiles> files,
                                    const core::HttpRequest& request) {
  co_return files->answer(request);
}
}  // namespace

void register_webmail_files(core::Router& router) {
  auto files = std::make_shared<const WebmailFiles>();
  router.add("GET", "/",
             [files](const core::HttpRequest& request) { return serve(files, request); });
}

}  // namespace govmail::webmail
