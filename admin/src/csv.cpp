#include "admin/csv.hpp"

#include <cstdint>

namespace govmail::admin {

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80           ? 0
                    : (c >> 5) == 0x6  ? 1
                    : (c >> 4) == 0xe  ? 2
                    : (c >> 3) == 0x1e ? 3
                                       : 9;
    if (n == 9 || c == 0xc0 || c == 0xc1 || c > 0xf4 || (n > 0 && i + n >= s.size())) return false;
    std::uint32_t cp = n == 0 ? c : c & (0x3f >> n);
    for (std::size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and code points above U+10FFFF.
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n + 1;
  }
  return true;
}

namespace {

// A record that breaks a limit is still read to its real end (quotes and all, without keeping
// the bytes), so the next record starts where it truly starts and keeps its line number.
class Reader {
 public:
  Reader(std::string_view text, const CsvLimits& limits) : t_(text), lim_(limits) {
    if (t_.starts_with("\xEF\xBB\xBF")) t_.remove_prefix(3);
  }

  bool done() const { return pos_ >= t_.size(); }

  CsvRecord next() {
    CsvRecord rec;
    rec.line = line_;
    std::size_t start = pos_;
    Field f;
    bool quoted = false, after_quote = false;
    std::size_t quote_pos = 0, quote_line = 0;
    while (true) {
      if (pos_ >= t_.size()) {
        if (quoted) return unterminated(rec, quote_pos, quote_line);
        break;
      }
      char c = t_[pos_++];
      if (quoted) {
        if (c == '"' && pos_ < t_.size() && t_[pos_] == '"') {
          add(rec, f, '"');
          ++pos_;
        } else if (c == '"') {
          quoted = false;
          after_quote = true;
        } else {
          if (c == '\n') ++line_;
          add(rec, f, c);
        }
      } else if (c == ',') {
        push(rec, f);
        after_quote = false;
      } else if (c == '\n' || (c == '\r' && pos_ < t_.size() && t_[pos_] == '\n')) {
        if (c == '\r') ++pos_;
        ++line_;
        break;
      } else if (c == '"' && f.len == 0 && !after_quote) {
        quoted = true;
        quote_pos = pos_;
        quote_line = line_;
      } else if (after_quote || c == '"') {
        fail(rec, "stray quote or text after a closing quote");
        skip_line();
        break;
      } else {
        add(rec, f, c);
      }
    }
    push(rec, f);
    if (rec.error.empty() && !valid_utf8(t_.substr(start, pos_ - start)))
      fail(rec, "malformed UTF-8");
    return rec;
  }

  bool blank(const CsvRecord& r) const {
    return r.error.empty() && r.fields.size() == 1 &&
           r.fields[0].find_first_not_of(" \t\r") == std::string::npos;
  }

 private:
  // len counts every byte, kept or not: it decides whether a quote opens a field.
  struct Field {
    std::string text;
    std::size_t len = 0;
  };

  void add(CsvRecord& rec, Field& f, char c) {
    if (++f.len == lim_.max_field_bytes + 1)  // once: the rest of the field is only counted
      fail(rec, "field longer than " + std::to_string(lim_.max_field_bytes) + " bytes");
    if (rec.error.empty()) f.text += c;  // a bad record keeps nothing more (memory stays bounded)
  }
  void push(CsvRecord& rec, Field& f) {
    if (rec.error.empty() && rec.fields.size() >= lim_.max_fields)
      fail(rec, "more than " + std::to_string(lim_.max_fields) + " fields");
    if (rec.error.empty()) rec.fields.push_back(std::move(f.text));
    f = {};
  }
  static void fail(CsvRecord& rec, std::string why) {
    if (rec.error.empty()) rec.error = std::move(why);
  }
  // A quote still open at the end of the text has no closing quote anywhere: it is the error,
  // not the rows after it. Resume at the line after the one where it opened, so those rows are
  // read (and numbered) as rows. Linear: every quote after it comes in "" pairs, which cannot
  // open another field that runs to the end.
  CsvRecord unterminated(CsvRecord& rec, std::size_t quote_pos, std::size_t quote_line) {
    rec.error = "unterminated quoted field";
    rec.fields.clear();
    pos_ = quote_pos;
    line_ = quote_line;
    skip_line();
    return std::move(rec);
  }
  void skip_line() {
    auto nl = t_.find('\n', pos_);
    pos_ = nl == std::string_view::npos ? t_.size() : nl + 1;
    if (nl != std::string_view::npos) ++line_;
  }

  std::string_view t_;
  const CsvLimits& lim_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

}  // namespace

std::vector<CsvRecord> parse_csv(std::string_view text, const CsvLimits& limits) {
  Reader r(text, limits);
  std::vector<CsvRecord> out;
  while (!r.done() && out.size() < limits.max_records) {
    auto rec = r.next();
    if (!r.blank(rec)) out.push_back(std::move(rec));
  }
  return out;
}

std::string csv_line(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    const auto& f = fields[i];
    // A first field starting with U+FEFF would be read back as a BOM and lose it.
    bool quote = f.find_first_of(",\"\r\n") != std::string::npos || f.starts_with(' ') ||
                 (i == 0 && f.starts_with("\xEF\xBB\xBF"));
    if (!quote) {
      out += f;
      continue;
    }
    out += '"';
    for (char c : f) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  return out;
}

}  // namespace govmail::admin
