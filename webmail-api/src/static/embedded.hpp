// The webmail's files (webmail-api/www/), compiled into the binary by cmake/EmbedFiles.cmake.
#pragma once
#include <string_view>
#include <vector>

namespace govmail::webmail::files {

struct EmbeddedFile {
  std::string_view path;  // relative to www/: "index.html", "app.js"
  std::string_view bytes;
};

const std::vector<EmbeddedFile>& embedded_files();

}  // namespace govmail::webmail::files
