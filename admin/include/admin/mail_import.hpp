// Reading existing mail for `govmail admin import-mail` (moving a province off another server):
// mbox files (mboxrd/mboxo, as Thunderbird, mutt, Dovecot and Google Takeout write them) and
// Maildir/Maildir++ trees, into messages with their folder, flags and arrival time. Sans-I/O
// where it can be: the mbox splitter takes bytes in chunks, the Maildir parts take names.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/types.hpp"

namespace govmail::admin {

struct ImportedMessage {
  std::string folder;  // "INBOX", or a '/' separated mailbox name
  std::string raw;     // CRLF line ends
  store::Flags flags;
  std::optional<store::UnixTime> internal_date;
};

// Splits an mbox into messages. Feed it the file in chunks; each complete message comes back
// from take(). A message starts at a line beginning "From " (at the start of the file or after
// a line end); its date (the asctime-style end of that line) becomes the internal date. Body
// lines ">From ", ">>From " ... lose one '>' (mboxrd; also right for mboxo's ">From "). Line
// ends become CRLF. Status:/X-Status: headers (mutt, Dovecot) give \Seen, \Answered,
// \Flagged, \Deleted, \Draft and are kept in the message. A message over max_bytes is dropped
// and counted in too_big (its "From " line number in skipped_lines).
class MboxSplitter {
 public:
  explicit MboxSplitter(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  void feed(std::string_view bytes);
  void finish();  // end of file: the last message becomes available
  std::optional<ImportedMessage> take();

  std::size_t too_big = 0;
  std::vector<std::size_t> skipped_lines;
  bool saw_separator() const { return started_; }

 private:
  void line(std::string_view l);  // one line without its end
  void close_message();

  std::size_t max_bytes_;
  std::string partial_;  // bytes of an unfinished line
  bool started_ = false;
  bool in_header_ = false;
  bool oversize_ = false;
  std::size_t line_no_ = 0, from_line_ = 0;
  ImportedMessage current_;
  std::vector<ImportedMessage> ready_;
  std::size_t next_ready_ = 0;
};

// The date of an mbox "From " line ("From sender@x Mon Nov  2 10:00:00 2026", optional zone
// or seconds missing), read as UTC (the line has no reliable zone: a zone given is ignored);
// nullopt when it has none we can read.
std::optional<store::UnixTime> mbox_from_line_date(std::string_view from_line);

// Flags of a Maildir file name's info part (":2,FRS"): D Draft, F Flagged, R Answered,
// S Seen, T Deleted; lower-case letters are keywords other tools set and are ignored.
store::Flags maildir_flags(std::string_view file_name);

// The mailbox of a Maildir++ folder directory name: "" or "." -> INBOX, ".Sent" -> "Sent",
// ".A.B" -> "A/B"; nullopt for a name that is not a Maildir++ folder.
std::optional<std::string> maildir_folder(std::string_view dir_name);

// LF or CRLF (or a mix) -> CRLF; a lone CR is kept.
std::string to_crlf(std::string_view raw);

// Every message file of a Maildir (cur/ and new/) and of its Maildir++ subfolders, in a stable
// order (folder, then file name). Does not read the files.
struct MaildirFile {
  std::string folder;
  std::filesystem::path path;
  store::Flags flags;
};
std::vector<MaildirFile> scan_maildir(const std::filesystem::path& root);
bool is_maildir(const std::filesystem::path& p);

}  // namespace govmail::admin
