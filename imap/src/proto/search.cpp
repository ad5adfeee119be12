// SEARCH program (RFC 3501 6.4.4, RFC 9051 6.4.4, RFC 4731 RETURN, RFC 7162 MODSEQ).
#include <charconv>

#include "imap/proto.hpp"
#include "store/types.hpp"

namespace govmail::imap {
namespace {

using Op = SearchKey::Op;
constexpr int kMaxDepth = 32;

class SearchParser {
 public:
  SearchParser(const std::vector<Arg>& args, std::size_t pos) : args_(args), pos_(pos) {}

  bool done() const { return pos_ >= args_.size(); }
  std::size_t pos() const { return pos_; }
  const Arg* peek() const { return done() ? nullptr : &args_[pos_]; }
  const Arg* take() { return done() ? nullptr : &args_[pos_++]; }

  Result<SearchKey, std::string> key(int depth) {
    if (depth > kMaxDepth) return unexpected(std::string("Search keys nested too deep"));
    const Arg* a = take();
    if (!a) return unexpected(std::string("Missing search key"));
    if (a->is_list()) {
      SearchKey k{.op = Op::and_};
      SearchParser inner(a->list, 0);
      while (!inner.done()) {
        auto c = inner.key(depth + 1);
        if (!c) return c;
        k.children.push_back(std::move(*c));
      }
      if (k.children.empty()) return unexpected(std::string("Empty search list"));
      return k;
    }
    if (a->type != Arg::Type::atom) return unexpected(std::string("Bad search key"));
    auto name = upper(a->value);
    if (auto flag = system_flag(name)) return *flag;
    if (name == "ALL") return SearchKey{.op = Op::all};
    if (name == "NEW") return SearchKey{.op = Op::new_};
    if (name == "OLD") return SearchKey{.op = Op::old};
    if (name == "RECENT") return SearchKey{.op = Op::recent};
    if (name == "NOT" || name == "OR") {
      SearchKey k{.op = name == "OR" ? Op::or_ : Op::not_};
      for (int i = 0; i < (name == "OR" ? 2 : 1); ++i) {
        auto c = key(depth + 1);
        if (!c) return c;
        k.children.push_back(std::move(*c));
      }
      return k;
    }
    static const std::pair<const char*, Op> dates[] = {
        {"BEFORE", Op::before},          {"ON", Op::on},          {"SINCE", Op::since},
        {"SENTBEFORE", Op::sent_before}, {"SENTON", Op::sent_on}, {"SENTSINCE", Op::sent_since}};
    for (auto& [n, op] : dates)
      if (name == n) return date_key(op);
    static const char* headers[] = {"BCC", "CC", "FROM", "SUBJECT", "TO"};
    for (auto* h : headers)
      if (name == h) {
        auto v = string_arg();
        if (!v) return unexpected(std::string("Missing string for ") + h);
        return SearchKey{.op = Op::header, .name = h, .value = *v};
      }
    if (name == "HEADER") {
      auto f = string_arg();
      auto v = f ? string_arg() : std::nullopt;
      if (!v) return unexpected(std::string("HEADER needs a field name and a string"));
      return SearchKey{.op = Op::header, .name = upper(*f), .value = *v};
    }
    if (name == "BODY" || name == "TEXT") {
      auto v = string_arg();
      if (!v) return unexpected(std::string("Missing string"));
      return SearchKey{.op = name == "BODY" ? Op::body : Op::text, .value = *v};
    }
    if (name == "KEYWORD" || name == "UNKEYWORD") {
      auto v = take();
      if (!v || v->type != Arg::Type::atom) return unexpected(std::string("Missing keyword"));
      return SearchKey{.op = name == "KEYWORD" ? Op::keyword : Op::unkeyword, .name = v->value};
    }
    if (name == "LARGER" || name == "SMALLER") {
      auto n = number_arg();
      if (!n) return unexpected(std::string("Missing number"));
      return SearchKey{.op = name == "LARGER" ? Op::larger : Op::smaller, .number = *n};
    }
    if (name == "UID") {
      auto v = take();
      auto set = v && v->type == Arg::Type::atom ? parse_seq_set(v->value) : std::nullopt;
      if (!set) return unexpected(std::string("Bad UID set"));
      return SearchKey{.op = Op::uidset, .set = *set};
    }
    if (name == "MODSEQ") {
      // Optional entry name and type (RFC 7162 3.1.5) are accepted and ignored.
      if (peek() && peek()->type != Arg::Type::atom) pos_ += 2;
      auto n = number_arg();
      if (!n) return unexpected(std::string("Bad MODSEQ"));
      return SearchKey{.op = Op::modseq, .number = *n};
    }
    if (auto set = parse_seq_set(a->value)) return SearchKey{.op = Op::seqset, .set = *set};
    return unexpected("Unknown search key " + name.substr(0, 40));
  }

  std::optional<std::string> string_arg() {
    const Arg* a = take();
    if (!a || !a->is_string()) return std::nullopt;
    return a->value;
  }

 private:
  static std::optional<SearchKey> system_flag(const std::string& name) {
    static const std::pair<const char*, std::uint16_t> flags[] = {{"SEEN", store::kSeen},
                                                                  {"ANSWERED", store::kAnswered},
                                                                  {"FLAGGED", store::kFlagged},
                                                                  {"DELETED", store::kDeleted},
                                                                  {"DRAFT", store::kDraft}};
    for (auto& [n, bit] : flags) {
      if (name == n) return SearchKey{.op = Op::flag, .number = bit};
      if (name == std::string("UN") + n) return SearchKey{.op = Op::unflag, .number = bit};
    }
    return std::nullopt;
  }

  Result<SearchKey, std::string> date_key(Op op) {
    auto v = string_arg();
    auto d = v ? parse_date(*v) : std::nullopt;
    if (!d) return unexpected(std::string("Bad date (expected d-Mon-yyyy)"));
    return SearchKey{.op = op, .number = *d};
  }

  std::optional<std::int64_t> number_arg() {
    auto v = string_arg();
    if (!v || v->empty()) return std::nullopt;
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || p != v->data() + v->size() || n < 0) return std::nullopt;
    return n;
  }

  const std::vector<Arg>& args_;
  std::size_t pos_;
};

bool parse_return(const Arg& list, SearchProgram& prog) {
  if (!list.is_list()) return false;
  prog.esearch = true;
  for (const auto& o : list.list) {
    auto n = upper(o.value);
    if (n == "MIN")
      prog.ret_min = true;
    else if (n == "MAX")
      prog.ret_max = true;
    else if (n == "ALL")
      prog.ret_all = true;
    else if (n == "COUNT")
      prog.ret_count = true;
    else if (n == "SAVE")
      prog.ret_save = true;
    else
      return false;
  }
  // "RETURN ()" means ALL (RFC 4731 3.1).
  if (!prog.ret_min && !prog.ret_max && !prog.ret_count && !prog.ret_save) prog.ret_all = true;
  return true;
}

}  // namespace

Result<SearchProgram, std::string> parse_search(const std::vector<Arg>& args, std::size_t from) {
  SearchProgram prog;
  prog.key.op = Op::and_;
  SearchParser p(args, from);
  if (p.peek() && p.peek()->type == Arg::Type::atom && iequals(p.peek()->value, "RETURN")) {
    p.take();
    const Arg* list = p.take();
    if (!list || !parse_return(*list, prog)) return unexpected(std::string("Bad RETURN options"));
  }
  if (p.peek() && p.peek()->type == Arg::Type::atom && iequals(p.peek()->value, "CHARSET")) {
    p.take();
    auto cs = p.string_arg();
    if (!cs) return unexpected(std::string("Missing charset"));
    prog.charset = upper(*cs);
  }
  while (!p.done()) {
    auto k = p.key(0);
    if (!k) return unexpected(k.error());
    prog.key.children.push_back(std::move(*k));
  }
  if (prog.key.children.empty()) return unexpected(std::string("Missing search key"));
  return prog;
}

}  // namespace govmail::imap
