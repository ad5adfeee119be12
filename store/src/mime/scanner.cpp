#include "mime/scanner.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <unordered_map>

namespace govmail::store::mime {
namespace {

constexpr std::size_t kMaxWarnings = 50;
constexpr std::size_t kMaxBoundaryLength = 200;  // RFC 2046 allows 70; be lenient, stay bounded

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_wsp(s.front()) || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (is_wsp(s.back()) || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// Skips white space and (nested) comments from pos.
std::size_t skip_cfws(std::string_view s, std::size_t pos) {
  int depth = 0;
  while (pos < s.size()) {
    const char c = s[pos];
    if (depth > 0) {
      if (c == '\\')
        ++pos;
      else if (c == '(')
        ++depth;
      else if (c == ')')
        --depth;
      ++pos;
    } else if (c == '(') {
      ++depth, ++pos;
    } else if (is_wsp(c) || c == '\r' || c == '\n') {
      ++pos;
    } else {
      break;
    }
  }
  return pos;
}

// RFC 2045 parameters after the value: name=value pairs, values unquoted, order kept.
Params parse_params(std::string_view s, std::size_t pos) {
  Params out;
  while (pos < s.size()) {
    pos = skip_cfws(s, pos);
    if (pos < s.size() && s[pos] == ';') {
      ++pos;
      continue;
    }
    const std::size_t name_start = pos;
    while (pos < s.size() && s[pos] != '=' && s[pos] != ';') ++pos;
    std::string_view name = trim(s.substr(name_start, pos - name_start));
    if (pos >= s.size() || s[pos] == ';') {
      continue;  // a bare word without '=': ignored, as GMime does
    }
    ++pos;  // '='
    pos = skip_cfws(s, pos);
    std::string value;
    if (pos < s.size() && s[pos] == '"') {
      ++pos;
      while (pos < s.size() && s[pos] != '"') {
        if (s[pos] == '\\' && pos + 1 < s.size()) ++pos;
        value.push_back(s[pos++]);
      }
      if (pos < s.size()) ++pos;  // closing quote
      while (pos < s.size() && s[pos] != ';') ++pos;
    } else {
      const std::size_t start = pos;
      while (pos < s.size() && s[pos] != ';' && s[pos] != '(') ++pos;
      value = std::string(trim(s.substr(start, pos - start)));
      while (pos < s.size() && s[pos] != ';') ++pos;
    }
    if (!name.empty()) out.emplace_back(std::string(name), std::move(value));
  }
  return out;
}

bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 32 && u < 127 &&
         std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

const Header* find_header(const Node& node, std::string_view name) {
  for (const Header& h : node.headers) {
    if (iequals(h.name, name)) return &h;
  }
  return nullptr;
}

const std::string* find_param(const Params& params, std::string_view name) {
  for (const auto& [n, v] : params) {
    if (iequals(n, name)) return &v;
  }
  return nullptr;
}

ParsedType parse_content_type(std::string_view value) {
  ParsedType out;
  std::size_t pos = skip_cfws(value, 0);
  const std::size_t type_start = pos;
  while (pos < value.size() && is_token_char(value[pos])) ++pos;
  out.type = to_lower(value.substr(type_start, pos - type_start));
  pos = skip_cfws(value, pos);
  if (pos < value.size() && value[pos] == '/') {
    pos = skip_cfws(value, pos + 1);
    const std::size_t sub_start = pos;
    while (pos < value.size() && is_token_char(value[pos])) ++pos;
    out.subtype = to_lower(value.substr(sub_start, pos - sub_start));
  }
  out.valid = !out.type.empty() && !out.subtype.empty();
  const std::size_t semi = value.find(';', pos);
  if (semi != std::string_view::npos) out.params = parse_params(value, semi);
  return out;
}

ParsedType parse_disposition(std::string_view value) {
  ParsedType out;
  std::size_t pos = skip_cfws(value, 0);
  const std::size_t start = pos;
  while (pos < value.size() && is_token_char(value[pos])) ++pos;
  out.type = to_lower(value.substr(start, pos - start));
  out.valid = !out.type.empty();
  const std::size_t semi = value.find(';', pos);
  if (semi != std::string_view::npos) out.params = parse_params(value, semi);
  return out;
}

std::size_t Tree::count_lines(std::string_view raw, std::size_t begin, std::size_t end) const {
  if (end <= begin) return 0;
  const auto first = std::lower_bound(lf_positions.begin(), lf_positions.end(), begin);
  const auto last = std::lower_bound(lf_positions.begin(), lf_positions.end(), end);
  const auto lfs = static_cast<std::size_t>(last - first);
  return lfs + (raw[end - 1] != '\n' ? 1 : 0);
}

namespace {

enum class Phase {
  headers,           // collecting the part's header lines
  leaf,              // body lines of a leaf, until an enclosing boundary
  multipart_open,    // preamble or between parts: boundary registered
  multipart_closed,  // epilogue after the close delimiter
  wrapper,           // message/rfc822 whose embedded message is above on the stack
  skipped,           // a part past max_parts: not described, scanned to its end
};

struct Frame {
  int node;  // -1 for skipped
  Phase phase;
};

class Scanner {
 public:
  Scanner(std::string_view raw, const MimeLimits& limits) : raw_(raw), limits_(limits) {}

  Tree run() {
    new_node(-1, 0, 0);
    tree_.nodes[0].is_message_root = true;
    frames_.push_back({0, Phase::headers});
    std::size_t pos = 0;
    while (pos < raw_.size()) {
      const char* nl =
          static_cast<const char*>(std::memchr(raw_.data() + pos, '\n', raw_.size() - pos));
      std::size_t line_end = raw_.size();
      std::size_t content_end = raw_.size();
      if (nl != nullptr) {
        const auto lf = static_cast<std::size_t>(nl - raw_.data());
        tree_.lf_positions.push_back(lf);
        line_end = lf + 1;
        content_end = (lf > pos && raw_[lf - 1] == '\r') ? lf - 1 : lf;
      }
      handle_line(pos, content_end, line_end);
      pos = line_end;
    }
    while (!frames_.empty()) close_top(raw_.size(), true);
    post_process();
    if (dropped_warnings_ > 0)
      tree_.warnings.push_back(std::to_string(dropped_warnings_) + " more warnings not shown");
    return std::move(tree_);
  }

 private:
  void warn(std::string text) {
    if (tree_.warnings.size() < kMaxWarnings) {
      tree_.warnings.push_back(std::move(text));
    } else {
      ++dropped_warnings_;
    }
  }

  int new_node(int parent, std::size_t header_offset, std::size_t depth) {
    Node n;
    n.parent = parent;
    n.header_offset = n.body_offset = n.end_offset = header_offset;
    n.depth = depth;
    tree_.nodes.push_back(std::move(n));
    const int id = static_cast<int>(tree_.nodes.size() - 1);
    if (parent >= 0) tree_.nodes[static_cast<std::size_t>(parent)].children.push_back(id);
    node_frame_.push_back(0);
    return id;
  }

  void push_frame(int node, Phase phase) {
    if (node >= 0) node_frame_[static_cast<std::size_t>(node)] = frames_.size();
    frames_.push_back({node, phase});
    if (phase == Phase::headers) {
      have_header_ = false;
      header_count_ = 0;
    }
  }

  void handle_line(std::size_t ls, std::size_t ce, std::size_t le) {
    if (!active_.empty() && ce - ls >= 2 && raw_[ls] == '-' && raw_[ls + 1] == '-' &&
        ce - ls <= kMaxBoundaryLength + 4 + 64) {
      if (match_boundary(ls, ce, le)) return;
    }
    const Frame& top = frames_.back();
    if (top.phase == Phase::headers) header_line(top.node, ls, ce, le);
  }

  // A delimiter line: "--" boundary ["--"] followed only by transport padding (RFC 2046).
  bool match_boundary(std::size_t ls, std::size_t ce, std::size_t le) {
    std::string_view s = raw_.substr(ls + 2, ce - ls - 2);
    while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
    int best = -1;
    bool best_close = false;
    auto consider = [&](std::string_view candidate, bool close) {
      auto it = active_.find(std::string(candidate));
      if (it == active_.end() || it->second.empty()) return;
      const int node = it->second.back();
      if (best < 0 || node_frame_[static_cast<std::size_t>(node)] >
                          node_frame_[static_cast<std::size_t>(best)]) {
        best = node;
        best_close = close;
      }
    };
    consider(s, false);
    if (s.size() >= 2 && s.substr(s.size() - 2) == "--") consider(s.substr(0, s.size() - 2), true);
    if (best < 0) return false;
    on_boundary(best, best_close, ls, le);
    return true;
  }

  // Offset where a part ends when the delimiter line starts at ls: the line break before the
  // delimiter belongs to the delimiter (RFC 2046 5.1.1).
  std::size_t end_before(std::size_t ls) const {
    if (ls >= 2 && raw_[ls - 1] == '\n' && raw_[ls - 2] == '\r') return ls - 2;
    if (ls >= 1 && raw_[ls - 1] == '\n') return ls - 1;
    return ls;
  }

  void on_boundary(int multipart, bool close, std::size_t ls, std::size_t le) {
    const std::size_t frame_index = node_frame_[static_cast<std::size_t>(multipart)];
    const std::size_t x = end_before(ls);
    while (frames_.size() > frame_index + 1) close_top(x, false);
    if (close) {
      unregister(multipart);
      frames_.back().phase = Phase::multipart_closed;
      return;
    }
    if (tree_.nodes.size() >= limits_.max_parts) {
      if (!parts_warned_) {
        warn("more than max_parts (" + std::to_string(limits_.max_parts) +
             ") parts: the rest are not described");
        parts_warned_ = true;
      }
      push_frame(-1, Phase::skipped);
      return;
    }
    const Node& parent = tree_.nodes[static_cast<std::size_t>(multipart)];
    const int child = new_node(multipart, le, parent.depth + 1);
    push_frame(child, Phase::headers);
  }

  // Ends the top frame at offset x (a boundary of an enclosing multipart, or the end of input).
  void close_top(std::size_t x, bool at_eof) {
    const Frame f = frames_.back();
    frames_.pop_back();
    if (f.node < 0) return;
    Node& n = tree_.nodes[static_cast<std::size_t>(f.node)];
    if (f.phase == Phase::headers) {
      n.body_offset = std::max(n.header_offset, x);
      analyse(f.node, /*with_body=*/false);
      if (!at_eof)
        warn("part at offset " + std::to_string(n.header_offset) +
             ": header block cut by a boundary");
    }
    n.end_offset = std::max(x, n.body_offset);
    if (!n.children.empty()) {
      // A child whose header block ended right at the delimiter ends after x: stay around it.
      const Node& last = tree_.nodes[static_cast<std::size_t>(n.children.back())];
      n.end_offset = std::max(n.end_offset, last.end_offset);
    }
    if (f.phase == Phase::multipart_open) {
      unregister(f.node);
      warn("multipart at offset " + std::to_string(n.header_offset) + ": no closing boundary");
    }
  }

  void unregister(int node) {
    const Node& n = tree_.nodes[static_cast<std::size_t>(node)];
    const std::string* b = find_param(n.params, "boundary");
    if (b == nullptr) return;
    auto it = active_.find(*b);
    if (it == active_.end()) return;
    auto& stack = it->second;
    stack.erase(std::remove(stack.begin(), stack.end(), node), stack.end());
    if (stack.empty()) active_.erase(it);
  }

  void header_line(int node, std::size_t ls, std::size_t ce, std::size_t le) {
    Node& n = tree_.nodes[static_cast<std::size_t>(node)];
    if (ce == ls) {
      end_headers(node, le);
      return;
    }
    const char first = raw_[ls];
    if (is_wsp(first)) {  // folded continuation
      if (have_header_) n.headers.back().value.append(raw_.substr(ls, ce - ls));
      return;
    }
    std::string_view line = raw_.substr(ls, ce - ls);
    const std::size_t colon = line.find(':');
    std::string_view name =
        colon == std::string_view::npos ? std::string_view() : line.substr(0, colon);
    while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
    const bool valid = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return static_cast<unsigned char>(c) > 32 && static_cast<unsigned char>(c) < 127;
    });
    if (!valid) {
      if (node == 0 && n.headers.empty() && header_count_ == 0 && line.substr(0, 5) == "From ") {
        return;  // mbox separator line
      }
      warn("part at offset " + std::to_string(n.header_offset) +
           ": malformed header line, body starts there");
      end_headers(node, ls);
      // The line now belongs to the body; an embedded message starts with it as a header line.
      if (frames_.back().phase == Phase::headers && frames_.back().node != node)
        header_line(frames_.back().node, ls, ce, le);
      return;
    }
    ++header_count_;
    if (n.headers.size() >= limits_.max_headers) {
      if (header_count_ == limits_.max_headers + 1)
        warn("part at offset " + std::to_string(n.header_offset) + ": more than max_headers (" +
             std::to_string(limits_.max_headers) + ")");
      have_header_ = false;
      return;
    }
    n.headers.push_back({std::string(name), std::string(line.substr(colon + 1))});
    have_header_ = true;
  }

  void end_headers(int node, std::size_t body_offset) {
    tree_.nodes[static_cast<std::size_t>(node)].body_offset = body_offset;
    have_header_ = false;
    header_count_ = 0;
    const std::size_t frame = frames_.size() - 1;
    const Phase phase = analyse(node, /*with_body=*/true);  // may push the embedded message
    frames_[frame].phase = phase;
  }

  // Reads Content-Type and Content-Transfer-Encoding, decides how the body is scanned, and for a
  // container that may be descended into, sets it up.
  Phase analyse(int id, bool with_body) {
    Node& n = tree_.nodes[static_cast<std::size_t>(id)];
    for (Header& h : n.headers) h.value = std::string(trim(h.value));
    set_content_type(n);
    if (const Header* cte = find_header(n, "Content-Transfer-Encoding")) {
      std::string enc(trim(cte->value));
      for (char& c : enc) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (!enc.empty()) n.encoding = std::move(enc);
    }
    const bool descend_multipart = n.type == "multipart";
    const bool descend_message = n.type == "message" &&
                                 (n.subtype == "rfc822" || n.subtype == "global") &&
                                 n.encoding != "BASE64" && n.encoding != "QUOTED-PRINTABLE";
    if (!descend_multipart && !descend_message) return Phase::leaf;
    if (!with_body) {
      n.opaque = true;
      return Phase::leaf;
    }
    if (n.depth >= limits_.max_depth) {
      n.opaque = true;
      if (!depth_warned_) {
        warn("nesting deeper than max_depth (" + std::to_string(limits_.max_depth) +
             "): inner parts kept as opaque leaves");
        depth_warned_ = true;
      }
      return Phase::leaf;
    }
    if (descend_multipart) {
      const std::string* boundary = find_param(n.params, "boundary");
      if (boundary == nullptr || boundary->empty() || boundary->size() > kMaxBoundaryLength) {
        warn("multipart at offset " + std::to_string(n.header_offset) + ": no usable boundary");
        n.opaque = true;
        return Phase::leaf;
      }
      n.kind = NodeKind::multipart;
      active_[*boundary].push_back(id);
      return Phase::multipart_open;
    }
    if (tree_.nodes.size() >= limits_.max_parts) {
      n.opaque = true;
      return Phase::leaf;
    }
    n.kind = NodeKind::message;
    const std::size_t depth = n.depth;
    const std::size_t body = n.body_offset;
    const int embedded = new_node(id, body, depth + 1);  // invalidates n
    tree_.nodes[static_cast<std::size_t>(embedded)].is_message_root = true;
    push_frame(embedded, Phase::headers);
    return Phase::wrapper;
  }

  void set_content_type(Node& n) {
    const Header* ct = find_header(n, "Content-Type");
    if (ct != nullptr) {
      ParsedType parsed = parse_content_type(ct->value);
      if (parsed.valid) {
        n.type = std::move(parsed.type);
        n.subtype = std::move(parsed.subtype);
        n.params = std::move(parsed.params);
        return;
      }
      warn("part at offset " + std::to_string(n.header_offset) + ": invalid Content-Type");
    }
    // RFC 2045 default, or RFC 2046 5.1.5 inside multipart/digest.
    const Node* parent = n.parent >= 0 ? &tree_.nodes[static_cast<std::size_t>(n.parent)] : nullptr;
    if (parent != nullptr && parent->kind == NodeKind::multipart && parent->subtype == "digest") {
      n.type = "message", n.subtype = "rfc822";
    } else {
      n.params = {{"charset", "us-ascii"}};
    }
  }

  // A multipart in which no part was found cannot be rendered as one (IMAP needs >= 1 part).
  void post_process() {
    for (Node& n : tree_.nodes) {
      if (n.kind == NodeKind::multipart && n.children.empty()) {
        n.kind = NodeKind::leaf;
        n.opaque = true;
        warn("multipart at offset " + std::to_string(n.header_offset) + ": no parts found");
      }
    }
  }

  std::string_view raw_;
  const MimeLimits& limits_;
  Tree tree_;
  std::vector<Frame> frames_;
  std::vector<std::size_t> node_frame_;  // frame index of each node while it is on the stack
  std::unordered_map<std::string, std::vector<int>> active_;  // boundary -> open multiparts
  bool have_header_ = false;
  std::size_t header_count_ = 0;
  bool parts_warned_ = false;
  bool depth_warned_ = false;
  std::size_t dropped_warnings_ = 0;
};

}  // namespace

Tree scan(std::string_view raw, const MimeLimits& limits) {
  return Scanner(raw, limits).run();
}

}  // namespace govmail::store::mime
