// A command assembled from its lines and literals, read into generic arguments (as Dovecot's
// imap-parser does); the commands interpret them with the typed parsers.
#include <cctype>

#include "imap/proto.hpp"

namespace govmail::imap {
namespace {

constexpr int kMaxListDepth = 32;

bool is_atom_char(unsigned char c) {
  // '\\' is allowed: flags ("\\Seen") are read as atoms, as Dovecot does.
  return c > ' ' && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '"';
}

class Lexer {
 public:
  Lexer(const std::vector<std::string>& lines, const std::vector<std::string>& literals)
      : lines_(lines), literals_(literals) {}

  bool at_end() const { return line_ == lines_.size() - 1 && pos_ >= cur().size(); }
  bool at_line_end() const { return pos_ >= cur().size(); }
  char peek() const { return at_line_end() ? '\0' : cur()[pos_]; }
  void skip() { ++pos_; }

  // Reads an atom-like word up to SP, '(' or ')' ("UID", "1:*", "BODY[HEADER.FIELDS (A)]<0.5>").
  std::string word() {
    std::string out;
    while (!at_line_end()) {
      unsigned char c = cur()[pos_];
      // A closed bracket may hold spaces and parentheses (a FETCH section); an unclosed '[' is
      // an ordinary ATOM-CHAR ("a[" is a valid mailbox name, RFC 3501 9).
      if (c == '[') {
        auto close = bracket_end();
        if (close != std::string::npos) {
          out.append(cur(), pos_, close + 1 - pos_);
          pos_ = close + 1;
          continue;
        }
      }
      if (!is_atom_char(c)) break;
      out += static_cast<char>(c);
      ++pos_;
    }
    return out;
  }

  Result<Arg, std::string> arg(int depth) {
    char c = peek();
    if (c == '(') return list(depth);
    if (c == '"') return quoted();
    if (c == '{' || (c == '~' && pos_ + 1 < cur().size() && cur()[pos_ + 1] == '{'))
      return literal(c == '~');
    auto w = word();
    if (w.empty()) return unexpected(std::string("Unexpected character"));
    return Arg{.type = Arg::Type::atom, .value = std::move(w)};
  }

  // Arguments separated by single spaces until ')' (in a list) or the end of the command.
  Result<std::vector<Arg>, std::string> args(int depth, bool in_list) {
    std::vector<Arg> out;
    for (;;) {
      if (in_list && peek() == ')') return out;
      if (!in_list && at_end()) return out;
      // Called after the command name, or after a list's first item: a space comes first.
      if (peek() != ' ') return unexpected(std::string("Expected a space between arguments"));
      ++pos_;
      if (!in_list && at_end()) return out;  // tolerate one trailing space
      auto a = arg(depth);
      if (!a) return unexpected(a.error());
      out.push_back(std::move(*a));
    }
  }

 private:
  const std::string& cur() const { return lines_[line_]; }

  std::size_t bracket_end() const {
    int depth = 0;
    for (std::size_t i = pos_; i < cur().size(); ++i) {
      if (cur()[i] == '[') ++depth;
      if (cur()[i] == ']' && --depth == 0) return i;
    }
    return std::string::npos;
  }

  Result<Arg, std::string> list(int depth) {
    if (depth >= kMaxListDepth) return unexpected(std::string("Lists nested too deep"));
    ++pos_;
    Arg a{.type = Arg::Type::list};
    if (peek() == ')') {
      ++pos_;
      return a;
    }
    auto items = first_then_rest(depth + 1);
    if (!items) return unexpected(items.error());
    a.list = std::move(*items);
    if (peek() != ')') return unexpected(std::string("Missing ')'"));
    ++pos_;
    return a;
  }

  Result<std::vector<Arg>, std::string> first_then_rest(int depth) {
    auto first = arg(depth);
    if (!first) return unexpected(first.error());
    auto rest = args(depth, true);
    if (!rest) return unexpected(rest.error());
    rest->insert(rest->begin(), std::move(*first));
    return rest;
  }

  Result<Arg, std::string> quoted() {
    ++pos_;
    Arg a{.type = Arg::Type::quoted};
    while (!at_line_end()) {
      char c = cur()[pos_++];
      if (c == '"') return a;
      if (c == '\\') {
        if (at_line_end()) break;
        c = cur()[pos_++];
        if (c != '"' && c != '\\') return unexpected(std::string("Bad escape in quoted string"));
      }
      if (c == '\0') return unexpected(std::string("NUL in quoted string"));
      a.value += c;
    }
    return unexpected(std::string("Unterminated quoted string"));
  }

  Result<Arg, std::string> literal(bool binary) {
    auto close = cur().find('}', pos_);
    if (close != cur().size() - 1 || line_ + 1 >= lines_.size())
      return unexpected(std::string("Literal marker not at the end of a line"));
    Arg a{.type = Arg::Type::literal, .value = literals_[line_], .literal8 = binary};
    if (!binary && a.value.find('\0') != std::string::npos)
      return unexpected(std::string("NUL in a literal (use BINARY)"));
    ++line_;
    pos_ = 0;
    return a;
  }

  const std::vector<std::string>& lines_;
  const std::vector<std::string>& literals_;
  std::size_t line_ = 0;
  std::size_t pos_ = 0;
};

bool valid_tag(std::string_view tag) {
  if (tag.empty()) return false;
  for (unsigned char c : tag)
    if (!is_atom_char(c) || c == '*' || c == '%' || c == '+' || c == '\\') return false;
  return true;
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

}  // namespace

bool Arg::is_nil() const {
  return type == Type::atom && iequals(value, "NIL");
}

Result<Command, ParseError> parse_command(const std::vector<std::string>& lines,
                                          const std::vector<std::string>& literals) {
  if (lines.empty() || literals.size() + 1 != lines.size())
    return unexpected(ParseError{"*", "Empty command"});
  Lexer lx(lines, literals);
  Command cmd;
  cmd.tag = lx.word();
  if (!valid_tag(cmd.tag)) return unexpected(ParseError{"*", "Invalid tag"});
  auto read_name = [&]() -> std::optional<std::string> {
    if (lx.peek() != ' ') return std::nullopt;
    lx.skip();
    auto n = lx.word();
    if (!valid_name(n)) return std::nullopt;
    return upper(n);
  };
  auto name = read_name();
  if (!name) return unexpected(ParseError{cmd.tag, "Missing or invalid command name"});
  cmd.name = std::move(*name);
  if (cmd.name == "UID") {
    name = read_name();
    if (!name) return unexpected(ParseError{cmd.tag, "Missing command after UID"});
    cmd.name = std::move(*name);
    cmd.uid = true;
  }
  auto args = lx.args(0, false);
  if (!args) return unexpected(ParseError{cmd.tag, args.error()});
  cmd.args = std::move(*args);
  return cmd;
}

}  // namespace govmail::imap
