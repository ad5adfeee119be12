// How a message becomes a Xapian document, and how a substring needle becomes index words
// (private to search/; tests include it). Term prefixes:
//   W + B body, S subject, F from, T to, C cc, D bcc, H every header field (decoded): every
//   word case-folded with its marks (core::fold_case's form), with positions;
//   B S F T C D H: the folded word (marks dropped, đ -> d) of the words that carried marks, at
//   the same positions. A word without marks is its own fold, so its W term stands for both:
//   the words of a text without marks are its B and W terms together (one posting list
//   each instead of the same word twice: indexing took a third less time, 2026-12-07).
//   Tone-mark placement variants ("hòa"/"hoà") are told apart by W and met by B; ranked queries
//   give both the accent boost (query.cpp).
//   L + that letter: the field has a word the index cut;
//   X + that letter: the place of a separator other than one space between two words (a
//   position of its own), with the separator when it is one ASCII punctuation character
//   ("XB/" in 123/UBND, "XB" for ", " or a line break): words at positions in a row are one
//   space apart, and "123/UBND-VP" is the phrase 123 XB/ ubnd XB- vp.
//   Q<account>:<message> the unique id term; K<account> the account (a shard holds many).
// Metadata "v<term>": the vocabulary of the word terms (B... S... and W..., one key per term ever
// indexed in the shard), which prefix and infix needles scan: walking the terms themselves
// reads their posting lists too (26 ms for the 2,307 body words of 100,000 messages); and
// "r<prefix><word reversed>", the same words backwards, in which the words that end with a
// suffix needle's piece are one range. A word stays in both after its last document goes
// (expanding to it finds nothing).
#pragma once
#include <xapian.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "search/index.hpp"

namespace govmail::search::terms {

// The texts IMAP SEARCH verifies candidates on are values, not the document data: Xapian
// stores values uncompressed, and inflating the data was most of a wide search's time.
enum Slot : Xapian::valueno {
  kDateSlot = 0,
  kSizeSlot = 1,
  kMessageSlot = 2,
  kHeaderSlot = 3,  // the raw header block
  kCasedSlot = 4,   // core::fold_case(body)
  kPlainSlot = 5,   // core::fold_vietnamese(body), unset when the body is ASCII
};

// Bumped when the terms change: an index of another format is rebuilt from the store.
inline constexpr int kIndexFormat = 6;

std::string folded_prefix(Field f);
std::string cased_prefix(Field f);
std::string cut_term(Field f);
std::string separator_term(Field f, char joiner = '\0');
std::string unique_term(store::AccountId account, store::MessageId message);
std::string account_term(store::AccountId account);

struct DocInput {
  store::AccountId account = 0;
  store::MessageId message = 0;
  std::int64_t date = 0;
  std::int64_t size = 0;
  std::string envelope_json;
  std::string header_block;
  std::string body;
};

Xapian::Document make_document(const DocInput& in);
// The vocabulary's key of a term; a document's word terms added to a set of them.
std::string vocabulary_key(std::string_view term);
// The key of a term's word spelled backwards (its bytes) under "r" and the term's prefix: the
// words that end with a piece are one range of these keys ("1234" in "51234" as "4321...").
std::string reversed_vocabulary_key(std::string_view term);
void add_vocabulary(const Xapian::Document& doc, std::set<std::string>& words);
// The texts for verification into a document (values, and the data "Va"/"Vu": ASCII body or
// not), and out of one; a document of an older index keeps "<header bytes>\n" header block and
// decoded body as its data.
void set_texts(Xapian::Document& doc, std::string_view header_block, std::string_view body);
StoredText stored_texts(const Xapian::Document& doc, bool header = true, bool plain = true);
store::MessageId message_of(const Xapian::Document& doc);

// What the envelope gives each field (the strings IMAP SEARCH SUBJECT/FROM/... compare with).
std::string envelope_subject(std::string_view envelope_json);
std::string envelope_addresses(std::string_view envelope_json, Field f);

// A needle's folded words and where each may sit inside an indexed word: a substring of text
// starts inside a word (suffix), spans whole words, and ends inside one (prefix); a needle of
// one word may be anywhere inside one (infix). skip: no constraint can be drawn (a cut word).
struct Piece {
  enum class Kind { exact, prefix, suffix, infix, skip };
  std::string word;
  Kind kind = Kind::exact;
  std::string cased;  // core::fold_case of the word
  bool operator==(const Piece&) const = default;
};
std::vector<Piece> substring_pieces(std::string_view needle);

// The pieces, and whether the index answers the needle exactly: the messages whose words fit
// are those whose folded text holds the needle (core::Needle's rule), no verification needed.
// So when the needle is words, each one space or one ASCII punctuation character after the one
// before, with no separator at either end:
//   - without marks and ASCII: its words against the words of the text without marks (the
//     folded words B... and the cased words W... of words without marks);
//   - with marks: its words against the cased words (W...), so "số" is not found in "so", nor
//     "ơ" in "ợ" (another letter in NFC).
// The pieces put together are compared with the needle's own fold, so a needle they do not
// spell exactly is never called exact. Messages with a cut word (L...) stay to be verified.
struct NeedlePlan {
  std::vector<Piece> pieces;
  // Per piece, what separates it from the one before: ' ', an ASCII punctuation character, or
  // '\0' for anything else (and for the first piece).
  std::vector<char> separators;
  bool exact = false;
  bool cased = false;  // exact through the cased words (the needle has marks)
};
NeedlePlan plan_needle(std::string_view needle);

inline constexpr std::size_t kMaxWordBytes = 64;

}  // namespace govmail::search::terms
