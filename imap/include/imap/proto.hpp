// The IMAP wire protocol without I/O and without the store (STYLE.md 3-4): a Receiver that frames
// commands (lines and literals, bounded) and parses them into generic arguments, and typed parsers
// for what the commands carry (sequence sets, FETCH items, sections, SEARCH keys, dates, mailbox
// names in modified UTF-7). Tests feed it bytes whole and one at a time.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.hpp"
#include "core/line_reader.hpp"
#include "core/result.hpp"

namespace govmail::imap {

// One argument as read from the wire. Lists nest; atoms keep brackets ("BODY[1.2]<0.10>").
struct Arg {
  enum class Type { atom, quoted, literal, list };
  Type type = Type::atom;
  std::string value{};      // atom, quoted or literal text
  std::vector<Arg> list{};  // with Type::list
  bool literal8 = false;    // ~{n}: binary literal (APPEND with BINARY)

  bool is_list() const { return type == Type::list; }
  bool is_string() const { return type != Type::list; }  // astring: atom, quoted or literal
  bool is_nil() const;                                   // the atom NIL
  bool operator==(const Arg&) const = default;
};

struct Command {
  std::string tag{};
  std::string name{};  // upper-case; "UID FETCH" gives name "FETCH" with uid set
  bool uid = false;
  std::vector<Arg> args{};
  bool operator==(const Command&) const = default;
};

struct ParseError {
  std::string tag{};  // "*" when the tag itself was unreadable
  std::string reason{};
};

// Parses one assembled command: `lines[i]` is followed by literal `literals[i]` (the line ends
// with its {n} / {n+} / ~{n} marker), the last line by nothing.
Result<Command, ParseError> parse_command(const std::vector<std::string>& lines,
                                          const std::vector<std::string>& literals);

struct ReceiverLimits {
  std::size_t line_max = 65536;             // limits.imap_line_max: each line and their sum
  std::uint64_t literal_max = 50ull << 20;  // limits.imap_literal_max: each literal and their sum
  // Before authenticated(): a stranger gets no "+" for more (limits.imap_preauth_literal_max).
  std::uint64_t preauth_literal_max = 8192;
  // Literals are reserved here when announced, given back once their command was handled
  // (limits.max_inflight_message_bytes); null: not counted.
  core::ByteBudget* budget = nullptr;
};

// Frames commands from bytes: need_more | command | continuation (write "+ ..." for a
// synchronising literal) | error (answer BAD/NO with the tag; fatal closes the connection).
class Receiver {
 public:
  enum class Kind { need_more, command, continuation, error, line };
  struct Event {
    Kind kind = Kind::need_more;
    Command command{};     // with command
    std::string tag{};     // with error
    std::string reason{};  // with error: what to tell the client ("[TOOBIG] ...")
    bool fatal = false;    // with error: the stream is out of sync; close after answering
    bool no = false;       // with error: answer NO (a resource limit), not BAD
    std::string line{};    // with line (next_line)
  };

  explicit Receiver(ReceiverLimits limits);
  void feed(std::string_view bytes) { reader_.feed(bytes); }
  Event next();
  // A raw line (AUTHENTICATE continuation, IDLE's DONE): line | need_more | error (too long).
  Event next_line();
  core::LineReader& reader() { return reader_; }  // for Stream::start_tls
  // The client has logged in: literals up to literal_max from now on.
  void authenticated() { authenticated_ = true; }
  bool idle() const { return lines_.empty() && literal_left_ == 0; }
  // Frees what the commands so far left allocated, before a long wait (IDLE).
  void release_buffers();

 private:
  Event on_line(std::string_view text);
  void reset();

  ReceiverLimits limits_;
  core::LineReader reader_;
  std::vector<std::string> lines_{};
  std::vector<std::string> literals_{};
  std::size_t line_bytes_ = 0;
  std::uint64_t literal_bytes_ = 0;
  std::uint64_t literal_left_ = 0;
  bool in_literal_ = false;
  bool authenticated_ = false;
  core::ByteBudget::Reservation held_{};  // the literals of the command being read or handled
};

// --- sequence sets (RFC 3501 sequence-set; '*' is kStar; "$" is SEARCHRES)
// '*' lies outside the 32-bit numbers: 4294967295 is a number a client may write (nz-number),
// and it names UID 4294967295, not the largest one in use.
constexpr std::uint64_t kStar = UINT64_MAX;
struct SeqRange {
  std::uint64_t first = 1;
  std::uint64_t last = 1;  // may be kStar; first > last is normalised at parse time
  bool operator==(const SeqRange&) const = default;
};
struct SeqSet {
  std::vector<SeqRange> ranges{};
  bool saved = false;  // "$": the last saved SEARCH result
  bool operator==(const SeqSet&) const = default;
  // Membership once '*' is known (the largest number in use). O(ranges): for one number; many
  // go through SeqCursor.
  bool contains(std::uint32_t n, std::uint32_t star) const;
  // '*' resolved against `star`, each range ascending, then sorted and merged: disjoint,
  // ascending, adjacent ranges joined. O(r log r) once per command.
  std::vector<SeqRange> normalised(std::uint32_t star) const;
};
// Membership of many numbers in one set: O(numbers + ranges) when they come ascending (message
// sequence numbers, UIDs), O(log ranges) each otherwise.
class SeqCursor {
 public:
  SeqCursor(const SeqSet& set, std::uint32_t star) : ranges_(set.normalised(star)) {}
  bool contains(std::uint32_t n);

 private:
  std::vector<SeqRange> ranges_;
  std::size_t at_ = 0;      // the first range whose end is not below the last number asked
  std::uint32_t last_ = 0;  // the last number asked
};
std::optional<SeqSet> parse_seq_set(std::string_view text);

// --- FETCH items
struct Section {
  enum class Kind { full, header, header_fields, header_fields_not, text, mime };
  std::string part{};  // "1.2", empty for the whole message
  Kind kind = Kind::full;
  std::vector<std::string> fields{};  // upper-cased, for header_fields(_not)
  bool operator==(const Section&) const = default;
};
struct Partial {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  bool operator==(const Partial&) const = default;
};
struct FetchAtt {
  enum class Kind {
    flags,
    uid,
    internaldate,
    rfc822_size,
    envelope,
    bodystructure,
    body,  // body: no section
    body_section,
    binary,
    binary_size,
    rfc822,
    rfc822_header,
    rfc822_text,
    modseq
  };
  Kind kind = Kind::flags;
  bool peek = false;
  Section section{};
  std::optional<Partial> partial{};
  bool operator==(const FetchAtt&) const = default;
};
// `arg` is one item, a macro (ALL FAST FULL) or a list of items.
Result<std::vector<FetchAtt>, std::string> parse_fetch_atts(const Arg& arg);
// "BODY[1.2.MIME]<0>" as it must appear in the FETCH response.
std::string fetch_att_response_name(const FetchAtt& att);

// --- SEARCH keys (RFC 3501 6.4.4, RFC 9051, CONDSTORE MODSEQ)
struct SearchKey {
  enum class Op {
    all,
    and_,
    or_,
    not_,
    seqset,
    uidset,
    flag,
    unflag,
    keyword,
    unkeyword,
    new_,
    old,
    recent,  // flag/unflag carry `number` as a bit
    before,
    on,
    since,
    sent_before,
    sent_on,
    sent_since,  // dates in `number` (days, UTC midnight)
    larger,
    smaller,
    header,
    body,
    text,
    modseq
  };
  Op op = Op::all;
  std::vector<SearchKey> children{};  // and_ (any count), or_ (2), not_ (1)
  SeqSet set{};
  std::int64_t number = 0;
  std::string name{};   // header field name, keyword
  std::string value{};  // header / body / text needle
};
struct SearchProgram {
  SearchKey key;  // an and_ of the keys given
  std::string charset{};
  // ESEARCH RETURN options (RFC 4731); empty = plain SEARCH answer.
  bool esearch = false;
  bool ret_min = false, ret_max = false, ret_all = false, ret_count = false, ret_save = false;
};
// args: everything after "SEARCH" ("UID SEARCH").
Result<SearchProgram, std::string> parse_search(const std::vector<Arg>& args, std::size_t from = 0);

// --- dates
// "1-Feb-1994" -> unix time of that day 00:00 UTC.
std::optional<std::int64_t> parse_date(std::string_view text);
// "17-Jul-1996 02:44:25 -0700" -> unix time.
std::optional<std::int64_t> parse_date_time(std::string_view text);
std::string format_date_time(std::int64_t unix_time);  // "17-Jul-1996 09:44:25 +0000"

// --- mailbox names (RFC 3501 5.1.3 modified UTF-7)
std::string utf7_encode(std::string_view utf8);
std::optional<std::string> utf7_decode(std::string_view utf7);

// --- response helpers
// A string as a quoted string, or a literal when quoting cannot carry it: CR, LF or NUL, or an
// 8-bit byte unless `utf8` (the client enabled UTF8=ACCEPT, RFC 6855 3; a quoted string is
// 7-bit in RFC 3501 and a client that did not enable it may reject 8-bit in one).
std::string quote_string(std::string_view s, bool utf8 = false);
std::string nstring(const std::optional<std::string>& s, bool utf8 = false);
// Case-insensitive ASCII comparison.
bool iequals(std::string_view a, std::string_view b);
std::string upper(std::string_view s);

}  // namespace govmail::imap
