#include "smtp/reply_parser.hpp"

#include <algorithm>
#include <cctype>

#include "core/text.hpp"

namespace govmail::smtp::client {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// "d.ddd.ddd" (RFC 3463: class 2/4/5, subject and detail 1-3 digits).
std::size_t enhanced_length(std::string_view t) {
  if (t.size() < 5 || !is_digit(t[0]) || t[1] != '.') return 0;
  std::size_t i = 2;
  for (int part = 0; part < 2; ++part) {
    const std::size_t start = i;
    while (i < t.size() && is_digit(t[i]) && i - start < 4) ++i;
    const std::size_t n = i - start;
    if (n == 0 || n > 3) return 0;
    if (part == 0) {
      if (i >= t.size() || t[i] != '.') return 0;
      ++i;
    }
  }
  if (i < t.size() && t[i] != ' ') return 0;
  return i;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool parse_reply_line(std::string_view line, ReplyLine& out) {
  if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]))
    return false;
  if (line.size() > 3 && line[3] != ' ' && line[3] != '-') return false;
  out.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  out.last = line.size() == 3 || line[3] == ' ';
  out.text = line.size() > 4 ? line.substr(4) : std::string_view();
  out.enhanced = {};
  if (const std::size_t n = enhanced_length(out.text); n > 0 && out.text[0] == line[0]) {
    out.enhanced = out.text.substr(0, n);
    out.text.remove_prefix(std::min(out.text.size(), n + 1));
  }
  return true;
}

ReplyParser::ReplyParser() : ReplyParser(Limits{}) {}

ReplyParser::ReplyParser(Limits limits)
    : lines_(limits.max_line, core::LineEnding::crlf_or_lf), limits_(limits) {}

void ReplyParser::feed(std::string_view bytes) {
  if (error_ == Error::none) lines_.feed(bytes);
}

ReplyParser::Status ReplyParser::fail(Error e) {
  error_ = e;
  lines_.discard_buffered();
  return Status::error;
}

ReplyParser::Status ReplyParser::next() {
  if (error_ != Error::none) return Status::error;
  for (;;) {
    const core::LineReader::Event ev = lines_.next();
    if (ev.kind == core::LineReader::Kind::need_more) return Status::need_more;
    if (ev.kind == core::LineReader::Kind::too_long) return fail(Error::line_too_long);
    ReplyLine line;
    if (!parse_reply_line(ev.text, line)) return fail(Error::syntax);
    if (line.code < 200 || line.code > 599) return fail(Error::bad_code);
    if (lines_in_reply_ > 0 && line.code != partial_.code) return fail(Error::inconsistent_code);
    if (++lines_in_reply_ > limits_.max_lines) return fail(Error::too_many_lines);
    if (lines_in_reply_ == 1) {
      partial_ = Reply{line.code, std::string(line.enhanced), std::string(line.text)};
    } else {
      partial_.text += '\n';
      partial_.text += line.text;
    }
    if (!line.last) continue;
    reply_ = std::move(partial_);
    partial_ = Reply{};
    lines_in_reply_ = 0;
    return Status::complete;
  }
}

std::string_view ReplyParser::error_text() const {
  switch (error_) {
    case Error::none:
      return "no error";
    case Error::line_too_long:
      return "remote sent an over-long reply line";
    case Error::too_many_lines:
      return "remote sent a reply with too many lines";
    case Error::syntax:
      return "remote sent a malformed reply";
    case Error::bad_code:
      return "remote sent a reply code outside 2xx-5xx";
    case Error::inconsistent_code:
      return "remote sent a multi-line reply with inconsistent codes";
  }
  return "remote sent a malformed reply";
}

bool Capabilities::has_auth(std::string_view mechanism) const {
  return std::find(auth.begin(), auth.end(), upper(mechanism)) != auth.end();
}

Capabilities parse_ehlo(const Reply& reply) {
  Capabilities caps;
  caps.esmtp = true;
  std::string_view text = reply.text;
  bool first = true;
  while (!text.empty() || first) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const std::vector<std::string_view> w = core::split_words(line);
    if (first) {
      first = false;
      if (!w.empty()) caps.server_name = std::string(w[0]);
      continue;  // the greeting line carries no extension
    }
    if (w.empty()) continue;
    // "AUTH=LOGIN PLAIN" is the pre-standard form some servers still send.
    std::string keyword = upper(w[0]);
    std::vector<std::string_view> params(w.begin() + 1, w.end());
    if (keyword.rfind("AUTH=", 0) == 0) {
      params.insert(params.begin(), w[0].substr(5));
      keyword = "AUTH";
    }
    if (keyword == "PIPELINING") {
      caps.pipelining = true;
    } else if (keyword == "SIZE") {
      caps.size = true;
      if (!params.empty() && params[0].size() <= 19 &&
          std::all_of(params[0].begin(), params[0].end(), is_digit)) {
        std::uint64_t n = 0;
        for (char c : params[0]) n = n * 10 + static_cast<std::uint64_t>(c - '0');
        caps.size_limit = n;
      }
    } else if (keyword == "8BITMIME") {
      caps.eightbitmime = true;
    } else if (keyword == "SMTPUTF8") {
      caps.smtputf8 = true;
    } else if (keyword == "CHUNKING") {
      caps.chunking = true;
    } else if (keyword == "STARTTLS") {
      caps.starttls = true;
    } else if (keyword == "DSN") {
      caps.dsn = true;
    } else if (keyword == "ENHANCEDSTATUSCODES") {
      caps.enhancedstatuscodes = true;
    } else if (keyword == "AUTH") {
      for (std::string_view m : params) {
        std::string mech = upper(m);
        if (!mech.empty() && !caps.has_auth(mech)) caps.auth.push_back(std::move(mech));
      }
    }
  }
  return caps;
}

}  // namespace govmail::smtp::client
