// Fuzz target for the admin CSV reader (bulk imports take files from the provinces): parse_csv
// must never crash on any bytes, must keep its limits, must number records in order, and a good
// record written back with csv_line must read back as the same fields. Also the address list of
// bulk suspend/restore (a request body of the admin API), read line by line.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "admin/csv.hpp"
#include "admin/operations.hpp"

namespace {

using govmail::admin::csv_line;
using govmail::admin::CsvLimits;
using govmail::admin::parse_csv;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "csv_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const CsvLimits limits{.max_records = 200, .max_field_bytes = 64, .max_fields = 8};
  const auto records = parse_csv(input, limits);
  require(records.size() <= limits.max_records, "record limit");
  std::size_t last_line = 0;
  const auto lines = 1 + static_cast<std::size_t>(std::count(input.begin(), input.end(), '\n'));
  for (const auto& r : records) {
    // Every record, bad ones included, starts on a later line than the one before it.
    require(r.line > last_line && r.line <= lines, "records in strict line order");
    last_line = r.line;
    if (!r.error.empty()) continue;
    require(r.fields.size() <= limits.max_fields, "field count limit");
    for (const auto& f : r.fields) {
      require(f.size() <= limits.max_field_bytes, "field size limit");
      require(govmail::admin::valid_utf8(f), "good fields are UTF-8");
    }
    // As the first line too: a first field starting with U+FEFF must not be taken for a BOM.
    const auto again = parse_csv(csv_line(r.fields) + "\r\n" + csv_line(r.fields), limits);
    require(again.size() == 2 && again[0].error.empty() && again[1].error.empty(),
            "csv_line output reads back");
    require(again[0].fields == r.fields && again[1].fields == r.fields, "csv_line round-trip");
  }
  for (const auto& a : govmail::admin::parse_address_list(input))
    require(!a.empty() && a.front() != '#' && a.find('\n') == std::string::npos,
            "address list entries are single non-comment lines");
  return 0;
}
