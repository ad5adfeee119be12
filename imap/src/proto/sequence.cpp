// RFC 3501 sequence-set: "1", "2:4", "5:*", "*", "1,3:5" and "$" (RFC 5182 SEARCHRES).
#include <algorithm>
#include <charconv>

#include "imap/proto.hpp"

namespace govmail::imap {
namespace {

// nz-number (RFC 3501 9): 1 to 4294967295, no leading zero; or '*'.
std::optional<std::uint64_t> seq_number(std::string_view s) {
  if (s == "*") return kStar;
  if (s.empty() || s.size() > 10 || s[0] == '0') return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v == 0 || v > UINT32_MAX)
    return std::nullopt;
  return v;
}

}  // namespace

bool SeqSet::contains(std::uint32_t n, std::uint32_t star) const {
  for (const auto& r : ranges) {
    auto a = r.first == kStar ? star : r.first;
    auto b = r.last == kStar ? star : r.last;
    if (a > b) std::swap(a, b);
    if (n >= a && n <= b) return true;
  }
  return false;
}

std::vector<SeqRange> SeqSet::normalised(std::uint32_t star) const {
  std::vector<SeqRange> out;
  out.reserve(ranges.size());
  for (const auto& r : ranges) {
    auto a = r.first == kStar ? star : r.first;
    auto b = r.last == kStar ? star : r.last;
    if (a > b) std::swap(a, b);
    out.push_back({a, b});
  }
  std::sort(out.begin(), out.end(),
            [](const SeqRange& x, const SeqRange& y) { return x.first < y.first; });
  std::size_t n = 0;
  for (const auto& r : out) {
    // Overlapping or adjacent (last + 1 == first; 64-bit so that UINT32_MAX cannot wrap).
    if (n > 0 && r.first <= out[n - 1].last + 1)
      out[n - 1].last = std::max(out[n - 1].last, r.last);
    else
      out[n++] = r;
  }
  out.resize(n);
  return out;
}

bool SeqCursor::contains(std::uint32_t n) {
  if (n < last_)  // not ascending: find the range again
    at_ = static_cast<std::size_t>(
        std::partition_point(ranges_.begin(), ranges_.end(),
                             [n](const SeqRange& r) { return r.last < n; }) -
        ranges_.begin());
  last_ = n;
  while (at_ < ranges_.size() && ranges_[at_].last < n) ++at_;
  return at_ < ranges_.size() && ranges_[at_].first <= n;
}

std::optional<SeqSet> parse_seq_set(std::string_view text) {
  SeqSet set;
  if (text == "$") {
    set.saved = true;
    return set;
  }
  if (text.empty()) return std::nullopt;
  std::size_t start = 0;
  for (;;) {
    auto comma = text.find(',', start);
    auto item = text.substr(start, comma == std::string_view::npos ? comma : comma - start);
    auto colon = item.find(':');
    auto a = seq_number(item.substr(0, colon));
    auto b = colon == std::string_view::npos ? a : seq_number(item.substr(colon + 1));
    if (!a || !b) return std::nullopt;
    // "4:2" means "2:4"; "*:3" keeps its star for contains() to resolve.
    if (*a != kStar && *b != kStar && *a > *b) std::swap(*a, *b);
    set.ranges.push_back({*a, *b});
    if (comma == std::string_view::npos) return set;
    start = comma + 1;
  }
}

}  // namespace govmail::imap
