#include "terms.hpp"

#include <algorithm>
#include <optional>

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <nlohmann/json.hpp>

#include "core/text.hpp"
#include "core/text_fold.hpp"
#include "store/mime.hpp"

namespace govmail::search::terms {
namespace {

using json = nlohmann::json;

char letter(Field f) {
  switch (f) {
    case Field::body:
      return 'B';
    case Field::subject:
      return 'S';
    case Field::from:
      return 'F';
    case Field::to:
      return 'T';
    case Field::cc:
      return 'C';
    case Field::bcc:
      return 'D';
    case Field::header:
      return 'H';
  }
  return 'B';
}

std::string text_of(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json parse(std::string_view s) {
  auto j = json::parse(s, nullptr, false);
  return j.is_object() ? j : json::object();
}

const char* envelope_key(Field f) {
  switch (f) {
    case Field::from:
      return "from";
    case Field::to:
      return "to";
    case Field::cc:
      return "cc";
    case Field::bcc:
      return "bcc";
    default:
      return "";
  }
}

// Words of a text into the document under a field, positions counted per field (a separator
// other than one space takes a position of its own: see terms.hpp).
void index_text(Xapian::Document& doc, Field f, std::string_view text) {
  const std::string fp = folded_prefix(f), cp = cased_prefix(f);
  Xapian::termpos pos = 0;
  bool cut = false;
  core::fold_words(
      text,
      [&](const core::FoldedWord& w) {
        if (pos > 0 && !w.spaced) doc.add_posting(separator_term(f, w.joiner), ++pos);
        ++pos;
        doc.add_posting(cp + std::string(w.cased), pos);
        // A word without marks is its own fold: its cased term stands for both (terms.hpp).
        if (w.folded != w.cased) doc.add_posting(fp + std::string(w.folded), pos);
        cut = cut || w.cut;
      },
      kMaxWordBytes);
  if (cut) doc.add_boolean_term(cut_term(f));
}

bool is_word_char(UChar32 cp) {
  if (cp < 0x80)
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
  return u_isalnum(cp);
}

}  // namespace

std::string folded_prefix(Field f) {
  return std::string(1, letter(f));
}
std::string cased_prefix(Field f) {
  return std::string("W") + letter(f);
}
std::string cut_term(Field f) {
  return std::string("L") + letter(f);
}
std::string separator_term(Field f, char joiner) {
  std::string t{'X', letter(f)};
  if (joiner != '\0') t += joiner;
  return t;
}
std::string unique_term(store::AccountId a, store::MessageId m) {
  return "Q" + std::to_string(a) + ":" + std::to_string(m);
}
std::string account_term(store::AccountId a) {
  return "K" + std::to_string(a);
}

namespace {

std::string subject_of(const json& env) {
  auto subj = env.value("subject", json::object());
  return subj.is_object() ? text_of(subj, "decoded") : std::string();
}

// As IMAP SEARCH FROM/TO/CC/BCC read it: display names (decoded at ingest) and addresses.
std::string addresses_of(const json& env, Field f) {
  std::string out;
  auto it = env.find(envelope_key(f));
  if (it == env.end() || !it->is_array()) return out;
  for (const auto& a : *it) {
    if (!a.is_object()) continue;
    auto name = text_of(a, "name_decoded");
    out += (name.empty() ? text_of(a, "name") : name) + " ";
    const bool has_mailbox = a.value("mailbox", json()).is_string();
    if (has_mailbox && a.value("host", json()).is_string())
      out += text_of(a, "mailbox") + "@" + text_of(a, "host");
    else if (has_mailbox)
      out += store::decode_header_text(text_of(a, "mailbox"));
    out += "\n";
  }
  return out;
}

}  // namespace

std::string envelope_subject(std::string_view envelope_json) {
  return subject_of(parse(envelope_json));
}

std::string envelope_addresses(std::string_view envelope_json, Field f) {
  return addresses_of(parse(envelope_json), f);
}

Xapian::Document make_document(const DocInput& in) {
  Xapian::Document doc;
  doc.add_boolean_term(unique_term(in.account, in.message));
  doc.add_boolean_term(account_term(in.account));
  doc.add_value(kDateSlot, Xapian::sortable_serialise(static_cast<double>(in.date)));
  doc.add_value(kSizeSlot, Xapian::sortable_serialise(static_cast<double>(in.size)));
  doc.add_value(kMessageSlot, std::to_string(in.message));
  index_text(doc, Field::body, in.body);
  const json env = parse(in.envelope_json);  // once, not once per field
  index_text(doc, Field::subject, subject_of(env));
  for (Field f : {Field::from, Field::to, Field::cc, Field::bcc})
    index_text(doc, f, addresses_of(env, f));
  index_text(doc, Field::header, store::decoded_header_fields(in.header_block));
  set_texts(doc, in.header_block, in.body);
  return doc;
}

std::string vocabulary_key(std::string_view term) {
  std::string k = "v";
  k += term;
  return k;
}

std::string reversed_vocabulary_key(std::string_view term) {
  std::size_t n = 0;  // the prefix: its capital letters (words are case-folded)
  while (n < term.size() && term[n] >= 'A' && term[n] <= 'Z') ++n;
  std::string k = "r";
  k += term.substr(0, n);
  k.append(term.rbegin(), term.rend() - static_cast<std::ptrdiff_t>(n));
  return k;
}

void add_vocabulary(const Xapian::Document& doc, std::set<std::string>& words) {
  static constexpr std::string_view kWordPrefixes = "BSFTCDHW";
  for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t) {
    std::string term = *t;
    if (!term.empty() && kWordPrefixes.find(term[0]) != std::string_view::npos)
      words.insert(std::move(term));
  }
}

void set_texts(Xapian::Document& doc, std::string_view header_block, std::string_view body) {
  const bool ascii = std::all_of(body.begin(), body.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  doc.add_value(kHeaderSlot, std::string(header_block));
  doc.add_value(kCasedSlot, core::fold_case(body));
  if (!ascii) doc.add_value(kPlainSlot, core::fold_vietnamese(body));
  doc.set_data(ascii ? "Va" : "Vu");
}

namespace {

StoredText older_document(std::string_view data) {
  StoredText t;
  auto nl = data.find('\n');
  if (nl == std::string_view::npos) return t;
  std::size_t n = 0;
  for (char c : data.substr(0, nl)) n = n * 10 + static_cast<std::size_t>(c - '0');
  data.remove_prefix(nl + 1);
  n = std::min(n, data.size());
  t.header_block = std::string(data.substr(0, n));
  t.body = std::string(data.substr(n));
  return t;
}

}  // namespace

StoredText stored_texts(const Xapian::Document& doc, bool header, bool plain) {
  const std::string data = doc.get_data();
  if (data != "Va" && data != "Vu") return older_document(data);
  StoredText t;
  t.folded = true;
  t.body_ascii = data == "Va";
  if (header) t.header_block = doc.get_value(kHeaderSlot);
  t.body_cased = doc.get_value(kCasedSlot);
  if (plain && !t.body_ascii) t.body_plain = doc.get_value(kPlainSlot);
  return t;
}

store::MessageId message_of(const Xapian::Document& doc) {
  auto v = doc.get_value(kMessageSlot);
  store::MessageId id = 0;
  for (char c : v) id = id * 10 + (c - '0');
  return id;
}

namespace {

bool ascii_word(std::string_view w) {
  return std::all_of(w.begin(), w.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'); });
}

// The needle as its pieces and separators spell it in the words the plan searches (the folded
// words for a plain needle, the cased ones otherwise); nullopt: they cannot.
std::optional<std::string> spelled(const NeedlePlan& plan, bool plain) {
  std::string out;
  for (std::size_t i = 0; i < plan.pieces.size(); ++i) {
    const auto& p = plan.pieces[i];
    if (i > 0) {
      if (plan.separators[i] == '\0') return std::nullopt;
      out += plan.separators[i];
    }
    if (plain && !ascii_word(p.word)) return std::nullopt;
    out += plain ? p.word : p.cased;
  }
  return out;
}

}  // namespace

NeedlePlan plan_needle(std::string_view needle) {
  NeedlePlan plan;
  auto& out = plan.pieces;
  bool cut = false;
  core::fold_words(
      needle,
      [&](const core::FoldedWord& w) {
        plan.separators.push_back(out.empty() ? '\0' : w.spaced ? ' ' : w.joiner);
        cut = cut || w.cut;
        out.push_back({std::string(w.folded), Piece::Kind::exact, std::string(w.cased)});
      },
      kMaxWordBytes + 1);
  if (out.empty()) return plan;
  const std::string folded = core::fold_search(needle);
  const auto* s = reinterpret_cast<const uint8_t*>(folded.data());
  const auto n = static_cast<int32_t>(folded.size());
  UChar32 first = 0, last = 0;
  int32_t i = 0;
  U8_NEXT(s, i, n, first);
  i = n;
  U8_PREV(s, 0, i, last);
  const bool open_left = is_word_char(first), open_right = is_word_char(last);
  bool skipped = false;
  for (std::size_t k = 0; k < out.size(); ++k) {
    const bool l = k == 0 && open_left, r = k + 1 == out.size() && open_right;
    auto& p = out[k];
    p.kind = l && r ? Piece::Kind::infix
             : l    ? Piece::Kind::suffix
             : r    ? Piece::Kind::prefix
                    : Piece::Kind::exact;
    if (p.word.size() >= kMaxWordBytes) p.kind = Piece::Kind::skip;  // the index cut such words
    skipped = skipped || p.kind == Piece::Kind::skip;
  }
  if (!open_left || !open_right || cut || skipped) return plan;
  const std::string cased = core::fold_case(needle);
  const bool plain = core::fold_vietnamese(needle) == cased;  // core::Needle's rule
  auto words = spelled(plan, plain);
  plan.exact = words && *words == cased;
  plan.cased = plan.exact && !plain;
  return plan;
}

std::vector<Piece> substring_pieces(std::string_view needle) {
  return plan_needle(needle).pieces;
}

}  // namespace govmail::search::terms
