#include "query.hpp"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>

#include "core/text_fold.hpp"
#include "terms.hpp"

namespace govmail::search {
namespace {

constexpr double kAccentBoost = 2.0;

struct Item {
  std::vector<Field> fields;  // empty: the default fields
  std::string text;
  bool quoted = false;
  bool wildcard = false;
};

std::optional<Field> field_named(std::string_view name) {
  std::string n(name);
  for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (n == "from") return Field::from;
  if (n == "to") return Field::to;
  if (n == "cc") return Field::cc;
  if (n == "bcc") return Field::bcc;
  if (n == "subject") return Field::subject;
  if (n == "body") return Field::body;
  return std::nullopt;
}

bool space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

SearchResult<std::vector<Item>> split_items(std::string_view s) {
  std::vector<Item> out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (space(s[i])) {
      ++i;
      continue;
    }
    Item item;
    auto colon = s.find(':', i);
    auto end_of_word = i;
    while (end_of_word < s.size() && !space(s[end_of_word]) && s[end_of_word] != '"') ++end_of_word;
    if (colon != std::string_view::npos && colon < end_of_word) {
      if (auto f = field_named(s.substr(i, colon - i))) {
        item.fields.push_back(*f);
        i = colon + 1;
        if (i >= s.size() || space(s[i])) return unexpected(SearchError::syntax);
      }
    }
    if (s[i] == '"') {
      auto close = s.find('"', i + 1);
      if (close == std::string_view::npos) return unexpected(SearchError::syntax);
      item.text = std::string(s.substr(i + 1, close - i - 1));
      item.quoted = true;
      i = close + 1;
    } else {
      auto start = i;
      while (i < s.size() && !space(s[i])) ++i;
      item.text = std::string(s.substr(start, i - start));
      if (!item.text.empty() && item.text.back() == '*') {
        item.wildcard = true;
        item.text.pop_back();
      }
    }
    out.push_back(std::move(item));
  }
  return out;
}

struct Word {
  std::string folded, cased;
  bool spaced = false;  // one space before it
  char joiner = '\0';   // else the one punctuation character before it

  bool accented() const { return cased != folded; }
};

std::vector<Word> words_of(std::string_view text) {
  std::vector<Word> out;
  core::fold_words(text, [&](const core::FoldedWord& w) {
    out.push_back({std::string(w.folded), std::string(w.cased), w.spaced, w.joiner});
  });
  return out;
}

bool tone_mark(UChar32 c) {  // huyền, sắc, ngã, hỏi, nặng
  return c == 0x300 || c == 0x301 || c == 0x303 || c == 0x309 || c == 0x323;
}

// A cased word with its tone mark on each of its vowels in turn ("hòa" -> hòa, hoà; "thủy" ->
// thủy, thuỷ): the spellings of one syllable under the old and the new placement rules.
std::vector<std::string> tone_variants(const std::string& cased) {
  UErrorCode err = U_ZERO_ERROR;
  const auto* nfd = icu::Normalizer2::getNFDInstance(err);
  const auto* nfc = icu::Normalizer2::getNFCInstance(err);
  if (U_FAILURE(err)) return {cased};
  icu::UnicodeString d = nfd->normalize(icu::UnicodeString::fromUTF8(cased), err);
  int32_t tone_at = -1, tones = 0;
  for (int32_t i = 0; i < d.length(); ++i)
    if (tone_mark(d.charAt(i))) tone_at = i, ++tones;
  if (U_FAILURE(err) || tones != 1) return {cased};
  const UChar tone = d.charAt(tone_at);
  d.remove(tone_at, 1);
  std::vector<std::string> out;
  for (int32_t i = 0; i < d.length(); ++i) {
    if (icu::UnicodeString(u"aeiouy").indexOf(d.charAt(i)) < 0) continue;
    int32_t after = i + 1;  // past the vowel's own marks (ˆ ˘ ̛)
    while (after < d.length() && u_getCombiningClass(d.charAt(after)) != 0) ++after;
    icu::UnicodeString v(d);
    v.insert(after, tone);
    std::string s;
    nfc->normalize(v, err).toUTF8String(s);
    if (U_SUCCESS(err) && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return out.empty() ? std::vector<std::string>{cased} : out;
}

// The word with or without marks: its fold among the words that carried marks and among the
// words without (terms.hpp). One term for ranking (SYNONYM); a phrase takes OR of terms only.
Xapian::Query folded_query(Field f, const Word& w,
                           Xapian::Query::op op = Xapian::Query::OP_SYNONYM) {
  const std::string t[] = {terms::folded_prefix(f) + w.folded, terms::cased_prefix(f) + w.folded};
  return Xapian::Query(op, std::begin(t), std::end(t));
}

// The word accented as the query has it, its tone mark on any of its vowels.
Xapian::Query accented_query(Field f, const Word& w) {
  std::vector<std::string> t;
  for (auto& v : tone_variants(w.cased)) t.push_back(terms::cased_prefix(f) + v);
  return Xapian::Query(Xapian::Query::OP_SYNONYM, t.begin(), t.end());
}

Xapian::Query word_query(Field f, const Word& w) {
  Xapian::Query q = folded_query(f, w);
  if (!w.accented()) return q;
  Xapian::Query exact(Xapian::Query::OP_SCALE_WEIGHT, accented_query(f, w), kAccentBoost);
  return Xapian::Query(Xapian::Query::OP_OR, q, exact);
}

// The words in a row with the query's separators between them: one space, the same punctuation
// character, or any other separator (so "123/UBND-VP" finds the number, not its words apart).
// A document that also has the query's accented words (anywhere) ranks above one with only
// their folded forms.
Xapian::Query phrase_query(Field f, const std::vector<Word>& words) {
  std::vector<Xapian::Query> folded, exact;
  for (const auto& w : words) {
    if (&w != &words.front() && !w.spaced) folded.emplace_back(terms::separator_term(f, w.joiner));
    folded.push_back(folded_query(f, w, Xapian::Query::OP_OR));
    if (w.accented()) exact.push_back(accented_query(f, w));
  }
  Xapian::Query q(Xapian::Query::OP_PHRASE, folded.begin(), folded.end(), folded.size());
  if (exact.empty()) return q;
  Xapian::Query e(Xapian::Query::OP_AND, exact.begin(), exact.end());
  return Xapian::Query(Xapian::Query::OP_AND_MAYBE, q,
                       Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, e, kAccentBoost));
}

Xapian::Query item_query(Field f, const Item& item, const std::vector<Word>& words,
                         const QueryLimits& limits) {
  if (item.wildcard) {
    // The words before the last must be there too; the last is a prefix.
    std::vector<Xapian::Query> parts, last;
    for (std::size_t i = 0; i + 1 < words.size(); ++i) parts.push_back(word_query(f, words[i]));
    for (const auto& prefix : {terms::folded_prefix(f), terms::cased_prefix(f)})
      last.emplace_back(Xapian::Query::OP_WILDCARD, prefix + words.back().folded,
                        limits.max_wildcard, Xapian::Query::WILDCARD_LIMIT_ERROR);
    parts.emplace_back(Xapian::Query::OP_SYNONYM, last.begin(), last.end());
    return Xapian::Query(Xapian::Query::OP_AND, parts.begin(), parts.end());
  }
  if (words.size() > 1 || item.quoted) return phrase_query(f, words);
  return word_query(f, words.front());
}

}  // namespace

SearchResult<Xapian::Query> translate_query(std::string_view text, const QueryLimits& limits) {
  if (text.size() > limits.max_bytes) return unexpected(SearchError::too_long);
  auto items = split_items(text);
  if (!items) return unexpected(items.error());
  static const std::vector<Field> kDefault{Field::body, Field::subject, Field::from, Field::to,
                                           Field::cc};
  std::vector<Xapian::Query> all;
  std::size_t terms_used = 0;
  for (const auto& item : *items) {
    auto words = words_of(item.text);
    if (words.empty()) {
      if (item.wildcard) return unexpected(SearchError::too_wide);  // "*" alone: everything
      continue;
    }
    terms_used += words.size();
    if (terms_used > limits.max_terms) return unexpected(SearchError::too_many_terms);
    const auto& fields = item.fields.empty() ? kDefault : item.fields;
    std::vector<Xapian::Query> per_field;
    for (Field f : fields) per_field.push_back(item_query(f, item, words, limits));
    all.emplace_back(Xapian::Query::OP_OR, per_field.begin(), per_field.end());
  }
  if (all.empty()) return unexpected(SearchError::syntax);
  return Xapian::Query(Xapian::Query::OP_AND, all.begin(), all.end());
}

}  // namespace govmail::search
