# Writes OUT: a C++ table of every file under DIR (path relative to DIR, bytes as a hex-escaped
# literal, so any byte and any text survive), for the webmail's static files.
file(GLOB_RECURSE files RELATIVE ${DIR} ${DIR}/*)
list(SORT files)
set(body "// Generated from ${DIR}: do not edit.\n#include \"static/embedded.hpp\"\nnamespace govmail::webmail::files {\nconst std::vector<EmbeddedFile>& embedded_files() {\n  static const std::vector<EmbeddedFile> f = {\n")
foreach(rel ${files})
  file(READ ${DIR}/${rel} hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR size "${hexlen} / 2")
  # Cut the literal into lines of 40 bytes (80 hex digits) so compilers and editors cope.
  string(REPEAT "." 80 line)
  string(REGEX REPLACE "(${line})" "\\1|" hex "${hex}")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
  string(REPLACE "|" "\"\n\"" escaped "${escaped}")
  string(APPEND body "    {\"${rel}\", std::string_view(\"${escaped}\", ${size})},\n")
endforeach()
string(APPEND body "  };\n  return f;\n}\n}  // namespace govmail::webmail::files\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
