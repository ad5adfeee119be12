#include "store/address.hpp"

#include <cstddef>

#include "mime/address.hpp"

namespace govmail::store {
namespace {

// Tokens of RFC 5322 structured header text (3.2): comments and folding white space are not
// tokens; they only set space_before (and comment, for "user@host (Name)").
enum class Kind { atom, quoted, literal, special, end };

struct Token {
  Kind kind = Kind::end;
  char special = 0;  // one of < > @ , ; : . for Kind::special
  std::string text;  // atom as written, quoted content unescaped, "[literal]" without CFWS
  bool space_before = false;
  std::string comment;  // first comment between the previous token and this one
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// atext (3.2.3), plus every 8-bit byte: RFC 6532 UTF-8 in addresses and names.
bool is_atext(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x80) return true;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  for (char a : std::string_view("!#$%&'*+-/=?^_`{|}~"))
    if (c == a) return true;
  return false;
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  // Every token, ending with one Kind::end; *broken is set when the text is not lexically
  // valid (unclosed quote, comment or literal, a character that fits nowhere).
  std::vector<Token> run(bool* broken) {
    std::vector<Token> out;
    for (;;) {
      Token t;
      skip_cfws(t);
      if (pos_ >= s_.size()) {
        out.push_back(std::move(t));
        break;
      }
      read_token(t);
      out.push_back(std::move(t));
    }
    *broken = broken_;
    return out;
  }

 private:
  void skip_cfws(Token& t) {
    while (pos_ < s_.size()) {
      if (is_space(s_[pos_])) {
        t.space_before = true;
        ++pos_;
      } else if (s_[pos_] == '(') {
        t.space_before = true;
        std::string text = read_comment();
        if (t.comment.empty()) t.comment = trimmed(text);
      } else {
        return;
      }
    }
  }

  static std::string trimmed(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return std::string(s);
  }

  // s_[pos_] == '(': the comment's text (nested comments kept with their parentheses).
  std::string read_comment() {
    std::string text;
    int depth = 0;
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == '\\' && pos_ < s_.size()) {
        text.push_back(s_[pos_++]);
        continue;
      }
      if (c == '(' && depth++ == 0) continue;
      if (c == ')' && --depth == 0) return text;
      text.push_back(c);
    }
    broken_ = true;  // unclosed comment
    return text;
  }

  void read_token(Token& t) {
    const char c = s_[pos_];
    if (c == '"') {
      t.kind = Kind::quoted;
      read_quoted(t.text);
    } else if (c == '[') {
      t.kind = Kind::literal;
      read_literal(t.text);
    } else if (is_atext(c)) {
      t.kind = Kind::atom;
      while (pos_ < s_.size() && is_atext(s_[pos_])) t.text.push_back(s_[pos_++]);
    } else {
      t.kind = Kind::special;
      t.special = c;
      t.text = std::string(1, c);
      ++pos_;
      if (std::string_view("<>@,;:.").find(c) == std::string_view::npos) broken_ = true;
    }
  }

  void read_quoted(std::string& out) {
    ++pos_;
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == '"') return;
      if (c == '\\' && pos_ < s_.size()) {
        out.push_back(s_[pos_++]);
      } else if (c != '\r' && c != '\n') {  // unfolding
        out.push_back(c);
      }
    }
    broken_ = true;  // unclosed quoted string
  }

  void read_literal(std::string& out) {
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '\\' && pos_ < s_.size()) {  // obs-dtext quoted pair: never a ']' that ends it
        c = s_[pos_++];
        if (!is_space(c)) out.push_back(c);
        continue;
      }
      if (!is_space(c)) out.push_back(c);  // white space in a literal is CFWS
      if (c == ']') return;
    }
    broken_ = true;  // unclosed domain literal
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  bool broken_ = false;
};

// Recursive descent over the tokens (3.4 with the obsolete forms of 4.4). On an error it marks
// the list invalid, keeps what it read and resumes at the next ',' or ';'.
class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  void run(AddressList& out) {
    while (!at_end()) {
      if (is_special(',') || is_special(';')) {  // obs-addr-list: empty items
        if (is_special(';')) out.valid = false;  // read as ',' (some clients end lists so)
        ++i_;
        continue;
      }
      address(out);
      if (!at_end() && !is_special(',') && !is_special(';')) {
        out.valid = false;
        skip_item();
      }
    }
  }

 private:
  const Token& cur() const { return t_[i_]; }
  bool at_end() const { return cur().kind == Kind::end; }
  bool is_special(char c) const { return cur().kind == Kind::special && cur().special == c; }
  bool is_word() const { return cur().kind == Kind::atom || cur().kind == Kind::quoted; }

  // Error recovery: to the next item (a stray ';' outside a group is read as ',').
  void skip_item() {
    while (!at_end() && !is_special(',') && !is_special(';')) ++i_;
  }

  // A run of words and dots: a phrase (obs-phrase allows dots) or a local part; which one is
  // decided by what follows.
  std::size_t words() {
    const std::size_t start = i_;
    while (is_word() || is_special('.')) ++i_;
    return start;
  }

  // Phrase text: words joined by one space where CFWS separated them.
  std::string phrase(std::size_t from, std::size_t to) const {
    std::string s;
    for (std::size_t k = from; k < to; ++k) {
      if (k > from && t_[k].space_before) s.push_back(' ');
      s += t_[k].text;
    }
    return s;
  }

  // Local part or domain text: dot-separated words with CFWS dropped; *ok is cleared unless the
  // run is word *("." word).
  std::string dotted(std::size_t from, std::size_t to, bool quoted_ok, bool* ok) const {
    std::string s;
    bool want_word = true;
    for (std::size_t k = from; k < to; ++k) {
      const bool dot = t_[k].kind == Kind::special;
      if (dot == want_word || (!quoted_ok && t_[k].kind == Kind::quoted)) *ok = false;
      want_word = dot;
      for (char c : t_[k].text)
        if (quoted_ok || !is_space(c)) s.push_back(c);  // a domain never shows white space
    }
    if (want_word) *ok = false;  // empty, or ends with a dot
    return s;
  }

  void address(AddressList& out) {
    const std::size_t start = words();
    if (is_special(':')) {
      group(start, out);
    } else {
      mailbox(start, out);
    }
  }

  void group(std::size_t start, AddressList& out) {
    Address g;
    g.mailbox = phrase(start, i_);
    if (g.mailbox->empty()) out.valid = false;
    out.items.push_back(std::move(g));
    ++i_;  // ':'
    while (!at_end() && !is_special(';')) {
      if (is_special(',')) {
        ++i_;
        continue;
      }
      const std::size_t s = words();
      if (is_special(':')) {  // groups do not nest
        out.valid = false;
        ++i_;
        continue;
      }
      mailbox(s, out);
      if (!at_end() && !is_special(',') && !is_special(';')) {
        out.valid = false;
        skip_item();
      }
    }
    if (is_special(';')) {
      ++i_;
    } else {
      out.valid = false;  // group never closed
    }
    out.items.push_back(Address{});
  }

  // After words(): name-addr ("phrase <addr>"), addr-spec, or a bare word list.
  void mailbox(std::size_t start, AddressList& out) {
    Address a;
    if (is_special('<')) {
      const std::string name = phrase(start, i_);
      if (!name.empty()) a.name = name;
      ++i_;
      angle_addr(a, out);
      if (!a.name && a.mailbox->empty() && a.host->empty()) return;  // "<>": nothing to show
    } else if (is_special('@')) {
      addr_spec_from(start, a, out);
      std::string comment = first_comment(start, i_ + 1);  // "user@host (Name)"
      if (!comment.empty()) a.name = std::move(comment);
    } else {
      if (start == i_) {  // nothing usable here
        out.valid = false;
        return;
      }
      a.mailbox = phrase(start, i_);  // no '@': kept as ENVELOPE has always shown it
      a.host = std::string();
      a.name = first_comment(start, i_ + 1);
      if (a.name->empty()) a.name.reset();
      out.valid = false;
    }
    out.items.push_back(std::move(a));
  }

  std::string first_comment(std::size_t from, std::size_t to) const {
    for (std::size_t k = from; k < to && k < t_.size(); ++k)
      if (!t_[k].comment.empty()) return t_[k].comment;
    return {};
  }

  // i_ at '@' after the local part's words [start, i_).
  void addr_spec_from(std::size_t start, Address& a, AddressList& out) {
    bool ok = true;
    a.mailbox = dotted(start, i_, true, &ok);
    ++i_;  // '@'
    a.host = domain(&ok);
    if (!ok) out.valid = false;
  }

  // domain = dot-atom / domain-literal / obs-domain (atoms and dots with CFWS between).
  std::string domain(bool* ok) {
    if (cur().kind == Kind::literal) {
      std::string lit = cur().text;
      ++i_;
      return lit;
    }
    const std::size_t start = words();
    return dotted(start, i_, false, ok);
  }

  // After '<': [obs-route] addr-spec '>'.
  void angle_addr(Address& a, AddressList& out) {
    bool ok = true;
    if (is_special('@')) a.adl = route(&ok);
    const std::size_t start = words();
    if (is_special('@')) {
      addr_spec_from(start, a, out);
    } else {
      a.mailbox = phrase(start, i_);  // "<>" or "<user>": no domain
      a.host = std::string();
      ok = false;
    }
    if (is_special('>')) {
      ++i_;
    } else {
      ok = false;
    }
    if (!ok) out.valid = false;
  }

  // obs-route = obs-domain-list ":"; obs-domain-list = *(CFWS / ",") "@" domain
  // *("," [CFWS] ["@" domain]). Returns "@a,@b".
  std::string route(bool* ok) {
    std::string adl;
    while (is_special('@') || is_special(',')) {
      if (is_special(',')) {
        ++i_;
        continue;
      }
      ++i_;
      if (!adl.empty()) adl.push_back(',');
      adl += "@" + domain(ok);
    }
    if (is_special(':')) {
      ++i_;
    } else {
      *ok = false;
    }
    return adl;
  }

  std::vector<Token> t_;
  std::size_t i_ = 0;
};

}  // namespace

AddressList parse_address_list(std::string_view value) {
  AddressList out;
  bool broken = false;
  Parser p(Lexer(value).run(&broken));
  p.run(out);
  if (broken) out.valid = false;
  return out;
}

std::string addr_spec(const Address& a) {
  if (!a.mailbox || !a.host) return {};
  return a.host->empty() ? *a.mailbox : *a.mailbox + "@" + *a.host;
}

}  // namespace govmail::store

namespace govmail::store::mime {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

}  // namespace

std::vector<std::string> parse_msg_ids(std::string_view s, std::size_t max) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  bool any_angle = false;
  while (pos < s.size() && out.size() < max) {
    const std::size_t open = s.find('<', pos);
    if (open == std::string_view::npos) break;
    any_angle = true;
    const std::size_t close = s.find('>', open + 1);
    if (close == std::string_view::npos) break;
    std::string id;
    for (char c : s.substr(open + 1, close - open - 1)) {
      if (!is_space(c)) id.push_back(c);
    }
    if (!id.empty()) out.push_back(std::move(id));
    pos = close + 1;
  }
  if (!any_angle) {  // "id@host" written without brackets
    std::size_t start = 0;
    while (start < s.size() && out.size() < max) {
      while (start < s.size() && (is_space(s[start]) || s[start] == ',')) ++start;
      std::size_t end = start;
      while (end < s.size() && !is_space(s[end]) && s[end] != ',') ++end;
      if (end > start) out.emplace_back(s.substr(start, end - start));
      start = end;
    }
  }
  return out;
}

}  // namespace govmail::store::mime
