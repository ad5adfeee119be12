// IMAP dates: date ("1-Feb-1994") for SEARCH, date-time ("17-Jul-1996 02:44:25 -0700") for
// APPEND and INTERNALDATE.
#include <charconv>
#include <cstdio>
#include <ctime>

#include "imap/proto.hpp"

namespace govmail::imap {
namespace {

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::optional<int> number(std::string_view s, std::size_t min_digits, std::size_t max_digits) {
  if (s.size() < min_digits || s.size() > max_digits) return std::nullopt;
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

std::optional<std::int64_t> parse_date(std::string_view text) {
  auto d1 = text.find('-');
  auto d2 = text.find('-', d1 == std::string_view::npos ? d1 : d1 + 1);
  if (d1 == std::string_view::npos || d2 == std::string_view::npos) return std::nullopt;
  auto day = number(text.substr(0, d1), 1, 2);
  auto mon = text.substr(d1 + 1, d2 - d1 - 1);
  auto year = number(text.substr(d2 + 1), 4, 4);
  if (!day || !year || *day < 1 || *day > 31) return std::nullopt;
  for (unsigned m = 0; m < 12; ++m)
    if (iequals(mon, kMonths[m])) return days_from_civil(*year, m + 1, *day) * 86400;
  return std::nullopt;
}

std::optional<std::int64_t> parse_date_time(std::string_view text) {
  if (!text.empty() && text[0] == ' ') text.remove_prefix(1);  // " 1-Jan-2020" day-fixed
  auto sp = text.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  auto day = parse_date(text.substr(0, sp));
  auto rest = text.substr(sp + 1);
  if (!day || rest.size() != 14 || rest[2] != ':' || rest[5] != ':' || rest[8] != ' ')
    return std::nullopt;
  auto h = number(rest.substr(0, 2), 2, 2), mi = number(rest.substr(3, 2), 2, 2),
       s = number(rest.substr(6, 2), 2, 2), z = number(rest.substr(10, 4), 4, 4);
  if (!h || !mi || !s || !z || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  if (rest[9] != '+' && rest[9] != '-') return std::nullopt;
  int zone = (*z / 100) * 3600 + (*z % 100) * 60;
  if (rest[9] == '-') zone = -zone;
  return *day + *h * 3600 + *mi * 60 + *s - zone;
}

std::string format_date_time(std::int64_t unix_time) {
  std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%02d-%s-%04d %02d:%02d:%02d +0000", tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace govmail::imap
