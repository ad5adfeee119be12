#include "dkim_common.hpp"

namespace govmail::smtp::dkim::detail {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t label = 0;
  for (char c : s) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label != 0;
}

Result<std::vector<Field>, std::string> parse_fields(std::string_view block, std::size_t max_fields,
                                                     bool strict_names) {
  using Fail = Unexpected<std::string>;
  std::vector<Field> fields;
  std::size_t pos = 0;
  while (pos < block.size()) {
    std::size_t end = block.find("\r\n", pos);
    if (end == std::string_view::npos) end = block.size();
    std::string_view line = block.substr(pos, end - pos);
    for (char c : line)
      if (c == '\r' || c == '\n') return Fail{"dkim: bare CR or LF in the header block"};
    if (!line.empty() && is_wsp(line.front())) {
      if (fields.empty()) return Fail{"dkim: the header block starts with a continuation line"};
      auto& f = fields.back();
      f.raw = std::string_view(f.raw.data(),
                               static_cast<std::size_t>(line.data() + line.size() - f.raw.data()));
    } else {
      auto colon = line.find(':');
      if (colon == std::string_view::npos) return Fail{"dkim: a header line without a colon"};
      std::string_view name = line.substr(0, colon);
      while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
      if (name.empty()) return Fail{"dkim: a header field without a name"};
      if (strict_names)
        for (char c : name)
          if (c < 33 || c > 126) return Fail{"dkim: a header field name with invalid characters"};
      if (fields.size() >= max_fields) return Fail{"dkim: more header fields than the limit"};
      fields.push_back({name, line});
    }
    pos = end + 2;
  }
  return fields;
}

}  // namespace govmail::smtp::dkim::detail
