#include "admin/mail_import.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>

#include "core/text.hpp"

namespace govmail::admin {
namespace {

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

// ">From ", ">>From " ...: a quoted separator (mboxrd).
bool is_quoted_from(std::string_view l) {
  std::size_t i = 0;
  while (i < l.size() && l[i] == '>') ++i;
  return i > 0 && l.substr(i).starts_with("From ");
}

// mutt/Dovecot mbox status headers: Status: R(ead) O(ld); X-Status: A(nswered) F(lagged)
// D(eleted) T (draft).
void status_flags(std::string_view header_line, store::Flags& flags) {
  std::string_view v;
  bool x = false;
  if (starts_with_ci(header_line, "status:")) {
    v = header_line.substr(7);
  } else if (starts_with_ci(header_line, "x-status:")) {
    v = header_line.substr(9);
    x = true;
  } else {
    return;
  }
  for (char c : v) {
    if (!x && c == 'R') flags.system |= store::kSeen;
    if (x && c == 'A') flags.system |= store::kAnswered;
    if (x && c == 'F') flags.system |= store::kFlagged;
    if (x && c == 'D') flags.system |= store::kDeleted;
    if (x && c == 'T') flags.system |= store::kDraft;
  }
}

int month_index(std::string_view m) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < kMonths.size(); ++i)
    if (m == kMonths[i]) return static_cast<int>(i);
  return -1;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 4 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::optional<store::UnixTime> mbox_from_line_date(std::string_view from_line) {
  // "From SENDER Www Mmm dd hh:mm[:ss] [zone] yyyy" (zone sometimes after the year): find the
  // month name followed by a day and a time, and a 4-digit year after it.
  auto w = core::split_words(from_line);
  for (std::size_t i = 0; i + 2 < w.size(); ++i) {
    int mon = month_index(w[i]);
    if (mon < 0 || !all_digits(w[i + 1])) continue;
    std::string_view t = w[i + 2];
    int hh = 0, mm = 0, ss = 0;
    if (std::sscanf(std::string(t).c_str(), "%d:%d:%d", &hh, &mm, &ss) < 2) continue;
    for (std::size_t k = i + 3; k < w.size(); ++k) {
      if (w[k].size() != 4 || !all_digits(w[k])) continue;
      std::tm tm{};
      tm.tm_year = std::stoi(std::string(w[k])) - 1900;
      tm.tm_mon = mon;
      tm.tm_mday = std::stoi(std::string(w[i + 1]));
      tm.tm_hour = hh;
      tm.tm_min = mm;
      tm.tm_sec = ss;
      if (tm.tm_mday < 1 || tm.tm_mday > 31 || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
      return static_cast<store::UnixTime>(timegm(&tm));
    }
  }
  return std::nullopt;
}

void MboxSplitter::feed(std::string_view bytes) {
  std::size_t start = 0;
  while (start < bytes.size()) {
    auto nl = bytes.find('\n', start);
    if (nl == std::string_view::npos) {
      // Bounded: a line longer than a message is dropped with the message it belongs to.
      if (partial_.size() + bytes.size() - start <= max_bytes_ + 2)
        partial_.append(bytes.substr(start));
      else
        oversize_ = true;
      return;
    }
    std::string_view l = bytes.substr(start, nl - start);
    if (!partial_.empty()) {
      partial_.append(l);
      l = partial_;
    }
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    line(l);
    partial_.clear();
    start = nl + 1;
  }
}

void MboxSplitter::finish() {
  if (!partial_.empty()) {
    std::string last = std::move(partial_);
    partial_.clear();
    std::string_view l = last;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    line(l);
  }
  close_message();
}

void MboxSplitter::line(std::string_view l) {
  ++line_no_;
  if (l.starts_with("From ")) {
    close_message();
    started_ = true;
    in_header_ = true;
    oversize_ = false;
    from_line_ = line_no_;
    current_ = ImportedMessage{};
    current_.folder = "INBOX";
    current_.internal_date = mbox_from_line_date(l);
    return;
  }
  if (!started_) return;  // bytes before the first separator are not mail
  if (in_header_) {
    if (l.empty()) in_header_ = false;
    status_flags(l, current_.flags);
  } else if (is_quoted_from(l)) {
    l.remove_prefix(1);
  }
  if (oversize_) return;
  if (current_.raw.size() + l.size() + 2 > max_bytes_) {
    oversize_ = true;
    current_.raw.clear();
    current_.raw.shrink_to_fit();
    return;
  }
  current_.raw.append(l);
  current_.raw.append("\r\n");
}

void MboxSplitter::close_message() {
  if (!started_) return;
  if (oversize_) {
    ++too_big;
    skipped_lines.push_back(from_line_);
  } else {
    // The separator's blank line before the next "From " belongs to the mbox, not the message.
    if (current_.raw.ends_with("\r\n\r\n")) current_.raw.resize(current_.raw.size() - 2);
    if (!current_.raw.empty()) ready_.push_back(std::move(current_));
  }
  current_ = ImportedMessage{};
  oversize_ = false;
  started_ = false;
}

std::optional<ImportedMessage> MboxSplitter::take() {
  if (next_ready_ == ready_.size()) {
    ready_.clear();
    next_ready_ = 0;
    return std::nullopt;
  }
  return std::move(ready_[next_ready_++]);
}

store::Flags maildir_flags(std::string_view file_name) {
  store::Flags f;
  auto info = file_name.rfind(":2,");
  if (info == std::string_view::npos) return f;
  for (char c : file_name.substr(info + 3)) {
    if (c == 'D') f.system |= store::kDraft;
    if (c == 'F') f.system |= store::kFlagged;
    if (c == 'R') f.system |= store::kAnswered;
    if (c == 'S') f.system |= store::kSeen;
    if (c == 'T') f.system |= store::kDeleted;
  }
  return f;
}

std::optional<std::string> maildir_folder(std::string_view dir_name) {
  if (dir_name.empty() || dir_name == ".") return std::string("INBOX");
  if (dir_name.size() < 2 || dir_name[0] != '.' || dir_name == "..") return std::nullopt;
  std::string out(dir_name.substr(1));
  if (out.front() == '.' || out.back() == '.' || out.find("..") != std::string::npos)
    return std::nullopt;
  std::replace(out.begin(), out.end(), '.', '/');
  return out;
}

std::string to_crlf(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() + raw.size() / 32);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) out.push_back('\r');
    out.push_back(raw[i]);
  }
  return out;
}

bool is_maildir(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_directory(p / "cur", ec) &&
         std::filesystem::is_directory(p / "new", ec);
}

std::vector<MaildirFile> scan_maildir(const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, fs::path>> folders;
  if (is_maildir(root)) folders.emplace_back("INBOX", root);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    auto name = e.path().filename().string();
    auto folder = maildir_folder(name);
    if (name.size() > 1 && folder && e.is_directory(ec) && is_maildir(e.path()))
      folders.emplace_back(*folder, e.path());
  }
  std::vector<MaildirFile> out;
  for (const auto& [folder, dir] : folders) {
    std::vector<MaildirFile> files;
    for (const char* sub : {"cur", "new"})
      for (const auto& e : fs::directory_iterator(dir / sub, ec))
        if (e.is_regular_file(ec) && !e.path().filename().string().starts_with("."))
          files.push_back({folder, e.path(), maildir_flags(e.path().filename().string())});
    std::sort(files.begin(), files.end(),
              [](const auto& a, const auto& b) { return a.path.filename() < b.path.filename(); });
    out.insert(out.end(), files.begin(), files.end());
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.folder < b.folder; });
  return out;
}

}  // namespace govmail::admin
