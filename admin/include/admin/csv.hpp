// RFC 4180 CSV for the import files: UTF-8 (a BOM is skipped), CRLF or LF, quoted fields with
// "" escapes and embedded newlines. A bad record is reported with its line and the reader goes
// on at the next record, so that one run lists every bad row: a record over a limit (field size,
// field count) is still read to its real end, quoted newlines included, so the next record keeps
// its true line; after a stray quote the reader goes on at the next line; a quote never closed
// before the end of the text makes only its own record bad, and reading goes on at the line
// after the one where it opened (nothing after it is swallowed).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace govmail::admin {

struct CsvRecord {
  std::size_t line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
  std::string error;  // non-empty: the record is malformed (fields then unreliable)
};

struct CsvLimits {
  std::size_t max_records = 1000000;
  std::size_t max_field_bytes = 4096;
  std::size_t max_fields = 64;
};

// Every record, blank lines skipped. Invalid UTF-8 marks the record bad ("malformed UTF-8").
std::vector<CsvRecord> parse_csv(std::string_view text, const CsvLimits& limits = {});

// One CSV line from fields, quoting where needed (for export and credential files).
std::string csv_line(const std::vector<std::string>& fields);

bool valid_utf8(std::string_view s);

}  // namespace govmail::admin
