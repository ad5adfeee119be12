// The webmail's static files (webmail-api/www/, compiled into the binary) served at /.
// Every file is answered with its Content-Type, a content-hash ETag (304 on If-None-Match), gzip
// when the client accepts it and it pays, and the page's strict Content-Security-Policy.
#pragma once
#include <map>
#include <string>
#include <string_view>

#include "core/http_server.hpp"

namespace govmail::webmail {

class WebmailFiles {
 public:
  // Loads the embedded files: "__GOVMAIL_V__" in .html/.js/.css becomes version(), so a page
  // asks for "app.js?v=<version>", which is cached for a year (a new build has a new version);
  // index.html itself is revalidated on every load.
  WebmailFiles();

  core::HttpResponse answer(const core::HttpRequest& request) const;
  const std::string& version() const { return version_; }

  struct File {
    std::string content_type;
    std::string body;
    std::string gzipped;  // empty: not worth it
    std::string etag;     // "\"<hash>\""
  };

 private:
  std::map<std::string, File, std::less<>> files_;  // "/index.html" -> file
  std::string version_;
};

// GET / and every path no other route has: the webmail.
void register_webmail_files(core::Router& router);

}  // namespace govmail::webmail
