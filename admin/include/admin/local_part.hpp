// Local parts from Vietnamese full names: ASCII, diacritics folded (đ/Đ -> d), by a configurable
// pattern. Vietnamese names are written surname first, given name last:
// "Nguyễn Quang Vinh" -> surname "nguyen", middle {"quang"}, given "vinh".
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace govmail::admin {

// The default pattern, the common form in Vietnamese agencies: given name + initials of the
// surname and middle names ("Trần Thị Thu Hương" -> "huongttt").
inline constexpr std::string_view kDefaultLocalPartPattern = "{given}{initials}";

// Placeholders: {given}, {surname}, {middle} (middle names joined), {initials} (first letters of
// surname and middle names), {all} (every word). Other characters are copied ('.', '-', '_').
// Returns nullopt for an unknown placeholder.
std::optional<std::string> validate_pattern(std::string_view pattern);  // error text, or none

// The local part for a full name; empty when the name has no ASCII-foldable letters.
std::string local_part_from_name(std::string_view full_name,
                                 std::string_view pattern = kDefaultLocalPartPattern);

// base, base2, base3, ...: the first not in `taken` (lower-case local parts).
std::string first_free(const std::string& base, const std::unordered_set<std::string>& taken);

// Words of a name after NFC, folding and lower-casing, ASCII letters and digits only.
std::vector<std::string> name_words(std::string_view full_name);

}  // namespace govmail::admin
