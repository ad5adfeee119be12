// How a message becomes a Xapian document, and how a substring needle becomes index words
// (private to search/; tests include it). Term prefixes:
//   B body, S subject, F from, T to, C cc, D bcc, H every header field (decoded): folded words,
//   with positions; Z + that letter: the accent key of words that carried marks (same positions);
//   Q<account>:<message> the unique id term; K<account> the account (a shard holds many).
#pragma once
#include <xapian.h>

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

std::string folded_prefix(Field f);
std::string accent_prefix(Field f);
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
  bool operator==(const Piece&) const = default;
};
std::vector<Piece> substring_pieces(std::string_view needle);

inline constexpr std::size_t kMaxWordBytes = 64;

}  // namespace govmail::search::terms
